"""One Business Central company's records in a tenant's store: tables scoped by company id,
ETags derived from each record's version, and the reference data a new company starts with
(items, payment terms, a customer payment journal), as the CRONUS demo company has them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from ..kit import RecordStore
from .errors import BcError, invalid, not_found

Row = dict[str, Any]
DEFAULT_COMPANY_ID = "5b3a0a1e-0d8e-ef11-8a6a-6045bdacc1a1"
DEFAULT_COMPANY_NAME = "CRONUS USA, Inc."
ZERO_ID = "00000000-0000-0000-0000-000000000000"
# Items Concord bills (service items are item numbers) and payment terms, with due date formulas in days.
ITEMS = (("CONSULT-HR", "Consulting hour", 150.0), ("TRAVEL", "Travel expenses", 1.0), ("LICENSE", "Licence", 1000.0))
PAYMENT_TERMS = (("30 DAYS", "Net 30 days", 30), ("14 DAYS", "Net 14 days", 14), ("COD", "Cash on delivery", 0))


def etag(row: Row) -> str:
    """A weak ETag that changes whenever the record is written (Business Central's are opaque)."""
    digest = hashlib.sha256(f"{row['id']}|{row.get('lastModifiedDateTime')}".encode()).hexdigest()[:24]
    return f'W/"JzQ0O{digest}Jzs="'


# Entities whose API page shows no lastModifiedDateTime (the store stamps every record).
UNSTAMPED = frozenset({"salesInvoiceLines"})


def public(row: Row, entity_set: str = "") -> Row:
    """The record as the API shows it: internal fields (`_...`) dropped, the ETag added."""
    hidden = "lastModifiedDateTime" if entity_set in UNSTAMPED else "_"
    shown = {key: value for key, value in row.items() if not key.startswith("_") and key != hidden}
    return {"@odata.etag": etag(row), **shown}


class Company:
    def __init__(self, store: RecordStore, company_id: str) -> None:
        self.store, self.id = store, company_id

    def table(self, entity_set: str) -> str:
        return f"{self.id}/{entity_set}"

    def rows(self, entity_set: str) -> list[Row]:
        return self.store.rows(self.table(entity_set))

    def get(self, entity_set: str, record_id: str, what: str) -> Row:
        row = self.store.get(self.table(entity_set), record_id.strip("'"))
        if row is None:
            raise not_found(what)
        return row

    def insert(self, entity_set: str, fields: Row) -> Row:
        return self.store.insert(self.table(entity_set), fields)

    def update(self, entity_set: str, record_id: str, fields: Row) -> Row:
        return self.store.update(self.table(entity_set), record_id, fields)

    def checked_update(self, entity_set: str, record_id: str, if_match: str | None, fields: Row, what: str) -> Row:
        """An update guarded by If-Match (required; `*` matches any version): 412 when stale."""
        current = self.get(entity_set, record_id, what)
        if not if_match:
            raise invalid("Could not find a property named 'If-Match' in the request headers: it is required.")
        if if_match != "*" and if_match != etag(current):
            raise BcError(412, "Request_EntityChanged", "Another user has already changed the record.")
        return self.update(entity_set, current["id"], fields)

    def find(self, entity_set: str, field: str, value: Any) -> list[Row]:
        return self.store.find(self.table(entity_set), field, value)

    def item(self, number: str | None, item_id: str | None) -> Row:
        for row in self.rows("items"):
            if (number and row["number"] == number) or (item_id and row["id"] == item_id):
                return row
        raise invalid(
            f"The field No. of table Sales Line contains a value ({number or item_id}) that cannot be "
            "found in the related table (Item)."
        )

    def seed_reference_data(self, today: dt.date) -> None:
        for number, name, price in ITEMS:
            self.insert(
                "items",
                {
                    "number": number,
                    "displayName": name,
                    "type": "Service",
                    "blocked": False,
                    "baseUnitOfMeasureCode": "HOUR",
                    "unitPrice": price,
                    "unitCost": 0.0,
                },
            )
        for code, name, days in PAYMENT_TERMS:
            self.insert(
                "paymentTerms",
                {
                    "code": code,
                    "displayName": name,
                    "dueDateCalculation": f"{days}D",
                    "discountDateCalculation": "",
                    "discountPercent": 0.0,
                    "calculateDiscountOnCreditMemos": False,
                },
            )
        self.insert(
            "customerPaymentJournals",
            {
                "code": "CASHRCPT",
                "displayName": "Cash receipts",
                "balancingAccountId": ZERO_ID,
                "balancingAccountNumber": "",
            },
        )
