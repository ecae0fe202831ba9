"""The sandbox tenant's customers, customer invoices and customer payments: how a request's data
becomes a stored record, and how a record is written back in a Get answer.

A Put or Submit replaces the record's data with what it carries (Workday's Put semantics): an
element left out is cleared, so a client changes one field by resending the others it read.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from decimal import Decimal, InvalidOperation
from typing import Any

from ..kit import RecordStore
from .envelope import NS, add, ids_of, invalid, invalid_id, reference, text, wd

Row = dict[str, Any]
CENT = Decimal("0.01")
DEFAULT_TERMS_DAYS = 30


def one(store: RecordStore, table: str, field: str, value: str) -> Row | None:
    found = store.find(table, field, value)
    return found[0] if found else None


def next_number(store: RecordStore, prefix: str, table: str, field: str) -> str:
    """Workday's own reference id for a record the client named none for (e.g. CUST-000042):
    one more than the records of `table` that have `field` (counted, not stored, so numbering
    stamps no record)."""
    return f"{prefix}-{sum(1 for row in store.rows(table) if row.get(field)) + 1:06d}"


def _ref(store: RecordStore, data: ET.Element, name: str, id_type: str, table: str, *, required: bool) -> str:
    """The reference id of `name` in `data`, checked against `table` (an unknown one is a fault)."""
    value = ids_of(data.find(f"wd:{name}", NS)).get(id_type, "")
    if not value:
        if required:
            raise invalid(f"{name} is required")
        return ""
    if table and one(store, table, id_type, value) is None:
        raise invalid_id(value, id_type)
    return value


def _decimal(value: str, name: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation:
        raise invalid(f"'{value}' is not a valid decimal for {name}") from None


def _date(value: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.rstrip("Z")[:10])
    except ValueError:
        raise invalid(f"'{value}' is not a valid date for {name}") from None


# -- customers --------------------------------------------------------------------------------


def customer_by_reference(store: RecordStore, ids: dict[str, str]) -> Row | None:
    if "WID" in ids:
        return store.get("customers", ids["WID"])
    return one(store, "customers", "Customer_ID", ids["Customer_ID"]) if ids.get("Customer_ID") else None


def customer_fields(store: RecordStore, data: ET.Element, existing: Row | None) -> Row:
    name = text(data, "wd:Customer_Name")
    if not name:
        raise invalid("Customer Name is required", "/bsvc:Put_Customer_Request[1]/bsvc:Customer_Data[1]")
    entity = data.find("wd:Business_Entity_Data", NS)
    status = ids_of(data.find("wd:Customer_Status_Data/wd:Customer_Status_Reference", NS))
    state = status.get("Business_Entity_Status_Value_ID", "Active")
    if state not in ("Active", "Inactive"):
        raise invalid_id(state, "Business_Entity_Status_Value_ID")
    return {
        "name": name,
        "tax_id": text(entity, "wd:Business_Entity_Tax_ID"),
        "currency": _ref(store, data, "Currency_Reference", "Currency_ID", "", required=False),
        "payment_terms": _ref(
            store, data, "Payment_Terms_Reference", "Payment_Terms_ID", "payment_terms", required=False
        ),
        "status": state,
        "address": _address(entity.find("wd:Contact_Data/wd:Address_Data", NS) if entity is not None else None),
    }


def _address(element: ET.Element | None) -> Row | None:
    if element is None:
        return None
    return {
        "street": text(element, "wd:Address_Line_Data"),
        "city": text(element, "wd:Municipality"),
        "region": text(element, "wd:Country_Region_Descriptor"),
        "postal_code": text(element, "wd:Postal_Code"),
        "country": ids_of(element.find("wd:Country_Reference", NS)).get("ISO_3166-1_Alpha-2_Code", ""),
    }


def customer_matches(row: Row, criteria: ET.Element | None) -> bool:
    """Get_Customers' request criteria: an exact customer name and tax id, where given."""
    name, tax_id = text(criteria, "wd:Customer_Name"), text(criteria, "wd:Business_Entity_Tax_ID")
    return (not name or row["name"] == name) and (not tax_id or row["tax_id"] == tax_id)


def customer_reference(parent: ET.Element, row: Row) -> None:
    reference(parent, "Customer_Reference", [("WID", row["wid"]), ("Customer_ID", row["Customer_ID"])])


