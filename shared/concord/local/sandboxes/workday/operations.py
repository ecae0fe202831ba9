"""The Revenue_Management operations the sandbox plays, each `(store, request) -> response`.

Put_Customer, Get_Customers, Submit_Customer_Invoice, Get_Customer_Invoices, Put_Customer_Payment
and Get_Customer_Payments, as the WWS operation pages of Revenue_Management describe them:
https://community.workday.com/sites/default/files/file-hosting/productionapi/Revenue_Management/v45.0/Revenue_Management.html
Records are keyed by WID; reference ids (Customer_ID, Customer_Invoice_Reference_ID,
Customer_Payment_Reference_ID) are client-assigned and unique per type, so a Put repeated with
the same reference id updates the record it made.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

from ..kit import RecordStore
from . import records
from .envelope import NS, ids_of, invalid, invalid_id, text, wd
from .paging import page_of_records

Operation = Callable[[RecordStore, ET.Element, dt.date], ET.Element]


def _response(name: str) -> ET.Element:
    return ET.Element(wd(f"{name}_Response"), {wd("version"): "v45.0"})


def _flag(element: ET.Element | None, path: str) -> bool:
    return text(element, path).lower() in ("true", "1")


def _add_only(request: ET.Element) -> bool:
    """The request's wd:Add_Only attribute: a Put that must not update an existing record."""
    return request.get(wd("Add_Only"), "").lower() in ("true", "1")


# -- customers --------------------------------------------------------------------------------


def put_customer(store: RecordStore, request: ET.Element, today: dt.date) -> ET.Element:
    data = request.find("wd:Customer_Data", NS)
    if data is None:
        raise invalid("Customer_Data is required", "/bsvc:Put_Customer_Request[1]")
    existing = records.customer_by_reference(store, ids_of(request.find("wd:Customer_Reference", NS)))
    customer_id = text(data, "wd:Customer_ID") or (existing or {}).get("Customer_ID", "")
    same_id = records.one(store, "customers", "Customer_ID", customer_id) if customer_id else None
    if existing is None:
        existing = same_id
    elif same_id is not None and same_id["wid"] != existing["wid"]:
        raise invalid(f"Customer ID '{customer_id}' is already in use by another customer")
    if existing is not None and _add_only(request):
        raise invalid(f"Add Only: customer '{customer_id}' already exists")
    fields = records.customer_fields(store, data, existing)
    if existing is None:
        saved = store.insert(
            "customers",
            {**fields, "Customer_ID": customer_id or records.next_number(store, "CUST", "customers", "Customer_ID")},
        )
    else:
        saved = store.update("customers", existing["wid"], {**fields, "Customer_ID": customer_id})
    response = _response("Put_Customer")
    records.customer_reference(response, saved)
    return response


def get_customers(store: RecordStore, request: ET.Element, today: dt.date) -> ET.Element:
    wanted = [ids_of(ref) for ref in request.findall("wd:Request_References/wd:Customer_Reference", NS)]
    if wanted:
        found = [records.customer_by_reference(store, ids) for ids in wanted]
        missing = next((ids for ids, row in zip(wanted, found, strict=True) if row is None), None)
        if missing is not None:
            id_type, value = next(iter(missing.items()), ("Customer_ID", ""))
            raise invalid_id(value, id_type)
        rows = [row for row in found if row is not None]
    else:
        criteria = request.find("wd:Request_Criteria", NS)
        window = records.updated_window(criteria)
        rows = [
            row
            for row in store.rows("customers")
            if records.customer_matches(row, criteria) and records.within(row, window)
        ]
    response = _response("Get_Customers")
    data = page_of_records(response, request, rows)
    for row in data:
        records.customer_element(response.find("wd:Response_Data", NS), row)  # type: ignore[arg-type]
    return response


# -- invoices ---------------------------------------------------------------------------------


