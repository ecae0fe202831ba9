"""ErpReceivables over Tryton: posted customer invoices (account.invoice, type "out") and
the move lines that pay them: its payment lines (the pay wizard), or lines of another move
reconciled with its receivable line (a booked bank receipt). Module docs:
https://docs.tryton.org/modules-account-invoice/, https://docs.tryton.org/modules-account/
"""

from __future__ import annotations

from typing import Any

from concord.domain import InvoiceRecord, PostedInvoice, ReceivedPayment
from concord.ports import ErpReceivables

from .. import lookups, mapping, names
from ..names import Model
from .session import ErpSession


class TrytonErpReceivables(ErpSession, ErpReceivables):
    """Posted invoices and their payments in the `erp` database."""

    def posted_invoice(self, invoice_id: str) -> PostedInvoice | None:
        """The customer invoice once posted, with the values concord_sync's push announces in
        its InvoicePosted; None while it is a draft or validated, when cancelled, for a supplier
        invoice, or when there is no such invoice. One call."""
        id_ = names.record_id(invoice_id, "invoice")
        rows = lookups.search_read(
            self.client, Model.INVOICE, [["id", "=", id_]], mapping.INVOICE_POSTED_FIELDS, active_test=False
        )
        return mapping.to_posted_invoice(rows[0]) if rows else None

    def received_payment(self, payment_id: str) -> ReceivedPayment | None:
        """The move line as the payment concord_sync's push announces in its PaymentReceived
        (same values; invoice_amount_due is what is left to pay now), or None when it does not pay
        a posted customer invoice: a payment line of the invoice (pay wizard), or a line of
        another move, not a write-off, reconciled with the invoice's receivable line."""
        line_id = names.record_id(payment_id, "payment")
        rows = lookups.search_read(
            self.client,
            Model.MOVE_LINE,
            [["id", "=", line_id]],
            [*mapping.PAYMENT_LINE_FIELDS, "reconciliation", "account", "move.origin", "move.journal.type"],
        )
        if not rows:
            return None
        line = rows[0]
        invoice_id = line.get("invoice_payment")
        if invoice_id is None:
            invoice_id = self._reconciled_invoice(line)
        if invoice_id is None:
            return None
        invoices = lookups.search_read(
            self.client,
            Model.INVOICE,
            [["id", "=", invoice_id]],
            ["type", "state", "currency", "currency.code", "amount_to_pay", "account"],
        )
        if not invoices:
            return None
        return mapping.to_received_payment(line, invoices[0], self.company_currency()[1])

    def get_invoice(self, invoice_id: str) -> InvoiceRecord:
        """The customer invoice; due_on is the earliest maturity date of its receivable lines
        (so None until posted)."""
        id_ = names.record_id(invoice_id, "invoice")
        row = lookups.read_one(
            self.client, Model.INVOICE, id_, mapping.INVOICE_FIELDS, "invoice", [["type", "=", "out"]]
        )
        due_on = None
        if row.get("lines_to_pay"):
            dates = [
                r["maturity_date"]
                for r in lookups.search_read(
                    self.client, Model.MOVE_LINE, [["id", "in", row["lines_to_pay"]]], ["maturity_date"]
                )
                if r.get("maturity_date")
            ]
            due_on = min(dates) if dates else None
        return mapping.to_invoice_record(row, due_on)

    def _reconciled_invoice(self, line: dict[str, Any]) -> int | None:
        """The customer invoice a line of another move pays by reconciliation (as the push's
        _queue_reconciled_payments decides), else None."""
        if not line.get("reconciliation"):
            return None
        origin = (line.get("move.") or {}).get("origin") or ""
        journal = ((line.get("move.") or {}).get("journal.") or {}).get("type")
        if origin.startswith(f"{Model.INVOICE},") or journal == "write-off":
            return None  # an invoice's own move, or a write-off: not a payment
        others = lookups.search_read(
            self.client,
            Model.MOVE_LINE,
            [
                ["reconciliation", "=", line["reconciliation"]],
                ["id", "!=", line["id"]],
                ["account", "=", line["account"]],
            ],
            ["move.origin"],
        )
        for other in others:
            other_origin = (other.get("move.") or {}).get("origin") or ""
            if other_origin.startswith(f"{Model.INVOICE},"):
                return int(other_origin.split(",", 1)[1])
        return None