def customer_element(parent: ET.Element, row: Row) -> None:
    customer = ET.SubElement(parent, wd("Customer"))
    customer_reference(customer, row)
    data = ET.SubElement(customer, wd("Customer_Data"))
    add(data, "Customer_ID", row["Customer_ID"])
    add(data, "Customer_Name", row["name"])
    entity = ET.SubElement(data, wd("Business_Entity_Data"))
    add(entity, "Business_Entity_Name", row["name"])
    if row["tax_id"]:
        add(entity, "Business_Entity_Tax_ID", row["tax_id"])
    if row["address"]:
        address = ET.SubElement(ET.SubElement(entity, wd("Contact_Data")), wd("Address_Data"))
        add(address, "Address_Line_Data", row["address"]["street"]).set(wd("Type"), "ADDRESS_LINE_1")
        add(address, "Municipality", row["address"]["city"])
        add(address, "Country_Region_Descriptor", row["address"]["region"])
        add(address, "Postal_Code", row["address"]["postal_code"])
        reference(address, "Country_Reference", [("ISO_3166-1_Alpha-2_Code", row["address"]["country"])])
    if row["currency"]:
        reference(data, "Currency_Reference", [("Currency_ID", row["currency"])])
    if row["payment_terms"]:
        reference(data, "Payment_Terms_Reference", [("Payment_Terms_ID", row["payment_terms"])])
    status = ET.SubElement(data, wd("Customer_Status_Data"))
    reference(status, "Customer_Status_Reference", [("Business_Entity_Status_Value_ID", row["status"])])


# -- invoices ---------------------------------------------------------------------------------


def invoice_by_reference(store: RecordStore, ids: dict[str, str]) -> Row | None:
    if "WID" in ids:
        return store.get("invoices", ids["WID"])
    key = ids.get("Customer_Invoice_Reference_ID")
    return one(store, "invoices", "Customer_Invoice_ID", key) if key else None


def invoice_fields(store: RecordStore, data: ET.Element, today: dt.date) -> Row:
    lines = [_line(store, line) for line in data.findall("wd:Customer_Invoice_Line_Replacement_Data", NS)]
    orders = [line["order"] for line in lines]
    if len(set(orders)) != len(orders):
        raise invalid("Line Order must be unique within the invoice")
    return {
        "company": _ref(store, data, "Company_Reference", "Company_Reference_ID", "companies", required=True),
        "customer": _ref(store, data, "Customer_Reference", "Customer_ID", "customers", required=True),
        "currency": _ref(store, data, "Currency_Reference", "Currency_ID", "", required=True),
        "memo": text(data, "wd:Memo"),
        "status": "Draft",
        "invoice_date": text(data, "wd:Invoice_Date"),
        "lines": lines,
    }


def _line(store: RecordStore, element: ET.Element) -> Row:
    item = _ref(store, element, "Sales_Item_Reference", "Sales_Item_ID", "sales_items", required=True)
    quantity = _decimal(text(element, "wd:Quantity", "1"), "Quantity")
    if quantity <= 0:
        raise invalid("Quantity must be greater than zero")
    given = text(element, "wd:Unit_Cost")
    listed = one(store, "sales_items", "Sales_Item_ID", item) or {}  # _ref checked it exists
    price = _decimal(given, "Unit_Cost") if given else Decimal(str(listed["price"]))
    return {
        "order": text(element, "wd:Line_Order") or "1",
        "sales_item": item,
        "description": text(element, "wd:Line_Item_Description"),
        "quantity": str(quantity),
        "unit_cost": str(price),
        "memo": text(element, "wd:Memo"),
    }


def submitted(store: RecordStore, fields: Row, today: dt.date) -> Row:
    """What submitting (with Auto_Complete) sets: approved, numbered, dated and due."""
    if not fields["lines"]:
        raise invalid("A customer invoice must have at least one line to be submitted")
    invoiced_on = _date(fields["invoice_date"], "Invoice_Date") if fields["invoice_date"] else today
    customer = one(store, "customers", "Customer_ID", fields["customer"]) or {}
    terms = one(store, "payment_terms", "Payment_Terms_ID", customer.get("payment_terms") or "")
    days = int(terms["days"]) if terms else DEFAULT_TERMS_DAYS
    return {
        "status": "Approved",
        "number": next_number(store, "INV", "invoices", "number"),
        "invoice_date": invoiced_on.isoformat(),
        "due_date": (invoiced_on + dt.timedelta(days=days)).isoformat(),
    }


def invoice_total(row: Row) -> Decimal:
    return sum(
        ((Decimal(line["quantity"]) * Decimal(line["unit_cost"])).quantize(CENT) for line in row["lines"]),
        Decimal(0),
    )


def paid_on(store: RecordStore, row: Row) -> Decimal:
    return sum(
        (Decimal(p["amount"]) for p in store.find("payments", "invoice", row["Customer_Invoice_ID"])), Decimal(0)
    )


def invoice_reference(parent: ET.Element, row: Row) -> None:
    reference(
        parent,
        "Customer_Invoice_Reference",
        [("WID", row["wid"]), ("Customer_Invoice_Reference_ID", row["Customer_Invoice_ID"])],
    )


