"""The ERP: Tryton's `erp` database (account_invoice, sale...) behind Concord's ErpPort, one
module per role (customers, billing, receivables, project accounting) over a shared session.
"""

from __future__ import annotations

from concord.domain import BatchLimits, DraftInvoices, ErpCapabilities, LineRefs, ServiceItem
from concord.ports import ErpPort

from ..catalogue import SERVICE_ITEM_TYPE, read_service_item
from ..contacts import TrytonContacts
from ..names import MODIFIED_AT, Model
from ..polling import RecordTypes, TrytonPolled
from .billing import INVOICE_LINE_BATCH_LIMIT, TrytonErpBilling
from .customers import TrytonErpCustomers
from .project_accounting import TrytonErpProjectAccounting
from .receivables import TrytonErpReceivables
from .session import ErpSession

# Move lines that may pay a customer invoice: its payment lines (the pay wizard), or lines of
# another move reconciled with a receivable (a booked bank receipt); received_payment decides.
PAYMENT_CANDIDATES: list[object] = [
    "OR",
    [["invoice_payment", "!=", None], ["invoice_payment.type", "=", "out"]],
    [["reconciliation", "!=", None], ["account.type.receivable", "=", True], ["credit", ">", 0]],
]
# changes_since: Customers (every party), customer invoices or payments modified after `cursor`,
# oldest first, each with its created_at (the record's create_date: with the id, what
# names a once-per-record event as concord_sync's push names it).
#
# An invoice's write_date moves when it is posted and when it becomes paid (the state
# changes), not when a partial payment is linked to it: hence "payment", the move lines
# that may pay a customer invoice (its payment lines, and lines of other moves
# reconciled with a receivable account), by last_modified_at; posted_invoice and
# received_payment tell which of the records are the event. A line linked to an invoice
# long after it was created (without a reconciliation) is not seen again.
RECORD_TYPES = RecordTypes(
    "ERP",
    {
        "customer": (Model.PARTY, [], MODIFIED_AT),
        "invoice": (Model.INVOICE, [["type", "=", "out"]], MODIFIED_AT),
        "payment": (Model.MOVE_LINE, [PAYMENT_CANDIDATES], MODIFIED_AT),
        "service_item": SERVICE_ITEM_TYPE,
    },
)
# Tryton 8.2's account_invoice has draft invoices and posts them; concord_sync stores each
# line's concord_ref and keeps contract terms (concord.project.terms); revenue recognition
# schedules are not part of the modules activated in `erp` (nor of account_invoice).
CAPABILITIES = ErpCapabilities(
    draft_invoices=DraftInvoices.NATIVE,
    line_refs=LineRefs.STORED,
    revenue_schedules=False,
    contract_objects=True,
    billing_terms_per_customer=True,
    batch_limits=BatchLimits(invoice_lines=INVOICE_LINE_BATCH_LIMIT),
    service_items=True,  # service products (catalogue.py)
    contacts=True,  # the customer's people (contacts.py)
)


class TrytonErp(
    TrytonPolled,
    TrytonErpCustomers,
    TrytonErpBilling,
    TrytonErpReceivables,
    TrytonErpProjectAccounting,
    TrytonContacts,
    ErpPort,
):  # and ServiceItemSource (service_item)
    """ErpPort over one TrytonRpcClient of the `erp` database (not thread-safe, as the client)."""

    record_types = RECORD_TYPES

    @property
    def capabilities(self) -> ErpCapabilities:
        return CAPABILITIES

    def service_item(self, record_id: str) -> ServiceItem | None:
        """ServiceItemSource: a product template, priced in the company's currency."""
        return read_service_item(self.client, record_id, self.company_currency()[0])


__all__ = [
    "CAPABILITIES",
    "INVOICE_LINE_BATCH_LIMIT",
    "ErpSession",
    "TrytonErp",
    "TrytonErpBilling",
    "TrytonErpCustomers",
    "TrytonErpProjectAccounting",
    "TrytonErpReceivables",
]
