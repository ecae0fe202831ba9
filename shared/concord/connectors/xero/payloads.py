"""The Xero records Concord reads (Accounting API 2.0), typed; unknown fields ignored.

Dates come as Microsoft JSON dates, "/Date(1573755038314+0000)/" (UpdatedDateUTC, and Date /
DueDate next to their ISO `DateString` / `DueDateString`).
https://developer.xero.com/documentation/api/accounting/requests-and-responses/
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
POSTED = frozenset({"AUTHORISED", "PAID"})
EDITABLE = frozenset({"DRAFT", "SUBMITTED"})


def parse_xero_time(value: Any) -> Any:
    """A "/Date(ms+zone)/" or ISO string as an aware UTC datetime (other values as given)."""
    if isinstance(value, str):
        match = _MS_DATE.match(value)
        if match:
            return dt.datetime.fromtimestamp(int(match.group(1)) / 1000, dt.UTC)
        moment = dt.datetime.fromisoformat(value)
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return value


def parse_xero_date(value: Any) -> Any:
    moment = parse_xero_time(value)
    return moment.date() if isinstance(moment, dt.datetime) else moment


XeroTime = Annotated[dt.datetime, BeforeValidator(parse_xero_time)]
XeroDate = Annotated[dt.date, BeforeValidator(parse_xero_date)]


class XeroRecord(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class AddressRow(XeroRecord):
    AddressType: str = ""
    AddressLine1: str = ""
    City: str = ""
    Region: str = ""
    PostalCode: str = ""
    Country: str = ""


class ContactRow(XeroRecord):
    ContactID: str
    ContactNumber: str = ""
    Name: str
    TaxNumber: str = ""
    ContactStatus: str = "ACTIVE"
    DefaultCurrency: str = ""
    Addresses: list[AddressRow] = []
    UpdatedDateUTC: XeroTime


class ContactRef(XeroRecord):
    ContactID: str


class LineItemRow(XeroRecord):
    LineItemID: str
    Description: str = ""
    Quantity: Decimal = Decimal(0)
    UnitAmount: Decimal | None = None
    ItemCode: str | None = None
    AccountCode: str | None = None
    TaxType: str | None = None


class InvoiceRow(XeroRecord):
    InvoiceID: str
    Type: str
    Status: str
    InvoiceNumber: str = ""
    Reference: str = ""
    Contact: ContactRef
    CurrencyCode: str
    Date: XeroDate | None = None
    DueDate: XeroDate | None = None
    Total: Decimal = Decimal(0)
    AmountDue: Decimal = Decimal(0)
    LineItems: list[LineItemRow] = []
    UpdatedDateUTC: XeroTime

    @property
    def posted(self) -> bool:
        return self.Status in POSTED


class InvoiceRef(XeroRecord):
    InvoiceID: str
    Type: str = ""


class PaymentRow(XeroRecord):
    PaymentID: str
    Invoice: InvoiceRef
    Amount: Decimal
    Date: XeroDate
    Status: str = "AUTHORISED"
    UpdatedDateUTC: XeroTime


class Stamp(XeroRecord):
    """What polling reads of any record: its id (under the record type's own name) and time."""

    UpdatedDateUTC: XeroTime
