"""The ERP port over one Xero organisation (Accounting API 2.0).

What the Accounting API lacks is declared, not papered over: projects, cost forecasts and
contract terms live in Xero's separate Projects API (projects, tasks, time; no contract terms
or cost forecasts Concord could write), and Xero keeps no revenue schedules, so
contract_objects and revenue_schedules are False and those calls raise ConfigurationError.
https://developer.xero.com/documentation/api/projects/overview
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
from .client import BATCH_LIMIT, XeroClient
from .customers import XeroCustomers
from .invoices import XeroInvoices
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
    "xero: the Accounting API has no project cost forecasts or contract terms (Xero Projects "
    "holds projects, tasks and time only); capabilities.contract_objects is False"
)
_NO_REVENUE_SCHEDULES = "xero: Xero keeps no revenue schedules; capabilities.revenue_schedules is False"


class XeroErp(PolledChanges, XeroCustomers, XeroInvoices, NoProjectAccounting, ErpPort):
    no_project_accounting = _NO_PROJECT_ACCOUNTING
    no_revenue_schedules = _NO_REVENUE_SCHEDULES

    def __init__(self, client: XeroClient, account_code: str) -> None:
        self.client = client
        self.account_code = account_code
        self._poller = ModifiedPoller(client)

    @property
    def capabilities(self) -> ErpCapabilities:
        return CAPABILITIES
