"""The ERP port over one Workday tenant (Workday Web Services, Revenue_Management).

Declared gaps rather than no-ops: customer contracts, billing schedules, revenue recognition
schedules and project plans exist in Workday (Submit_Customer_Contract, Put_Project_Plan...)
but this connector does not write them yet, so contract_objects and revenue_schedules are
False and those calls raise ConfigurationError.
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
from .client import WorkdayClient
from .customers import WorkdayCustomers
from .invoices import LINES_PER_CALL, WorkdayInvoices
from .polling import TransactionLogPoller

CAPABILITIES = ErpCapabilities(
    draft_invoices=DraftInvoices.NATIVE,  # saved unsubmitted (status Draft)
    line_refs=LineRefs.REGISTRY,  # a line's Memo shows the ref, but WWS finds no line by it
    revenue_schedules=False,
    contract_objects=False,
    billing_terms_per_customer=True,  # the customer's Payment_Terms_Reference
    batch_limits=BatchLimits(invoice_lines=LINES_PER_CALL),
)
_NO_PROJECT_ACCOUNTING = (
    "workday: this connector writes no customer contracts or project plans "
    "(Submit_Customer_Contract, Put_Project_Plan); capabilities.contract_objects is False"
)
_NO_REVENUE_SCHEDULES = (
    "workday: this connector writes no revenue recognition schedules; capabilities.revenue_schedules is False"
)


class WorkdayErp(PolledChanges, WorkdayCustomers, WorkdayInvoices, NoProjectAccounting, ErpPort):
    no_project_accounting = _NO_PROJECT_ACCOUNTING
    no_revenue_schedules = _NO_REVENUE_SCHEDULES

    def __init__(self, client: WorkdayClient, company_id: str) -> None:
        self.client = client
        self.company_id = company_id
        self._poller = TransactionLogPoller(client)

    @property
    def capabilities(self) -> ErpCapabilities:
        return CAPABILITIES