def submit_customer_invoice(store: RecordStore, request: ET.Element, today: dt.date) -> ET.Element:
    data = request.find("wd:Customer_Invoice_Data", NS)
    if data is None:
        raise invalid("Customer_Invoice_Data is required", "/bsvc:Submit_Customer_Invoice_Request[1]")
    target = request.find("wd:Customer_Invoice_Reference", NS)
    existing = records.invoice_by_reference(store, ids_of(target)) if target is not None else None
    if target is not None and existing is None:
        id_type, value = next(iter(ids_of(target).items()), ("Customer_Invoice_Reference_ID", ""))
        raise invalid_id(value, id_type)
    invoice_id = text(data, "wd:Customer_Invoice_ID") or (existing or {}).get("Customer_Invoice_ID", "")
    if existing is None and invoice_id:
        existing = records.one(store, "invoices", "Customer_Invoice_ID", invoice_id)
        if existing is not None and _add_only(request):
            raise invalid(f"Add Only: customer invoice '{invoice_id}' already exists")
    if existing is not None and existing["status"] != "Draft":
        raise invalid(
            f"Customer Invoice '{existing['Customer_Invoice_ID']}' is {existing['status']}: it cannot be changed"
        )
    fields = records.invoice_fields(store, data, today)
    if _flag(data, "wd:Submit"):
        fields.update(records.submitted(store, fields, today))
    with store.transaction():
        if existing is None:
            saved = store.insert(
                "invoices",
                {
                    **fields,
                    "Customer_Invoice_ID": invoice_id
                    or records.next_number(store, "CUSTOMER_INVOICE", "invoices", "Customer_Invoice_ID"),
                },
            )
        else:
            saved = store.update("invoices", existing["wid"], fields)
    response = _response("Submit_Customer_Invoice")
    records.invoice_reference(response, saved)
    return response


def get_customer_invoices(store: RecordStore, request: ET.Element, today: dt.date) -> ET.Element:
    rows = _selected(
        store,
        request,
        "invoices",
        "Customer_Invoice_Reference",
        records.invoice_by_reference,
        "Customer_Invoice_Reference_ID",
    )
    response = _response("Get_Customer_Invoices")
    for row in page_of_records(response, request, rows):
        records.invoice_element(response.find("wd:Response_Data", NS), store, row)  # type: ignore[arg-type]
    return response


# -- payments ---------------------------------------------------------------------------------


def put_customer_payment(store: RecordStore, request: ET.Element, today: dt.date) -> ET.Element:
    data = request.find("wd:Customer_Payment_Data", NS)
    if data is None:
        raise invalid("Customer_Payment_Data is required", "/bsvc:Put_Customer_Payment_Request[1]")
    fields = records.payment_fields(store, data)
    payment_id = text(data, "wd:Customer_Payment_ID")
    existing = records.one(store, "payments", "Customer_Payment_ID", payment_id) if payment_id else None
    with store.transaction():
        if existing is None:
            saved = store.insert(
                "payments",
                {
                    **fields,
                    "Customer_Payment_ID": payment_id
                    or records.next_number(store, "PAYMENT", "payments", "Customer_Payment_ID"),
                },
            )
        else:
            saved = store.update("payments", existing["wid"], fields)
        invoice = records.one(store, "invoices", "Customer_Invoice_ID", fields["invoice"])
        if invoice is not None:  # applying a payment changes the invoice's amount due
            store.update("invoices", invoice["wid"], {})
    response = _response("Put_Customer_Payment")
    records.payment_reference(response, saved)
    return response


def get_customer_payments(store: RecordStore, request: ET.Element, today: dt.date) -> ET.Element:
    rows = _selected(
        store,
        request,
        "payments",
        "Customer_Payment_Reference",
        records.payment_by_reference,
        "Customer_Payment_Reference_ID",
    )
    response = _response("Get_Customer_Payments")
    for row in page_of_records(response, request, rows):
        records.payment_element(response.find("wd:Response_Data", NS), row)  # type: ignore[arg-type]
    return response


def _selected(
    store: RecordStore,
    request: ET.Element,
    table: str,
    reference_name: str,
    by_reference: Callable[[RecordStore, dict[str, str]], dict[str, Any] | None],
    id_type: str,
) -> list[dict[str, Any]]:
    """The records a Get names (an unknown reference is a validation fault, as in Workday), or
    those its criteria select: a customer, and a transaction log window (updated from/through)."""
    wanted = [ids_of(ref) for ref in request.findall(f"wd:Request_References/wd:{reference_name}", NS)]
    if wanted:
        rows = []
        for ids in wanted:
            row = by_reference(store, ids)
            if row is None:
                kind, value = next(iter(ids.items()), (id_type, ""))
                raise invalid_id(value, kind)
            rows.append(row)
        return rows
    criteria = request.find("wd:Request_Criteria", NS)
    customer = ids_of(criteria.find("wd:Customer_Reference", NS) if criteria is not None else None)
    window = records.updated_window(criteria)
    return [
        row
        for row in store.rows(table)
        if (not customer or row["customer"] == customer.get("Customer_ID")) and records.within(row, window)
    ]


OPERATIONS: dict[str, Operation] = {
    "Put_Customer_Request": put_customer,
    "Get_Customers_Request": get_customers,
    "Submit_Customer_Invoice_Request": submit_customer_invoice,
    "Get_Customer_Invoices_Request": get_customer_invoices,
    "Put_Customer_Payment_Request": put_customer_payment,
    "Get_Customer_Payments_Request": get_customer_payments,
}
