"""QuickBooks Online as Concord's ERP: customers, billing (an estimate per project as the
emulated draft), receivables and change capture (CDC), with the capabilities that say so.

Declared gaps: QuickBooks Online has no project cost forecasts, contract terms or revenue
schedules in its Accounting API (Projects are a partner-gated GraphQL API), so
contract_objects and revenue_schedules are False and those calls raise ConfigurationError.
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
from .billing import INVOICE_LINE_LIMIT
from .client import BATCH_LIMIT, QuickBooksClient
from .customers import QuickBooksCustomers
from .polling import CdcPoller
from .receivables import QuickBooksReceivables

CAPABILITIES = ErpCapabilities(
    draft_invoices=DraftInvoices.EMULATED,
    line_refs=LineRefs.REGISTRY,
    revenue_schedules=False,
    contract_objects=False,
    billing_terms_per_customer=True,
    batch_limits=BatchLimits(invoice_lines=INVOICE_LINE_LIMIT, record_reads=BATCH_LIMIT),
)
_NO_PROJECT_ACCOUNTING = (
    "quickbooks: the Accounting API has no project cost forecasts or contract terms; "
    "capabilities.contract_objects is False"
)
_NO_REVENUE_SCHEDULES = (
    "quickbooks: the Accounting API exposes no revenue recognition schedules; capabilities.revenue_schedules is False"
)


class QuickBooksErp(PolledChanges, QuickBooksCustomers, QuickBooksReceivables, NoProjectAccounting, ErpPort):
    no_project_accounting = _NO_PROJECT_ACCOUNTING
    no_revenue_schedules = _NO_REVENUE_SCHEDULES

    def __init__(self, client: QuickBooksClient, home_currency: str) -> None:
        self.client = client
        self.home_currency = home_currency
        self.opened_drafts = {}
        self.item_ids = {}
        self._poller = CdcPoller(client)

    @property
    def capabilities(self) -> ErpCapabilities:
        return CAPABILITIES
