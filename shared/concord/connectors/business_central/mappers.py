"""Business Central records <-> Concord's domain records (pure functions, named by direction)."""

from __future__ import annotations

import hashlib
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
from concord.events.types import Address, Money

from .payloads import CustomerPaymentRow, CustomerRow, SalesInvoiceRow

NUMBER_LENGTH = 20  # customer.number maxLength
DOCUMENT_NUMBER_LENGTH = 35  # salesInvoice.externalDocumentNumber maxLength
ACTIVE = " "  # customer.blocked: " ", "Ship", "Invoice", "All"
BLOCKED = "All"


def customer_number(external_ref: str) -> str:
    """The customer `number` Concord gives the customer of `external_ref`: a natural key
    derived from Concord's id, so a create retried after a crash finds the first. (Business
    Central has no external-id field; the number series must allow manual numbers.)"""
    return "C" + hashlib.sha256(external_ref.encode()).hexdigest()[: NUMBER_LENGTH - 1].upper()


def document_reference(project_ref: str) -> str:
    """The draft invoice's externalDocumentNumber for a project: the ref itself when it fits."""
    if len(project_ref) <= DOCUMENT_NUMBER_LENGTH:
        return project_ref
    return "P" + hashlib.sha256(project_ref.encode()).hexdigest()[: DOCUMENT_NUMBER_LENGTH - 1].upper()


def to_bc_currency(code: str | None, local: str) -> str:
    """Business Central's currencyCode: blank for the company's local currency."""
    return "" if code in (None, "", local) else str(code)


def to_canonical_currency(code: str, local: str) -> str:
    return code or local


def to_bc_address(address: Address | None) -> dict[str, str]:
    if address is None:
        return {}
    return {
        "addressLine1": address.street[:100],
        "city": address.city[:30],
        "state": address.region[:30],
        "country": address.country,
        "postalCode": address.postal_code[:20],
    }


def to_bc_customer(customer: Customer, local_currency: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "displayName": customer.name[:100],
        "blocked": ACTIVE,
        **to_bc_address(customer.billing_address),
    }
    if customer.tax_id:
        body["taxRegistrationNumber"] = customer.tax_id[:20]
    if customer.currency:
        body["currencyCode"] = to_bc_currency(customer.currency, local_currency)
    return body


def to_bc_customer_changes(changes: CustomerUpdate, local_currency: str) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if changes.name is not None:
        body["displayName"] = changes.name[:100]
    body.update(to_bc_address(changes.billing_address))
    if changes.tax_id is not None:
        body["taxRegistrationNumber"] = changes.tax_id[:20]
    if changes.currency is not None:
        body["currencyCode"] = to_bc_currency(changes.currency, local_currency)
    return body


def to_erp_customer(row: CustomerRow, local_currency: str, external_ref: str | None = None) -> ErpCustomer:
    address = None
    if row.addressLine1 and row.city and len(row.country) == 2:
        address = Address(
            street=row.addressLine1, city=row.city, postal_code=row.postalCode, region=row.state, country=row.country
        )
    return ErpCustomer(
        customer_id=row.id,
        name=row.displayName,
        tax_id=row.taxRegistrationNumber or None,
        external_ref=external_ref,
        billing_address=address,
        currency=to_canonical_currency(row.currencyCode, local_currency),
    )


def to_bc_invoice_line(line: InvoiceLine) -> dict[str, Any]:
    """An Item line: the service item is the item's number (lineObjectNumber); without a unit
    price Business Central prices it from the item card."""
    body: dict[str, Any] = {
        "lineType": "Item",
        "lineObjectNumber": line.service_item,
        "description": line.description[:100],
        "quantity": line.quantity,
    }
    if line.unit_price is not None:
        body["unitPrice"] = float(line.unit_price.amount)
    return body


def _money(amount: Decimal, row: SalesInvoiceRow, local: str) -> Money:
    return Money(amount=amount, currency=to_canonical_currency(row.currencyCode, local))


def to_invoice_record(row: SalesInvoiceRow, local: str) -> InvoiceRecord:
    return InvoiceRecord(
        invoice_id=row.id,
        number=row.number or None,
        posted=row.posted,
        total=_money(row.totalAmountIncludingTax, row, local),
        amount_due=_money(row.remainingAmount if row.posted else row.totalAmountIncludingTax, row, local),
        due_on=row.dueDate if row.posted else None,
    )


def to_posted_invoice(row: SalesInvoiceRow, local: str) -> PostedInvoice | None:
    if not row.posted or row.invoiceDate is None or row.dueDate is None:
        return None
    return PostedInvoice(
        invoice_id=row.id,
        number=row.number,
        customer_id=row.customerId,
        invoiced_on=row.invoiceDate,
        due_on=row.dueDate,
        total=_money(row.totalAmountIncludingTax, row, local),
    )


def to_received_payment(
    payment: CustomerPaymentRow, invoice: SalesInvoiceRow, applied_total: Decimal, local: str
) -> ReceivedPayment | None:
    """The payment journal line as a payment of the invoice it applies to; what is left due is
    the invoice's remainingAmount less every journal line applied to it (due once they post)."""
    # A payment journal line credits the customer: Business Central shows it negative.
    amount = abs(payment.amount)
    if payment.postingDate is None or amount == 0 or not invoice.posted:
        return None
    due = max(Decimal(0), invoice.remainingAmount - applied_total)
    return ReceivedPayment(
        payment_id=payment.id,
        invoice_id=invoice.id,
        amount=_money(amount, invoice, local),
        received_on=payment.postingDate,
        invoice_amount_due=_money(due, invoice, local),
    )
