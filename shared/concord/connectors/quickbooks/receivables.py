"""ErpReceivables over QuickBooks Online: invoices (posted on create) and payments. Concord knows
an invoice by its draft (billing.py); an invoice converted from a Concord estimate is reported
under that draft id, so its InvoicePosted and PaymentReceived reach the project the draft was
opened for. An invoice made otherwise is reported under its own Id.
https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/invoice
https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/payment
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from concord.clock import utc_now
from concord.domain import InvoiceRecord, PostedInvoice, ReceivedPayment
from concord.events.types import Money

from ..kit.errors import NotFound
from .billing import QuickBooksBilling, draft_of
from .client import Record


def _day(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(str(value)[:10]) if value else None


def _linked(record: Record, txn_type: str) -> str | None:
    return next((str(t["TxnId"]) for t in record.get("LinkedTxn") or [] if t.get("TxnType") == txn_type), None)


class QuickBooksReceivables(QuickBooksBilling):
    """Over billing: a draft's invoice is found through its estimate."""

    def get_invoice(self, invoice_id: str) -> InvoiceRecord:
        """The invoice; a draft not yet converted is its estimate, unposted, due in full."""
        invoice = self._invoice(invoice_id)
        if invoice is None:
            estimate = self.estimate_of(invoice_id) if not invoice_id.isdigit() else None
            if estimate is None:
                raise NotFound(f"quickbooks: no invoice or draft {invoice_id!r}")
            total = self._money(estimate.get("TotalAmt"), estimate)
            return InvoiceRecord(invoice_id=invoice_id, number=None, posted=False, total=total, amount_due=total)
        return InvoiceRecord(
            invoice_id=invoice_id,
            number=invoice.get("DocNumber"),
            posted=True,
            total=self._money(invoice.get("TotalAmt"), invoice),
            amount_due=self._money(invoice.get("Balance"), invoice),
            due_on=_day(invoice.get("DueDate")),
        )

    def posted_invoice(self, invoice_id: str) -> PostedInvoice | None:
        invoice = self._invoice(invoice_id)
        if invoice is None:
            return None
        invoiced_on = _day(invoice.get("TxnDate")) or utc_now().date()
        return PostedInvoice(
            invoice_id=self._concord_id(invoice),
            number=invoice.get("DocNumber") or str(invoice["Id"]),
            customer_id=str(invoice["CustomerRef"]["value"]),
            invoiced_on=invoiced_on,
            due_on=_day(invoice.get("DueDate")) or invoiced_on,
            total=self._money(invoice.get("TotalAmt"), invoice),
        )

    def received_payment(self, payment_id: str) -> ReceivedPayment | None:
        """The payment as applied to its first invoice, with what is left due on that invoice."""
        if not payment_id.isdigit():
            return None
        try:
            payment = self.client.read("Payment", payment_id)
        except NotFound:
            return None
        applied = [line for line in payment.get("Line") or [] if _linked(line, "Invoice")]
        if not applied:
            return None
        invoice = self._invoice(str(_linked(applied[0], "Invoice")))
        if invoice is None:
            return None
        return ReceivedPayment(
            payment_id=payment_id,
            invoice_id=self._concord_id(invoice),
            amount=self._money(applied[0].get("Amount"), payment),
            received_on=_day(payment.get("TxnDate")) or utc_now().date(),
            invoice_amount_due=self._money(invoice.get("Balance"), invoice),
        )

    # ---------------------------------------------------------------- helpers

    def _invoice(self, invoice_id: str) -> Record | None:
        """The invoice by Id, or the one converted from a draft's estimate (its LinkedTxn)."""
        if not invoice_id.isdigit():
            estimate = self.estimate_of(invoice_id)
            converted = _linked(estimate, "Invoice") if estimate else None
            if converted is None:
                return None
            invoice_id = converted
        try:
            return self.client.read("Invoice", invoice_id)
        except NotFound:
            return None

    def _concord_id(self, invoice: Record) -> str:
        estimate_id = _linked(invoice, "Estimate")
        if estimate_id:
            try:
                draft = draft_of(self.client.read("Estimate", estimate_id))
            except NotFound:
                draft = None
            if draft:
                return draft
        return str(invoice["Id"])

    def _money(self, amount: Any, record: Record) -> Money:
        currency = (record.get("CurrencyRef") or {}).get("value") or self.home_currency
        return Money(amount=Decimal(str(amount or 0)), currency=currency)
