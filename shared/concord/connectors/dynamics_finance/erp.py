"""Dynamics 365 Finance as Concord's ERP: customers (CustomersV3), billing on free text invoices
(a native draft), receivables from posted invoices and customer payment journals, change
capture by polling, revenue schedules on sales orders, with the capabilities that say so."""

from __future__ import annotations

from concord.domain import BatchLimits, DraftInvoices, ErpCapabilities, LineRefs
from concord.ports import ChangeSource, ErpPort

from ..kit.polled import PolledChanges
from .billing import INVOICE_LINE_BATCH_LIMIT, FinanceBilling
from .client import FinanceClient
from .connection import FinanceConnection
from .customers import FinanceCustomers
from .polling import ODataPoller
from .project_accounting import FinanceProjectAccounting
from .receivables import FinanceReceivables


def capabilities(connection: FinanceConnection) -> ErpCapabilities:
    """Free text invoices are native drafts; lines are added by $batch change sets. Line refs are
    stored where the environment has the extension field, else the registry's. Revenue schedules
    go on sales order lines (project_accounting.py); contract objects are not mapped yet; terms of
    payment are per customer."""
    return ErpCapabilities(
        draft_invoices=DraftInvoices.NATIVE,
        line_refs=LineRefs.STORED if connection.fields.concord_ref else LineRefs.REGISTRY,
        revenue_schedules=True,
        contract_objects=False,
        billing_terms_per_customer=True,
        batch_limits=BatchLimits(invoice_lines=INVOICE_LINE_BATCH_LIMIT),
    )


class FinanceErp(PolledChanges, FinanceCustomers, FinanceBilling, FinanceReceivables, FinanceProjectAccounting,
                 ErpPort):
    """ErpPort over one environment's OData service."""

    def __init__(self, client: FinanceClient, connection: FinanceConnection) -> None:
        super().__init__(client, connection)
        self._poller: ChangeSource = ODataPoller(client, self.companies())
        self._capabilities = capabilities(connection)

    @property
    def capabilities(self) -> ErpCapabilities:
        return self._capabilities
