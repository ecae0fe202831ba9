"""ErpReceivables over NetSuite: invoices (posted on save) and customer payments, read through
the record service. Concord knows an invoice by its draft, the sales order's external id (see
billing.py); an invoice transformed from such an order is reported under that id, so the
InvoicePosted and PaymentReceived of it reach the project the draft was opened for. An invoice
made otherwise is reported under its own internal id.
https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1545141500.html
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from concord.clock import utc_now
from concord.domain import InvoiceRecord, PostedInvoice, ReceivedPayment
from concord.events.types import Money
from concord.ports import ErpReceivables

from ..kit.errors import NotFound
from .billing import INVOICE, SALES_ORDER
from .client import suiteql_ids, suiteql_text
from .session import ErpSession

INVOICE_FIELDS = ("tranId", "tranDate", "dueDate", "total", "amountRemaining", "currency", "entity", "createdFrom")


def _day(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(str(value)[:10]) if value else None


def _ref_id(value: Any) -> str | None:
    return str(value["id"]) if isinstance(value, dict) and value.get("id") else None


class NetSuiteReceivables(ErpSession, ErpReceivables):
    def get_invoice(self, invoice_id: str) -> InvoiceRecord:
        """The invoice; a draft not yet billed is its sales order, unposted, due in full."""
        invoice = self._invoice(invoice_id)
        if invoice is None:
            order = self._order_totals(invoice_id)
            total = self._money(order["foreigntotal"], str(order["currency"]))
            return InvoiceRecord(invoice_id=invoice_id, number=None, posted=False, total=total, amount_due=total)
        currency = str(_ref_id(invoice.get("currency")))
        return InvoiceRecord(
            invoice_id=invoice_id,
            number=invoice.get("tranId"),
            posted=True,
            total=self._money(invoice.get("total"), currency),
            amount_due=self._money(invoice.get("amountRemaining"), currency),
            due_on=_day(invoice.get("dueDate")),
        )

    def posted_invoice(self, invoice_id: str) -> PostedInvoice | None:
        """The invoice (every NetSuite invoice is posted), None for a draft not yet billed."""
        invoice = self._invoice(invoice_id)
        if invoice is None:
            return None
        currency = str(_ref_id(invoice.get("currency")))
        invoiced_on = _day(invoice.get("tranDate")) or utc_now().date()
        return PostedInvoice(
            invoice_id=self._concord_id(invoice),
            number=invoice.get("tranId") or str(invoice["id"]),
            customer_id=str(_ref_id(invoice.get("entity"))),
            invoiced_on=invoiced_on,
            due_on=_day(invoice.get("dueDate")) or invoiced_on,
            total=self._money(invoice.get("total"), currency),
        )

    def received_payment(self, payment_id: str) -> ReceivedPayment | None:
        """The customer payment as applied to its first invoice (the `apply` sublist), with what
        is left due on that invoice; None when it is applied to no invoice."""
        if not payment_id.isdigit():
            return None
        try:
            payment = self.client.get("customerPayment", payment_id, expand=True)
        except NotFound:
            return None
        applied = [line for line in (payment.get("apply") or {}).get("items") or [] if line.get("apply")]
        if not applied:
            return None
        invoice = self._invoice(str(_ref_id(applied[0].get("doc"))))
        if invoice is None:
            return None
        currency = str(_ref_id(payment.get("currency")) or _ref_id(invoice.get("currency")))
        return ReceivedPayment(
            payment_id=payment_id,
            invoice_id=self._concord_id(invoice),
            amount=self._money(applied[0].get("amount"), currency),
            received_on=_day(payment.get("tranDate")) or utc_now().date(),
            invoice_amount_due=self._money(invoice.get("amountRemaining"), currency),
        )

    # ---------------------------------------------------------------- helpers

    def _invoice(self, invoice_id: str) -> dict[str, Any] | None:
        """The invoice record by internal id, or the one transformed from a draft's sales order."""
        if not invoice_id.isdigit():
            rows = self.client.query_page(
                "SELECT DISTINCT tl.transaction AS id FROM transactionline tl "
                "JOIN transaction t ON t.id = tl.transaction "
                f"JOIN transaction o ON o.id = tl.createdfrom WHERE t.type = '{INVOICE}' AND o.type = '{SALES_ORDER}' "
                f"AND o.externalid = {suiteql_text(invoice_id)} ORDER BY tl.transaction",
                limit=1,
            )[0]
            if not rows:
                return None
            invoice_id = str(rows[0]["id"])
        try:
            return self.client.get("invoice", invoice_id, fields=INVOICE_FIELDS)
        except NotFound:
            return None

    def _concord_id(self, invoice: dict[str, Any]) -> str:
        """The draft id of an invoice transformed from a Concord sales order, else its own id."""
        order_id = _ref_id(invoice.get("createdFrom"))
        if order_id:
            rows = self.client.query_page(
                f"SELECT externalid FROM transaction WHERE id = {suiteql_ids([order_id])} AND type = '{SALES_ORDER}'",
                limit=1,
            )[0]
            if rows and rows[0].get("externalid"):
                return str(rows[0]["externalid"])
        return str(invoice["id"])

    def _order_totals(self, draft_id: str) -> dict[str, Any]:
        rows = self.client.query_page(
            f"SELECT id, foreigntotal, currency FROM transaction WHERE type = '{SALES_ORDER}' "
            f"AND externalid = {suiteql_text(draft_id)}",
            limit=1,
        )[0]
        if not rows:
            raise NotFound(f"netsuite: no invoice or draft sales order {draft_id!r}")
        return rows[0]

    def _money(self, amount: Any, currency_id: str) -> Money:
        return Money(amount=Decimal(str(amount or 0)), currency=self.currency_code(currency_id))
