"""The ERP port over one Business Central company (API v2.0).

What the standard API lacks is declared, not papered over: project planning, cost forecasts and
contract terms (the `projects` entity has only id, number and displayName) need an AL extension
with custom API pages, so contract_objects and revenue_schedules are False and those calls raise
ConfigurationError. https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/resources/dynamics_project
"""

from __future__ import annotations

from concord.domain import (
    BatchLimits,
    DraftInvoices,
    ErpCapabilities,
    LineRefs,
)
from concord.ports import ErpPort

from ..kit.gaps import NoProjectAccounting
from ..kit.polled import PolledChanges
from .client import BATCH_LIMIT, BusinessCentralClient
from .customers import BusinessCentralCustomers
from .invoices import BusinessCentralInvoices
from .polling import ModifiedPoller

CAPABILITIES = ErpCapabilities(
    draft_invoices=DraftInvoices.NATIVE,
    line_refs=LineRefs.REGISTRY,
    revenue_schedules=False,
    contract_objects=False,
    billing_terms_per_customer=True,
    batch_limits=BatchLimits(invoice_lines=BATCH_LIMIT, record_reads=BATCH_LIMIT),
)
_NO_PROJECT_ACCOUNTING = (
    "business central: the standard API v2.0 has no project planning, cost forecasts or "
    "contract terms (an AL extension with custom API pages is needed); "
    "capabilities.contract_objects is False"
)
_NO_REVENUE_SCHEDULES = (
    "business central: the standard API v2.0 exposes no deferral templates or schedules; "
    "capabilities.revenue_schedules is False"
)


class BusinessCentralErp(
    PolledChanges, BusinessCentralCustomers, BusinessCentralInvoices, NoProjectAccounting, ErpPort
):
    no_project_accounting = _NO_PROJECT_ACCOUNTING
    no_revenue_schedules = _NO_REVENUE_SCHEDULES

    def __init__(self, client: BusinessCentralClient, local_currency: str) -> None:
        self.client = client
        self.local_currency = local_currency
        self._poller = ModifiedPoller(client)

    @property
    def capabilities(self) -> ErpCapabilities:
        return CAPABILITIES
