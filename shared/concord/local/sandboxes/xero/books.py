"""One organisation's books in a tenant's store: contacts, sales invoices and their lines, and
payments, with the rules the Accounting API applies to them:

- a contact's Name is unique among its active contacts;
- an invoice update replaces its LineItems with those sent: a line sent with its LineItemID is
  kept (and changed), a line sent without one is new, **a line not sent is deleted**;
- only DRAFT and SUBMITTED invoices take line changes; AUTHORISED needs lines and a due date
  (the contact's sales terms, else 30 days); a payment lowers AmountDue, PAID at zero.
https://developer.xero.com/documentation/api/accounting/invoices
https://developer.xero.com/documentation/api/accounting/payments
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from ..kit import RecordStore
from .errors import ItemInvalid

Row = dict[str, Any]
CONTACTS, INVOICES, PAYMENTS, ITEMS = "Contacts", "Invoices", "Payments", "Items"
EDITABLE = ("DRAFT", "SUBMITTED")
BANK_ACCOUNT = {"AccountID": "13918178-849a-4823-9a31-57b7eac713d7", "Code": "090"}
# Items Concord bills (service items are item codes), priced for sale into account 200 (Sales).
ITEMS_SEEDED = (
    ("CONSULT-HR", "Consulting hour", 150.0),
    ("TRAVEL", "Travel expenses", 1.0),
    ("LICENSE", "Licence", 1000.0),
)


def ms_date(moment: dt.datetime) -> str:
    """Xero's JSON date: "/Date(<ms since the epoch>+0000)/"."""
    return f"/Date({int(moment.timestamp() * 1000)}+0000)/"


def day_date(day: str) -> str:
    return ms_date(dt.datetime.fromisoformat(day[:10]).replace(tzinfo=dt.UTC))


def public(row: Row) -> Row:
    """The record as the API shows it: internal fields dropped, UpdatedDateUTC a JSON date."""
    shown = {key: value for key, value in row.items() if not key.startswith("_")}
    shown["UpdatedDateUTC"] = ms_date(row["_updated"])
    for field in ("Date", "DueDate"):
        if row.get(field):
            shown[field] = day_date(row[field])
    return shown


def _new_guid() -> str:
    return str(uuid.uuid4())


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


