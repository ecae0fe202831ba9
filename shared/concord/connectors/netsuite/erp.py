"""NetSuite as Concord's ERP: customers, billing (a sales order per project as the emulated
draft), receivables and change capture, with the capabilities that say so."""

from __future__ import annotations

from concord.domain import BatchLimits, DraftInvoices, ErpCapabilities, LineRefs
from concord.ports import ChangeSource, ErpPort

from ..kit.polled import PolledChanges
from .billing import INVOICE_LINE_BATCH_LIMIT, NetSuiteBilling
from .client import NetSuiteClient
from .connection import NetSuiteConnection
from .customers import NetSuiteCustomers
from .polling import SuiteQlPoller
from .project_accounting import NetSuiteProjectAccounting
from .receivables import NetSuiteReceivables


def capabilities(connection: NetSuiteConnection) -> ErpCapabilities:
    """Invoices post on save: the draft is a sales order. Line refs are stored where the account
    has the custom transaction column, else the registry's. Revenue recognition and contract
    objects are not mapped (see project_accounting.py); payment terms are per customer."""
    return ErpCapabilities(
        draft_invoices=DraftInvoices.EMULATED,
        line_refs=LineRefs.STORED if connection.fields.concord_ref_column else LineRefs.REGISTRY,
        revenue_schedules=False,
        contract_objects=False,
        billing_terms_per_customer=True,
        batch_limits=BatchLimits(invoice_lines=INVOICE_LINE_BATCH_LIMIT),
    )


class NetSuiteErp(
    PolledChanges, NetSuiteCustomers, NetSuiteBilling, NetSuiteReceivables, NetSuiteProjectAccounting, ErpPort
):
    """ErpPort over one account's REST record service and SuiteQL."""

    def __init__(self, client: NetSuiteClient, connection: NetSuiteConnection) -> None:
        super().__init__(client, connection)
        self._poller: ChangeSource = SuiteQlPoller(client, connection.time_zone)
        self._capabilities = capabilities(connection)

    @property
    def capabilities(self) -> ErpCapabilities:
        return self._capabilities