def invoice_element(parent: ET.Element, store: RecordStore, row: Row) -> None:
    invoice = ET.SubElement(parent, wd("Customer_Invoice"))
    invoice_reference(invoice, row)
    data = ET.SubElement(invoice, wd("Customer_Invoice_Data"))
    add(data, "Customer_Invoice_ID", row["Customer_Invoice_ID"])
    if row.get("number"):
        add(data, "Invoice_Number", row["number"])
    reference(data, "Company_Reference", [("Company_Reference_ID", row["company"])])
    reference(data, "Customer_Reference", [("Customer_ID", row["customer"])])
    reference(data, "Currency_Reference", [("Currency_ID", row["currency"])])
    if row["status"] == "Approved":
        add(data, "Invoice_Date", row["invoice_date"])
        add(data, "Due_Date", row["due_date"])
    add(data, "Memo", row["memo"])
    total = invoice_total(row)
    paid = paid_on(store, row) if row["status"] == "Approved" else Decimal(0)
    due = max(Decimal(0), total - paid)
    add(data, "Total_Invoice_Amount", total)
    add(data, "Amount_Due", due)
    reference(data, "Invoice_Status_Reference", [("Document_Status_ID", row["status"])])
    payment_status = "Paid" if due == 0 and total > 0 else "Partially_Paid" if paid > 0 else "Unpaid"
    reference(data, "Payment_Status_Reference", [("Document_Payment_Status_ID", payment_status)])
    for line in row["lines"]:
        element = ET.SubElement(data, wd("Customer_Invoice_Line_Data"))
        add(element, "Line_Order", line["order"])
        reference(element, "Sales_Item_Reference", [("Sales_Item_ID", line["sales_item"])])
        add(element, "Line_Item_Description", line["description"])
        add(element, "Quantity", line["quantity"])
        add(element, "Unit_Cost", line["unit_cost"])
        add(element, "Extended_Amount", (Decimal(line["quantity"]) * Decimal(line["unit_cost"])).quantize(CENT))
        add(element, "Memo", line["memo"])


# -- payments ---------------------------------------------------------------------------------


def payment_by_reference(store: RecordStore, ids: dict[str, str]) -> Row | None:
    if "WID" in ids:
        return store.get("payments", ids["WID"])
    key = ids.get("Customer_Payment_Reference_ID")
    return one(store, "payments", "Customer_Payment_ID", key) if key else None


def payment_fields(store: RecordStore, data: ET.Element) -> Row:
    amount = _decimal(text(data, "wd:Amount", "0"), "Amount")
    if amount <= 0:
        raise invalid("Amount must be greater than zero")
    applied = data.find("wd:Customer_Invoice_Payment_Data", NS)
    invoice_id = ids_of(applied.find("wd:Customer_Invoice_Reference", NS) if applied is not None else None)
    invoice = invoice_by_reference(store, invoice_id) if invoice_id else None
    if invoice_id and (invoice is None or invoice["status"] != "Approved"):
        raise invalid("The customer invoice paid must exist and be approved")
    return {
        "customer": _ref(store, data, "Customer_Reference", "Customer_ID", "customers", required=True),
        "currency": _ref(store, data, "Currency_Reference", "Currency_ID", "", required=True),
        "date": _date(text(data, "wd:Payment_Date"), "Payment_Date").isoformat(),
        "amount": str(amount),
        "invoice": invoice["Customer_Invoice_ID"] if invoice else "",
    }


def payment_reference(parent: ET.Element, row: Row) -> None:
    reference(
        parent,
        "Customer_Payment_Reference",
        [("WID", row["wid"]), ("Customer_Payment_Reference_ID", row["Customer_Payment_ID"])],
    )


def payment_element(parent: ET.Element, row: Row) -> None:
    payment = ET.SubElement(parent, wd("Customer_Payment"))
    payment_reference(payment, row)
    data = ET.SubElement(payment, wd("Customer_Payment_Data"))
    add(data, "Customer_Payment_ID", row["Customer_Payment_ID"])
    reference(data, "Customer_Reference", [("Customer_ID", row["customer"])])
    reference(data, "Currency_Reference", [("Currency_ID", row["currency"])])
    add(data, "Payment_Date", row["date"])
    add(data, "Amount", row["amount"])
    if row["invoice"]:
        applied = ET.SubElement(data, wd("Customer_Invoice_Payment_Data"))
        reference(applied, "Customer_Invoice_Reference", [("Customer_Invoice_Reference_ID", row["invoice"])])
        add(applied, "Amount_to_Pay", row["amount"])


# -- the transaction log ------------------------------------------------------------------------


def updated_window(criteria: ET.Element | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Transaction_Log_Criteria_Data/Transaction_Date_Range_Data: Updated_From and
    Updated_Through, both inclusive."""
    path = "wd:Transaction_Log_Criteria_Data/wd:Transaction_Date_Range_Data"
    window = criteria.find(path, NS) if criteria is not None else None
    if window is None:
        return None, None
    return _moment(text(window, "wd:Updated_From")), _moment(text(window, "wd:Updated_Through"))


def _moment(value: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise invalid(f"'{value}' is not a valid dateTime") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def within(row: Row, window: tuple[dt.datetime | None, dt.datetime | None]) -> bool:
    updated = dt.datetime.fromisoformat(row["updated"])
    start, end = window
    return (start is None or updated >= start) and (end is None or updated <= end)
