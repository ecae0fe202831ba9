"""Concord's records <-> NetSuite record bodies (pure functions, named by direction): what the
connector sends and reads, and what the mapping regression corpus renders (concord.mappings).
https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1545141500.html
"""

from __future__ import annotations

from typing import Any

from concord.domain import Customer, CustomerUpdate, ErpCustomer, InvoiceLine
from concord.events.types import Address

ADDRESSES = "addressbook"


def address_lines(address: Address) -> dict[str, Any]:
    """The customer's address book as one default billing address (sent with replace=addressbook)."""
    fields: dict[str, Any] = {"addr1": address.street, "city": address.city, "country": {"id": address.country}}
    if address.postal_code:
        fields["zip"] = address.postal_code
    if address.region:
        fields["state"] = address.region
    return {"items": [{"defaultBilling": True, "defaultShipping": True, "addressbookaddress": fields}]}


def to_customer_fields(
    name: str | None, tax_id: str | None, address: Address | None, tax_id_field: str
) -> dict[str, Any]:
    """The customer fields Concord writes, only those given."""
    body: dict[str, Any] = {}
    if name is not None:
        body["companyName"] = name
    if tax_id is not None:
        body[tax_id_field] = tax_id
    if address is not None:
        body[ADDRESSES] = address_lines(address)
    return body


def to_netsuite_customer(
    customer: Customer, tax_id_field: str, *, subsidiary_id: str | None = None, currency_id: str | None = None
) -> dict[str, Any]:
    """An active customer's body: with `subsidiary_id` (and the currency's internal id) for one
    Concord creates, whose subsidiary and currency are set once."""
    body = to_customer_fields(customer.name, customer.tax_id, customer.billing_address, tax_id_field)
    body["isInactive"] = False
    if subsidiary_id is not None:
        body["subsidiary"] = {"id": subsidiary_id}
        if currency_id is not None:
            body["currency"] = {"id": currency_id}
    return body


def to_customer_changes(changes: CustomerUpdate, tax_id_field: str, currency_id: str | None) -> dict[str, Any]:
    """The fields of a customer update; `currency_id` is the internal id of changes.currency."""
    body = to_customer_fields(changes.name, changes.tax_id, changes.billing_address, tax_id_field)
    if currency_id is not None:
        body["currency"] = {"id": currency_id}
    return body


def replaced_sublists(body: dict[str, Any]) -> list[str]:
    """The sublists a write replaces rather than appends to: the address book when it is sent."""
    return [ADDRESSES] if ADDRESSES in body else []


def to_sales_order_line(line: InvoiceLine, item_id: str, concord_ref: str, ref_column: str | None) -> dict[str, Any]:
    """A sales order line for approved work; without a unit price NetSuite prices it from the item."""
    value: dict[str, Any] = {"item": {"id": item_id}, "quantity": line.quantity, "description": line.description}
    if line.unit_price is not None:
        value["rate"] = float(line.unit_price.amount)
    if ref_column:
        value[ref_column] = concord_ref
    return value


def to_sales_order(customer_id: str, currency_id: str, project_ref: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
    """The draft's sales order as its first write creates it (NetSuite refuses one without lines)."""
    return {
        "entity": {"id": customer_id},
        "currency": {"id": currency_id},
        "memo": project_ref,
        "item": {"items": lines},
    }


def billing_address(record: dict[str, Any]) -> Address | None:
    lines = (record.get(ADDRESSES) or {}).get("items") or []
    line = next((item for item in lines if item.get("defaultBilling")), lines[0] if lines else None)
    fields = (line or {}).get("addressbookaddress") or {}
    country = (
        (fields.get("country") or {}).get("id") if isinstance(fields.get("country"), dict) else fields.get("country")
    )
    if not fields.get("addr1") or not fields.get("city") or not country:
        return None
    return Address(
        street=fields["addr1"],
        city=fields["city"],
        postal_code=fields.get("zip") or "",
        region=fields.get("state") or "",
        country=country,
    )


def to_erp_customer(record: dict[str, Any], tax_id_field: str, currency: str | None) -> ErpCustomer:
    """A customer record read with its sublists expanded; `currency` is its currency's ISO code."""
    return ErpCustomer(
        customer_id=str(record["id"]),
        name=record.get("companyName") or record.get("entityId") or "",
        tax_id=record.get(tax_id_field) or None,
        external_ref=record.get("externalId") or None,
        billing_address=billing_address(record),
        currency=currency,
    )
