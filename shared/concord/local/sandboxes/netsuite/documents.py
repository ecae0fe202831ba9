"""What NetSuite works out when a record is saved: defaults, references checked, line amounts and
totals, invoice due dates and what payments leave due. `prepare` takes the whole record as it
will be stored (`current`: as it was, None on create) and returns it complete."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from ..kit import Tenant
from .errors import invalid_reference, user_error

Row = dict[str, Any]
ORDER_STATUS = {"F": "Pending Billing", "G": "Billed", "H": "Closed", "C": "Cancelled"}
INVOICE_STATUS = {"A": "Open", "B": "Paid In Full"}
DEFAULT_TERM_DAYS = 30


def reference(tenant: Tenant, table: str, value: Any, field: str) -> Row:
    record_id = value.get("id") if isinstance(value, dict) else None
    record = tenant.store.get(table, str(record_id)) if record_id is not None else None
    if record is None:
        raise invalid_reference(field, record_id)
    return record


def number(value: Any, field: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise user_error(f"Invalid number {value!r} for field {field}.") from None


def base_currency(tenant: Tenant) -> Row:
    """The account's base currency: its first currency record (US Dollar)."""
    first = tenant.store.rows("currency")[0]
    return {"id": first["id"], "refName": first["name"]}


def today() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()


def prepare(tenant: Tenant, record_type: str, record: Row, current: Row | None) -> Row:
    if record_type in ("customer", "job"):
        return _entity(tenant, record_type, record, current)
    if record_type in ("salesOrder", "invoice"):
        return _sale(tenant, record_type, record, current)
    return _payment(tenant, record, current)


def _entity(tenant: Tenant, record_type: str, record: Row, current: Row | None) -> Row:
    if not str(record.get("companyName") or "").strip():
        raise user_error("Please enter value(s) for: Company Name")
    if current is None and record_type == "customer" and not isinstance(record.get("subsidiary"), dict):
        raise user_error("Please enter value(s) for: Primary Subsidiary")
    for field, table in (("currency", "currency"), ("terms", "term"), ("parent", "customer")):
        if record.get(field) is not None:
            found = reference(tenant, table, record[field], field)
            record[field] = {"id": found["id"], "refName": found.get("name") or found.get("companyName")}
    record.setdefault("isInactive", False)
    record.setdefault("currency", base_currency(tenant))
    if current is None:
        prefix = "CUST" if record_type == "customer" else "PRJ"
        record["entityId"] = f"{prefix}{len(tenant.store.rows(record_type)) + 1}"
    return record


def _sale(tenant: Tenant, record_type: str, record: Row, current: Row | None) -> Row:
    customer = reference(tenant, "customer", record.get("entity"), "entity")
    record["entity"] = {"id": customer["id"], "refName": customer["companyName"]}
    record["currency"] = record.get("currency") or customer.get("currency") or base_currency(tenant)
    reference(tenant, "currency", record["currency"], "currency")
    lines = record["item"]["items"]
    if not lines:
        raise user_error("You must enter at least one line item for this transaction.")
    taken = max((int(line["line"]) for line in lines if "line" in line), default=0)
    for line in lines:
        item = reference(tenant, "item", line.get("item"), "item.item")
        quantity = number(line.get("quantity", 1), "item.quantity")
        if quantity <= 0:
            raise user_error("Quantity must be greater than 0.")
        rate = number(line["rate"], "item.rate") if line.get("rate") is not None else number(item["basePrice"], "rate")
        if "line" not in line:
            taken += 1
            line["line"] = taken
        line.update(
            {
                "item": {"id": item["id"], "refName": item["itemId"]},
                "quantity": float(quantity),
                "rate": float(rate),
                "amount": float(quantity * rate),
            }
        )
    total = sum((Decimal(str(line["amount"])) for line in lines), Decimal(0))
    record["total"] = float(total)
    record.setdefault("tranDate", today())
    sequence = len(tenant.store.rows(record_type)) + (0 if current else 1)
    if record_type == "salesOrder":
        record.setdefault("tranId", current["tranId"] if current else f"SO{sequence}")
        record.setdefault("status", {"id": "F", "refName": ORDER_STATUS["F"]})
        return record
    record.setdefault("tranId", current["tranId"] if current else f"INV{sequence}")
    paid = Decimal(str(current["total"])) - Decimal(str(current["amountRemaining"])) if current else Decimal(0)
    record["amountRemaining"] = float(total - paid)
    if "dueDate" not in record:
        term = tenant.store.get("term", str((customer.get("terms") or {}).get("id")))
        days = int(term["daysUntilNetDue"]) if term else DEFAULT_TERM_DAYS
        record["dueDate"] = (dt.date.fromisoformat(record["tranDate"]) + dt.timedelta(days=days)).isoformat()
    status = "B" if total - paid <= 0 else "A"
    record["status"] = {"id": status, "refName": INVOICE_STATUS[status]}
    return record


def _payment(tenant: Tenant, record: Row, current: Row | None) -> Row:
    if current is not None:
        if record["apply"] != current["apply"]:
            raise user_error("The sandbox applies a payment when it is created only.")
        return record
    customer = reference(tenant, "customer", record.get("customer"), "customer")
    record["customer"] = {"id": customer["id"], "refName": customer["companyName"]}
    record.setdefault("currency", customer.get("currency") or base_currency(tenant))
    record.setdefault("tranDate", today())
    applied = Decimal(0)
    for line in record["apply"]["items"]:
        if not line.get("apply"):
            continue
        invoice = reference(tenant, "invoice", line.get("doc"), "apply.doc")
        if invoice["entity"]["id"] != customer["id"]:
            raise user_error(f"Invoice {invoice['tranId']} is not an invoice of this customer.")
        amount = number(line.get("amount", invoice["amountRemaining"]), "apply.amount")
        remaining = Decimal(str(invoice["amountRemaining"]))
        if amount <= 0 or amount > remaining:
            raise user_error(f"The amount applied to {invoice['tranId']} must be more than 0 and at most {remaining}.")
        left = remaining - amount
        status = "B" if left <= 0 else "A"
        tenant.store.update(
            "invoice",
            invoice["id"],
            {"amountRemaining": float(left), "status": {"id": status, "refName": INVOICE_STATUS[status]}},
        )
        line.update(
            {"doc": {"id": invoice["id"], "refName": invoice["tranId"]}, "amount": float(amount), "apply": True}
        )
        applied += amount
    record["payment"] = float(number(record.get("payment", applied), "payment"))
    record["status"] = {"id": "B", "refName": "Not Deposited"}
    return record
