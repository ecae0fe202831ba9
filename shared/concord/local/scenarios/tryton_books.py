"""Invoices and payments a Tryton ERP user makes by hand, for tests and demos: Concord itself
only fills draft invoices (ErpBilling) and reads posted ones (ErpReceivables); creating a
whole invoice, posting it and listing payments are finance's business.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from ...connectors.tryton import lookups, mapping, names
from ...connectors.tryton.erp import TrytonErpReceivables
from ...connectors.tryton.names import CONCORD_REF, Button, Model
from ...connectors.tryton.rpc import TrytonPermanentError
from ...domain import InvoiceDraft, InvoiceRecord, ReceivedPayment
from ...errors import ValidationFailed

logger = logging.getLogger(__name__)


class InvoiceDesk(TrytonErpReceivables):
    """A finance user's invoice work in the `erp` database."""

    def create_invoice(self, draft: InvoiceDraft, *, concord_ref: str | None = None) -> InvoiceRecord:
        """Create a draft customer invoice with its lines (not posted: see post_invoice).

        With `concord_ref`, an invoice already carrying it is returned instead (a retried
        create is idempotent); without, every call creates one. Lines: product by code
        (service item), its unit, its category's revenue account and customer taxes.
        draft.project_id goes into the invoice's `reference`.
        """
        if concord_ref and (existing := self._invoice_by_ref(concord_ref)):
            return self.get_invoice(existing)
        party_id = names.record_id(draft.customer_id, "customer")
        party = lookups.read_one(
            self.client, Model.PARTY, party_id, ["customer_payment_term", "account_receivable"], "customer"
        )
        addresses = lookups.party_addresses(self.client, party_id)
        if not addresses:
            raise ValidationFailed(f"ERP customer {party_id} has no address to invoice")
        products = lookups.product_by_code(self.client, (line.service_item for line in draft.lines))
        categories = sorted({p["account_category"] for p in products.values() if p.get("account_category")})
        category_rows = lookups.search_read(
            self.client, "product.category", [["id", "in", categories]], ["account_revenue", "customer_taxes"]
        )
        currency_id = self.currency_id(draft.currency)
        lines = [
            mapping.to_tryton_invoice_line_values(
                line,
                currency=draft.currency,
                currency_id=currency_id,
                list_price_currency=self.company_currency()[0],
                products=products,
                revenue_accounts={c["id"]: c["account_revenue"] for c in category_rows if c.get("account_revenue")},
                customer_taxes={c["id"]: c.get("customer_taxes") or [] for c in category_rows},
            )
            for line in draft.lines
        ]
        values = _invoice_values(
            draft,
            party,
            addresses[0]["id"],
            currency_id,
            self.revenue_journal(),
            party.get("account_receivable") or self.default_receivable(),
            lines,
            concord_ref,
        )
        # https://docs.tryton.org/modules-account-invoice/design.html#invoice
        try:
            (invoice_id,) = self.client.create(Model.INVOICE, [values])
        except TrytonPermanentError:
            if concord_ref and (existing := self._invoice_by_ref(concord_ref)):
                return self.get_invoice(existing)  # a concurrent create won the race
            raise
        logger.info("tryton erp created invoice id=%s party=%s lines=%d", invoice_id, party_id, len(lines))
        return self.get_invoice(str(invoice_id))

    def post_invoice(self, invoice_id: str) -> InvoiceRecord:
        """Post the invoice (numbers it, books its move; the invoice date defaults to today).
        Idempotent: an invoice already posted or paid is returned as it is."""
        id_ = names.record_id(invoice_id, "invoice")
        row = lookups.read_one(self.client, Model.INVOICE, id_, ["state"], "invoice", [["type", "=", "out"]])
        if row["state"] == "cancelled":
            raise ValidationFailed(f"ERP invoice {id_} is cancelled: it cannot be posted")
        if row["state"] in ("draft", "validated"):
            # https://docs.tryton.org/modules-account-invoice/usage.html (Post button)
            self.client.button(Model.INVOICE, Button.INVOICE_POST, [id_])
        return self.get_invoice(invoice_id)

    def payments_since(self, day: dt.date, limit: int = 1000) -> list[ReceivedPayment]:
        """Payments of customer invoices dated on or after `day`, by (date, id): the move
        lines the pay wizard links to an invoice (account.move.line `invoice_payment`).
        invoice_amount_due is what is left to pay on the invoice now."""
        # https://docs.tryton.org/modules-account/design.html#account-move-line
        rows = lookups.search_read(
            self.client,
            Model.MOVE_LINE,
            [["invoice_payment", "!=", None], ["invoice_payment.type", "=", "out"], ["date", ">=", day]],
            mapping.PAYMENT_LINE_FIELDS,
            order=[("date", "ASC"), ("id", "ASC")],
            limit=limit,
        )
        if not rows:
            return []
        invoices = {
            r["id"]: r
            for r in lookups.search_read(
                self.client,
                Model.INVOICE,
                [["id", "in", sorted({r["invoice_payment"] for r in rows})]],
                ["type", "currency", "currency.code", "amount_to_pay", "state"],
            )
        }
        company = self.company_currency()[1]
        payments = (mapping.to_received_payment(r, invoices[r["invoice_payment"]], company) for r in rows)
        return [p for p in payments if p is not None]

    def _invoice_by_ref(self, concord_ref: str) -> str | None:
        rows = lookups.search_read(self.client, Model.INVOICE, [[CONCORD_REF, "=", concord_ref]], ["id"], limit=1)
        return str(rows[0]["id"]) if rows else None


def _invoice_values(
    draft: InvoiceDraft,
    party: Mapping[str, Any],
    address_id: int,
    currency_id: int,
    journal_id: int,
    receivable_account: int,
    lines: list[dict[str, Any]],
    concord_ref: str | None,
) -> dict[str, Any]:
    """account.invoice values of a customer invoice ("out") with its lines. Raw RPC runs none
    of the client's on_change methods, so this sets what they would: journal, receivable
    account, payment term."""
    invoice: dict[str, Any] = {
        "type": "out",
        "party": party["id"],
        "invoice_address": address_id,
        "currency": currency_id,
        "journal": journal_id,
        "account": receivable_account,
        "lines": [["create", lines]],
    }
    if party.get("customer_payment_term"):
        invoice["payment_term"] = party["customer_payment_term"]
    if draft.project_id:
        invoice["reference"] = draft.project_id
    if concord_ref:
        invoice[CONCORD_REF] = concord_ref
    return invoice
