"""Xero records <-> Concord's domain records (pure functions, named by direction)."""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal
from typing import Any

from concord.domain import (
    Customer,
    CustomerUpdate,
    ErpCustomer,
    InvoiceLine,
    InvoiceRecord,
    PostedInvoice,
    ReceivedPayment,
)
from concord.errors import ValidationFailed
from concord.events.types import Address, Money

from .payloads import ContactRow, InvoiceRow, LineItemRow, PaymentRow

CONTACT_NUMBER_LENGTH = 50  # Contact.ContactNumber maxLength
BILLING_ADDRESS = "POBOX"  # Xero's postal (billing) address; STREET is the physical one
DAYS_AFTER_INVOICE = "DAYSAFTERBILLDATE"
_DAYS = re.compile(r"(\d{1,3})")
_DUE_ON_RECEIPT = frozenset({"cod", "cash on delivery", "due on receipt", "immediate"})


def contact_number(external_ref: str) -> str:
    """The ContactNumber Concord gives the contact of `external_ref` ("used to identify contacts
    in external systems"): the ref itself when it fits, else a digest of it."""
    if len(external_ref) <= CONTACT_NUMBER_LENGTH:
        return external_ref
    return "C" + hashlib.sha256(external_ref.encode()).hexdigest()[: CONTACT_NUMBER_LENGTH - 1].upper()


def where_equals(field: str, value: str) -> str:
    """A `where` clause comparing a field with a string literal (double quotes escaped)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{field}=="{escaped}"'


def to_xero_address(address: Address | None) -> list[dict[str, str]]:
    if address is None:
        return []
    return [
        {
            "AddressType": BILLING_ADDRESS,
            "AddressLine1": address.street[:500],
            "City": address.city[:255],
            "Region": address.region[:255],
            "PostalCode": address.postal_code[:50],
            "Country": address.country,
        }
    ]


def to_xero_contact(customer: Customer, external_ref: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ContactNumber": contact_number(external_ref),
        "Name": customer.name[:255],
        "ContactStatus": "ACTIVE",
    }
    if customer.tax_id:
        body["TaxNumber"] = customer.tax_id[:50]
    if customer.currency:
        body["DefaultCurrency"] = customer.currency
    if customer.billing_address:
        body["Addresses"] = to_xero_address(customer.billing_address)
    return body


def to_xero_contact_changes(changes: CustomerUpdate) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if changes.name is not None:
        body["Name"] = changes.name[:255]
    if changes.billing_address is not None:
        body["Addresses"] = to_xero_address(changes.billing_address)
    if changes.tax_id is not None:
        body["TaxNumber"] = changes.tax_id[:50]
    if changes.currency is not None:
        body["DefaultCurrency"] = changes.currency
    return body


def to_sales_terms(payment_term: str) -> dict[str, Any]:
    """Contact.PaymentTerms for a term named like "Net 30 days" or "30 DAYS" (days after the
    invoice date), or "COD" (due on the invoice date); ValidationFailed for anything else."""
    found = _DAYS.search(payment_term)
    if found is not None:
        days = int(found.group(1))
    elif payment_term.strip().lower() in _DUE_ON_RECEIPT:
        days = 0
    else:
        raise ValidationFailed(f"xero: payment term {payment_term!r} names no number of days")
    return {"Sales": {"Day": days, "Type": DAYS_AFTER_INVOICE}}


def to_erp_customer(row: ContactRow, external_ref: str | None = None) -> ErpCustomer:
    billing = next((a for a in row.Addresses if a.AddressType == BILLING_ADDRESS and a.AddressLine1), None)
    address = None
    if billing is not None and billing.City and len(billing.Country) == 2:
        address = Address(
            street=billing.AddressLine1,
            city=billing.City,
            postal_code=billing.PostalCode,
            region=billing.Region,
            country=billing.Country,
        )
    return ErpCustomer(
        customer_id=row.ContactID,
        name=row.Name,
        tax_id=row.TaxNumber or None,
        external_ref=external_ref,
        billing_address=address,
        currency=row.DefaultCurrency or None,
    )


def to_kept_line(line: LineItemRow) -> dict[str, Any]:
    """A line the invoice has, re-sent as it is (an update deletes every line it omits)."""
    kept: dict[str, Any] = {"LineItemID": line.LineItemID, "Description": line.Description}
    kept["Quantity"] = float(line.Quantity)
    if line.UnitAmount is not None:
        kept["UnitAmount"] = float(line.UnitAmount)
    for field in ("ItemCode", "AccountCode", "TaxType"):
        value = getattr(line, field)
        if value:
            kept[field] = value
    return kept


def to_new_line(line: InvoiceLine, account_code: str) -> dict[str, Any]:
    """A new line: the service item is the item's code; without a unit price Xero prices it
    from the item's sales details."""
    body: dict[str, Any] = {
        "Description": line.description[:4000],
        "Quantity": line.quantity,
        "ItemCode": line.service_item,
        "AccountCode": account_code,
    }
    if line.unit_price is not None:
        body["UnitAmount"] = float(line.unit_price.amount)
    return body


def _money(amount: Decimal, row: InvoiceRow) -> Money:
    return Money(amount=amount, currency=row.CurrencyCode)


def to_invoice_record(row: InvoiceRow) -> InvoiceRecord:
    return InvoiceRecord(
        invoice_id=row.InvoiceID,
        number=row.InvoiceNumber or None,
        posted=row.posted,
        total=_money(row.Total, row),
        amount_due=_money(row.AmountDue if row.posted else row.Total, row),
        due_on=row.DueDate if row.posted else None,
    )


def to_posted_invoice(row: InvoiceRow) -> PostedInvoice | None:
    if not row.posted or row.Type != "ACCREC" or row.Date is None or row.DueDate is None:
        return None
    return PostedInvoice(
        invoice_id=row.InvoiceID,
        number=row.InvoiceNumber,
        customer_id=row.Contact.ContactID,
        invoiced_on=row.Date,
        due_on=row.DueDate,
        total=_money(row.Total, row),
    )


def to_received_payment(payment: PaymentRow, invoice: InvoiceRow) -> ReceivedPayment | None:
    """A customer's payment of a sales invoice; what is left due is the invoice's AmountDue."""
    if payment.Status != "AUTHORISED" or invoice.Type != "ACCREC" or payment.Amount <= 0:
        return None
    return ReceivedPayment(
        payment_id=payment.PaymentID,
        invoice_id=invoice.InvoiceID,
        amount=_money(payment.Amount, invoice),
        received_on=payment.Date,
        invoice_amount_due=_money(invoice.AmountDue, invoice),
    )
