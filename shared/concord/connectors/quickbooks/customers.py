"""ErpCustomers over QuickBooks Online. A customer has no external-id field: Concord's registry
keeps its ref -> Id, and find_customer uses the natural keys (DisplayName is unique in a
company; the tax id is matched on the rows read, as PrimaryTaxIdentifier is not queryable).
https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/customer
"""

from __future__ import annotations

from typing import Any

from concord.domain import Customer, CustomerUpdate, ErpCustomer
from concord.events.types import Address

from ..kit.errors import NotFound
from .client import QuickBooksClient, Record, quoted


def customer_fields(name: str | None, address: Address | None, tax_id: str | None, currency: str | None) -> Record:
    fields: Record = {}
    if name is not None:
        fields.update({"DisplayName": name, "CompanyName": name})
    if address is not None:
        fields["BillAddr"] = {
            "Line1": address.street,
            "City": address.city,
            "CountrySubDivisionCode": address.region,
            "PostalCode": address.postal_code,
            "Country": address.country,
        }
    if tax_id is not None:
        fields["PrimaryTaxIdentifier"] = tax_id
    if currency is not None:
        fields["CurrencyRef"] = {"value": currency}
    return fields


def erp_customer(record: Record) -> ErpCustomer:
    bill: dict[str, Any] = record.get("BillAddr") or {}
    address = None
    if bill.get("Line1") and bill.get("City") and bill.get("Country"):
        address = Address(
            street=bill["Line1"],
            city=bill["City"],
            postal_code=bill.get("PostalCode") or "",
            region=bill.get("CountrySubDivisionCode") or "",
            country=bill["Country"],
        )
    return ErpCustomer(
        customer_id=str(record["Id"]),
        name=record["DisplayName"],
        tax_id=record.get("PrimaryTaxIdentifier") or None,
        billing_address=address,
        currency=(record.get("CurrencyRef") or {}).get("value"),
    )


class QuickBooksCustomers:
    client: QuickBooksClient

    def find_customer(self, *, tax_id: str | None, name: str) -> ErpCustomer | None:
        """By tax id among every customer (active or not), else by exact DisplayName."""
        if tax_id:
            rows = self.client.query("find customer", "Customer", "Active IN (true, false)")
            match = next((row for row in rows if row.get("PrimaryTaxIdentifier") == tax_id), None)
            if match is not None:
                return erp_customer(match)
        rows = self.client.query(
            "find customer", "Customer", f"DisplayName = {quoted(name)} AND Active IN (true, false)"
        )
        return erp_customer(rows[0]) if rows else None

    def upsert_customer(self, customer: Customer, external_ref: str, customer_id: str | None) -> ErpCustomer:
        if customer_id is None:
            # The requestid of this create is derived from Concord's ref: a retry gets the first answer.
            body = customer_fields(customer.name, customer.billing_address, customer.tax_id, customer.currency)
            return erp_customer(self.client.write("Customer", body, f"customer:create:{external_ref}"))
        fields = customer_fields(customer.name, customer.billing_address, customer.tax_id, None)
        return erp_customer(
            self.client.update("Customer", customer_id, lambda _: {**fields, "Active": True}, "customer:upsert")
        )

    def deactivate_customer(self, customer_id: str, reason: str) -> None:
        self.client.update("Customer", customer_id, lambda _: {"Active": False}, "customer:deactivate")

    def set_payment_term(self, customer_id: str, payment_term: str) -> None:
        """The customer's SalesTermRef: the Term named `payment_term` (e.g. "Net 30")."""
        terms = self.client.query("find term", "Term", f"Name = {quoted(payment_term)}")
        if not terms:
            raise NotFound(f"quickbooks: no payment term named {payment_term!r}")
        term = {"SalesTermRef": {"value": str(terms[0]["Id"])}}
        self.client.update("Customer", customer_id, lambda _: term, f"customer:term:{terms[0]['Id']}")

    def get_customer(self, customer_id: str) -> ErpCustomer:
        return erp_customer(self.client.read("Customer", customer_id))

    def update_customer(self, customer_id: str, changes: CustomerUpdate) -> None:
        if changes.is_empty():
            return
        fields = customer_fields(changes.name, changes.billing_address, changes.tax_id, changes.currency)
        self.client.update("Customer", customer_id, lambda _: fields, "customer:update")