class Books:
    def __init__(self, store: RecordStore, today: dt.date) -> None:
        self.store, self.today = store, today

    # -- contacts -------------------------------------------------------------------------------

    def contact(self, key: str) -> Row | None:
        """By ContactID, or by ContactNumber (GET /Contacts/{ContactNumber} works too)."""
        found = self.store.get(CONTACTS, key.lower())
        return found or next(iter(self.store.find(CONTACTS, "ContactNumber", key)), None)

    def save_contact(self, element: Row, contact_id: str | None) -> Row:
        current = self.store.get(CONTACTS, contact_id.lower()) if contact_id else None
        if contact_id and current is None:
            raise ItemInvalid([f"Contact with ID {contact_id} could not be found"])
        merged = {**(current or {}), **{k: v for k, v in element.items() if k != "ContactID"}}
        name = str(merged.get("Name") or "").strip()
        if not name:
            raise ItemInvalid(["The contact name must be specified."])
        clash = [
            row
            for row in self.store.find(CONTACTS, "Name", name)
            if row["ContactID"] != (contact_id or "").lower() and row.get("ContactStatus") != "ARCHIVED"
        ]
        if clash and merged.get("ContactStatus", "ACTIVE") != "ARCHIVED":
            raise ItemInvalid([f"The contact name {name} is already assigned to another contact."])
        if len(str(merged.get("ContactNumber") or "")) > 50:
            raise ItemInvalid(["The ContactNumber cannot be more than 50 characters."])
        merged.setdefault("ContactStatus", "ACTIVE")
        if current is None:
            return self._insert(CONTACTS, "ContactID", merged)
        return self.store.update(CONTACTS, current["ContactID"], merged)

    # -- invoices -------------------------------------------------------------------------------

    def invoice(self, invoice_id: str) -> Row | None:
        return self.store.get(INVOICES, invoice_id.lower())

    def save_invoice(self, element: Row, invoice_id: str | None) -> Row:
        current = self.invoice(invoice_id) if invoice_id else None
        if invoice_id and current is None:
            raise ItemInvalid([f"Invoice with ID {invoice_id} could not be found"])
        merged = {**(current or {}), **{k: v for k, v in element.items() if k not in ("InvoiceID", "LineItems")}}
        if current is not None and "LineItems" in element and current["Status"] not in EDITABLE:
            raise ItemInvalid([f"Invoice not of valid status for modification ({current['Status']})"])
        if merged.get("Type") not in ("ACCREC", "ACCPAY"):
            raise ItemInvalid(["Invoice Type must be specified (ACCREC or ACCPAY)"])
        contact_id = str((merged.get("Contact") or {}).get("ContactID") or "")
        if self.contact(contact_id) is None:
            raise ItemInvalid(["A Contact must be specified for this type of transaction"])
        merged["Contact"] = {"ContactID": contact_id.lower(), "Name": self.contact(contact_id)["Name"]}  # type: ignore[index]
        merged.setdefault("Status", "DRAFT")
        merged.setdefault("CurrencyCode", "USD")
        merged.setdefault("LineAmountTypes", "Exclusive")
        merged["Date"] = str(merged.get("Date") or self.today.isoformat())[:10]
        if "LineItems" in element or current is None:
            merged["LineItems"] = self._lines(element.get("LineItems") or [], (current or {}).get("LineItems") or [])
        self._authorising(merged, current)
        self._totals(merged)
        if current is None:
            merged["InvoiceNumber"] = f"INV-{len(self.store.rows(INVOICES)) + 1:04d}"
            return self._insert(INVOICES, "InvoiceID", merged)
        return self.store.update(INVOICES, current["InvoiceID"], merged)

    def _lines(self, sent: list[Row], had: list[Row]) -> list[Row]:
        """The invoice's lines after an update: exactly those sent (kept ones by LineItemID)."""
        by_id = {line["LineItemID"]: line for line in had}
        lines = []
        for line in sent:
            line_id = str(line.get("LineItemID") or "").lower()
            if line_id and line_id not in by_id:
                raise ItemInvalid([f"LineItemID {line_id} does not belong to this invoice"])
            merged = {**by_id.get(line_id, {}), **line, "LineItemID": line_id or _new_guid()}
            item = self._item(merged.get("ItemCode"))
            if merged.get("UnitAmount") is None:
                merged["UnitAmount"] = item["SalesDetails"]["UnitPrice"] if item else 0.0
            if float(merged.get("Quantity") or 0) <= 0:
                raise ItemInvalid(["Quantity must be greater than zero"])
            merged.setdefault("AccountCode", (item or {}).get("SalesDetails", {}).get("AccountCode", "200"))
            merged.setdefault("TaxType", "NONE")
            merged["LineAmount"] = float(_money(Decimal(str(merged["Quantity"])) * _money(merged["UnitAmount"])))
            merged["TaxAmount"] = 0.0
            lines.append(merged)
        return lines

    def _item(self, code: Any) -> Row | None:
        if not code:
            return None
        found = self.store.find(ITEMS, "Code", code)
        if not found:
            raise ItemInvalid([f"Item code '{code}' is not valid"])
        return found[0]

    def _authorising(self, invoice: Row, current: Row | None) -> None:
        if invoice["Status"] not in ("AUTHORISED", "PAID") or (current or {}).get("Status") in ("AUTHORISED", "PAID"):
            return
        if not invoice["LineItems"]:
            raise ItemInvalid(["An invoice must have at least one line item to be approved"])
        if not invoice.get("DueDate"):
            contact = self.contact(invoice["Contact"]["ContactID"]) or {}
            days = ((contact.get("PaymentTerms") or {}).get("Sales") or {}).get("Day", 30)
            invoice["DueDate"] = (dt.date.fromisoformat(invoice["Date"]) + dt.timedelta(days=int(days))).isoformat()
        invoice["Status"] = "AUTHORISED"

    @staticmethod
    def _totals(invoice: Row) -> None:
        total = sum((_money(line["LineAmount"]) for line in invoice["LineItems"]), Decimal(0))
        paid = _money(invoice.get("AmountPaid") or 0)
        invoice.update(SubTotal=float(total), TotalTax=0.0, Total=float(total), AmountPaid=float(paid))
        invoice["AmountDue"] = float(total - paid)

    # -- payments -------------------------------------------------------------------------------

    def payment(self, payment_id: str) -> Row | None:
        return self.store.get(PAYMENTS, payment_id.lower())

    def create_payment(self, element: Row) -> Row:
        invoice = self.invoice(str((element.get("Invoice") or {}).get("InvoiceID") or ""))
        if invoice is None:
            raise ItemInvalid(["Invoice could not be found"])
        if invoice["Status"] != "AUTHORISED":
            raise ItemInvalid([f"Payments can only be made against Authorised documents ({invoice['Status']})"])
        amount = _money(element.get("Amount") or 0)
        if amount <= 0 or amount > _money(invoice["AmountDue"]):
            raise ItemInvalid(["Payment amount exceeds the amount outstanding on this document"])
        if (element.get("Account") or {}).get("Code") != BANK_ACCOUNT["Code"]:
            raise ItemInvalid(["Account code must be specified and be a bank account"])
        paid = _money(invoice["AmountPaid"]) + amount
        due = _money(invoice["Total"]) - paid
        self.store.update(
            INVOICES,
            invoice["InvoiceID"],
            {"AmountPaid": float(paid), "AmountDue": float(due), "Status": "PAID" if due == 0 else "AUTHORISED"},
        )
        payment = {
            "Invoice": {
                "InvoiceID": invoice["InvoiceID"],
                "Type": invoice["Type"],
                "InvoiceNumber": invoice["InvoiceNumber"],
            },
            "Account": dict(BANK_ACCOUNT),
            "Date": str(element.get("Date") or self.today.isoformat())[:10],
            "Amount": float(amount),
            "Status": "AUTHORISED",
            "PaymentType": "ACCRECPAYMENT" if invoice["Type"] == "ACCREC" else "ACCPAYPAYMENT",
        }
        return self._insert(PAYMENTS, "PaymentID", payment)

    # -- reference data --------------------------------------------------------------------------

    def seed_items(self) -> None:
        for code, name, price in ITEMS_SEEDED:
            self._insert(
                ITEMS,
                "ItemID",
                {
                    "Code": code,
                    "Name": name,
                    "IsSold": True,
                    "SalesDetails": {"UnitPrice": price, "AccountCode": "200"},
                },
            )

    def _insert(self, table: str, id_field: str, fields: Row) -> Row:
        row = self.store.insert(table, fields)
        return self.store.update(table, row["_id"], {id_field: row["_id"]})
