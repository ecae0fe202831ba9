"""Invoices and payments (ERP): account.invoice.line values of a customer invoice, and
account.invoice / account.move.line records as InvoiceRecord, PostedInvoice and
ReceivedPayment.

Tryton documentation: https://docs.tryton.org/modules-account-invoice/ and
https://docs.tryton.org/modules-account/
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from concord.domain import InvoiceLine, InvoiceRecord, PostedInvoice, ReceivedPayment
from concord.errors import ValidationFailed
from concord.events.types import Money

from ..names import CONCORD_REF, COST_CENTRE
from .rows import Row, validated


def to_tryton_invoice_line_values(
    line: InvoiceLine,
    *,
    currency: str,
    currency_id: int,
    list_price_currency: str,
    products: Mapping[str, Row],
    revenue_accounts: Mapping[int, int],
    customer_taxes: Mapping[int, list[int]],
    invoice_id: int | None = None,
    taxes_by_code: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """account.invoice.line values of one line of a customer invoice in `currency`.

    Raw RPC runs none of the client's on_change methods, so this sets what they would: the
    product's unit, its category's revenue account and customer taxes, the invoice's currency
    (docs/tryton.md, "Raw JSON-RPC runs no on-change"). Unit price: the line's, else the
    product's list price (kept by Tryton in the company currency, `list_price_currency`).
    invoice_id: for a line created on its own (None: created inside its invoice).
    Taxes: the line's tax code (an account.tax by name, `taxes_by_code`) in place of the
    category's customer taxes. Cost centre: concord_sync's field (no analytic module here).
    """
    if line.unit_price is not None:
        if line.unit_price.currency != currency:
            raise ValidationFailed(
                f"invoice line {line.description!r} is priced in {line.unit_price.currency}, the invoice in {currency}"
            )
        unit_price = line.unit_price.amount
    else:
        if currency != list_price_currency:
            raise ValidationFailed(
                f"invoice line {line.description!r} has no price, and the list price of "
                f"{line.service_item!r} is in {list_price_currency}, the invoice in {currency}"
            )
        unit_price = Decimal(products[line.service_item].get("list_price_used") or 0)
    product = products[line.service_item]
    category: int | None = product.get("account_category")
    if category is None or category not in revenue_accounts:
        raise ValidationFailed(f"product {line.service_item!r} has no category with a revenue account")
    values: dict[str, Any] = {
        "type": "line",
        "product": product["id"],
        "unit": product["default_uom"],
        "description": line.description,
        "quantity": float(line.quantity),
        "unit_price": unit_price,
        "account": revenue_accounts[category],
        "currency": currency_id,
    }
    if line.tax_code is not None:
        values["taxes"] = [["add", [(taxes_by_code or {})[line.tax_code]]]]
    elif taxes := customer_taxes.get(category):
        values["taxes"] = [["add", taxes]]
    if line.cost_centre is not None:
        values[COST_CENTRE] = line.cost_centre
    if line.source_records:
        values["note"] = "Concord source records: " + ", ".join(line.source_records)
    if line.concord_ref:
        values[CONCORD_REF] = line.concord_ref
    if invoice_id is not None:
        values["invoice"] = invoice_id
    return values


INVOICE_FIELDS = ("number", "state", "total_amount", "amount_to_pay", "currency.code", "lines_to_pay")


def to_invoice_record(row: Mapping[str, Any], due_on: dt.date | None) -> InvoiceRecord:
    """An account.invoice as InvoiceRecord.

    amount_due: Tryton's amount_to_pay once posted (0 when paid); before posting nothing is
    booked yet, so the whole total is due; a cancelled invoice owes nothing.
    """
    currency = row["currency."]["code"]
    state = row["state"]
    total = row["total_amount"] or Decimal(0)
    if state in ("posted", "paid"):
        due = row["amount_to_pay"] or Decimal(0)
    elif state == "cancelled":
        due = Decimal(0)
    else:
        due = total
    return validated(
        InvoiceRecord,
        f"invoice {row['id']}",
        invoice_id=str(row["id"]),
        number=row.get("number") or None,
        posted=state in ("posted", "paid"),
        total=Money(amount=total, currency=currency),
        amount_due=Money(amount=due, currency=currency),
        due_on=due_on,
    )


INVOICE_POSTED_FIELDS = (
    "type",
    "state",
    "number",
    "party",
    "invoice_date",
    "total_amount",
    "currency.code",
    "lines_to_pay.maturity_date",
)


def to_posted_invoice(row: Mapping[str, Any]) -> PostedInvoice | None:
    """A posted (or paid) customer invoice as PostedInvoice, with the values concord_sync's
    push puts in its InvoicePosted (events.py, invoice_posted); None for a draft, cancelled or
    supplier invoice.

    due_on: the last maturity date of its lines to pay (the date the whole invoice is due),
    else the invoice date.
    """
    if row.get("type") != "out" or row.get("state") not in ("posted", "paid"):
        return None
    maturities = [line["maturity_date"] for line in row.get("lines_to_pay.") or [] if line.get("maturity_date")]
    currency = row["currency."]["code"]
    return validated(
        PostedInvoice,
        f"invoice {row['id']}",
        invoice_id=str(row["id"]),
        number=row["number"],
        customer_id=str(row["party"]),
        invoiced_on=row["invoice_date"],
        due_on=max(maturities) if maturities else row["invoice_date"],
        total=Money(amount=row["total_amount"], currency=currency),
    )


PAYMENT_LINE_FIELDS = (
    "create_date",
    "date",
    "debit",
    "credit",
    "second_currency",
    "amount_second_currency",
    "invoice_payment",
)


def to_received_payment(
    line: Mapping[str, Any], invoice: Mapping[str, Any], company_currency: int
) -> ReceivedPayment | None:
    """A move line paying a customer invoice as ReceivedPayment, with the values concord_sync's
    push puts in its PaymentReceived (events.py, payment_received): None unless the invoice is
    posted or paid, the amount is in the invoice's currency and positive.
    invoice_amount_due: what is left to pay on the invoice now."""
    if invoice.get("type") != "out" or invoice.get("state") not in ("posted", "paid"):
        return None
    currency = invoice["currency"]
    if line.get("second_currency") and line["second_currency"] == currency:
        amount = -Decimal(line["amount_second_currency"])
    elif currency == company_currency:
        amount = Decimal(line["credit"]) - Decimal(line["debit"])
    else:
        return None
    if amount <= 0:
        return None
    code = invoice["currency."]["code"]
    return validated(
        ReceivedPayment,
        f"payment line {line['id']}",
        payment_id=str(line["id"]),
        invoice_id=str(invoice["id"]),
        amount=Money(amount=amount, currency=code),
        received_on=line["date"],
        invoice_amount_due=Money(amount=invoice.get("amount_to_pay") or Decimal(0), currency=code),
    )
