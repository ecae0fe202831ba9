"""The records of one QuickBooks Online company: Customer, Item, Term, Estimate, Invoice, Payment.

Rules the sandbox enforces as QuickBooks does (codes from Intuit's error list,
https://developer.intuit.com/app/developer/qbo/docs/develop/troubleshooting/error-codes):
- an update names the record's current SyncToken, else 5010 Stale Object Error;
- Customer DisplayName is unique (6240 Duplicate Name Exists);
- a sales line's Amount is Qty x UnitPrice (UnitPrice defaults to the Item's);
- an Invoice posts on create: TotalAmt and Balance, DueDate from the customer's term (Net 30);
  one linked to an Estimate closes it;
- a Payment's lines linked to invoices lower their Balance.
Every create and update stamps MetaData (CreateTime, LastUpdatedTime) and bumps SyncToken.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..kit import RecordStore

ENTITIES = ("Customer", "Item", "Term", "Estimate", "Invoice", "Payment")
# URL segment (lower case) -> entity name
BY_PATH = {name.lower(): name for name in ENTITIES}
TRANSACTIONS = ("Estimate", "Invoice", "Payment")
HOME_CURRENCY = "USD"


@dataclass
class QboError(Exception):
    """A Fault answer: {"Fault": {"Error": [{"Message", "Detail", "code"}], "type"}, "time"}."""

    status: int
    code: str
    message: str
    detail: str
    fault_type: str = "ValidationFault"
    element: str | None = None

    def fault(self) -> dict[str, Any]:
        error: dict[str, Any] = {"Message": self.message, "Detail": self.detail, "code": self.code}
        if self.element:
            error["element"] = self.element
        return {"Error": [error], "type": self.fault_type}


def invalid(detail: str, element: str | None = None, code: str = "2020") -> QboError:
    return QboError(
        400, code, "Required param missing, need to supply the required value for the API", detail, element=element
    )


def not_found(entity: str, record_id: str) -> QboError:
    return QboError(
        400,
        "610",
        "Object Not Found",
        f"Object Not Found : Something you're trying to use has been made inactive. "
        f"Check the fields with accounts, customers, items, vendors or employees. ({entity} {record_id})",
    )


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _number(value: Decimal) -> float:
    return float(value)


class Company:
    """The entities of one realm over the tenant's store."""

    def __init__(self, store: RecordStore, today: dt.date) -> None:
        self.store, self.today = store, today

    # ---------------------------------------------------------------- generic

    def read(self, entity: str, record_id: str) -> dict[str, Any]:
        record = self.store.get(entity, record_id)
        if record is None:
            raise not_found(entity, record_id)
        return record

    def create(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("Id"):
            raise invalid("Id is not allowed on create", "Id")
        fields = getattr(self, f"_check_{entity.lower()}")(dict(body), None)
        moment = _stamp(self.store.clock.tick())
        fields["SyncToken"] = "0"
        fields["MetaData"] = {"CreateTime": moment, "LastUpdatedTime": moment}
        fields["domain"], fields["sparse"] = "QBO", False
        created = self.store.insert(entity, fields)
        self._after_write(entity, created)
        return created

    def update(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        record_id = str(body.get("Id") or "")
        current = self.read(entity, record_id)
        if str(body.get("SyncToken")) != current["SyncToken"]:
            raise QboError(
                400,
                "5010",
                "Stale Object Error",
                f"Stale Object Error : You and {record_id} were working on this at the same time. "
                "The other finished before you did, so your work was not saved.",
            )
        sparse = bool(body.get("sparse"))
        merged = {**current, **body} if sparse else {**body, "MetaData": current["MetaData"]}
        fields = getattr(self, f"_check_{entity.lower()}")(merged, current)
        fields["SyncToken"] = str(int(current["SyncToken"]) + 1)
        fields["MetaData"] = {**current["MetaData"], "LastUpdatedTime": _stamp(self.store.clock.tick())}
        fields["domain"], fields["sparse"] = "QBO", False
        updated = self.store.update(entity, record_id, fields)
        self._after_write(entity, updated)
        return updated

    def touch(self, entity: str, record_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """A change QuickBooks makes itself (a Balance after a payment): a new version."""
        current = self.read(entity, record_id)
        changes = {
            **changes,
            "SyncToken": str(int(current["SyncToken"]) + 1),
            "MetaData": {**current["MetaData"], "LastUpdatedTime": _stamp(self.store.clock.tick())},
        }
        return self.store.update(entity, record_id, changes)

    # ---------------------------------------------------------------- per entity

    def _check_customer(self, fields: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
        name = str(fields.get("DisplayName") or fields.get("CompanyName") or "").strip()
        if not name:
            raise invalid("DisplayName is required", "DisplayName")
        for other in self.store.find("Customer", "DisplayName", name):
            if current is None or other["Id"] != current["Id"]:
                raise QboError(
                    400,
                    "6240",
                    "Duplicate Name Exists Error",
                    f"The name supplied already exists. : Id={other['Id']}",
                )
        fields["DisplayName"] = name
        fields.setdefault("Active", True)
        fields.setdefault("CurrencyRef", {"value": HOME_CURRENCY, "name": "United States Dollar"})
        fields.setdefault("Balance", 0)
        return fields

    def _check_item(self, fields: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
        if not fields.get("Name"):
            raise invalid("Name is required", "Name")
        fields.setdefault("Active", True)
        fields.setdefault("Type", "Service")
        return fields

    def _check_term(self, fields: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
        if not fields.get("Name"):
            raise invalid("Name is required", "Name")
        fields.setdefault("Active", True)
        fields.setdefault("DueDays", 30)
        return fields

    def _check_estimate(self, fields: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
        fields = self._sales_document(fields, current)
        fields.setdefault("TxnStatus", "Pending")
        return fields

    def _check_invoice(self, fields: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
        fields = self._sales_document(fields, current)
        paid = _money(current["TotalAmt"]) - _money(current["Balance"]) if current else Decimal(0)
        fields["Balance"] = _number(_money(fields["TotalAmt"]) - paid)
        if "DueDate" not in fields:
            fields["DueDate"] = (
                dt.date.fromisoformat(fields["TxnDate"]) + dt.timedelta(days=self._due_days(fields))
            ).isoformat()
        fields.setdefault("DocNumber", str(1000 + len(self.store.rows("Invoice")) + 1))
        return fields

    def _check_payment(self, fields: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
        if current is not None:
            raise invalid("the sandbox does not update payments", "Id")
        self._customer_of(fields)
        total = _money(fields.get("TotalAmt") or 0)
        applied = Decimal(0)
        for line in fields.get("Line") or []:
            for linked in line.get("LinkedTxn") or []:
                if linked.get("TxnType") != "Invoice":
                    raise invalid("a payment line links invoices only", "LinkedTxn")
                invoice = self.read("Invoice", str(linked.get("TxnId")))
                if _money(line.get("Amount") or 0) > _money(invoice["Balance"]):
                    raise QboError(
                        400, "6000", "A business validation error has occurred", "Amount exceeds the invoice balance"
                    )
            applied += _money(line.get("Amount") or 0)
        if applied > total:
            raise QboError(400, "6000", "A business validation error has occurred", "Lines apply more than TotalAmt")
        fields["TotalAmt"] = _number(total)
        fields["UnappliedAmt"] = _number(total - applied)
        fields.setdefault("TxnDate", self.today.isoformat())
        fields.setdefault("CurrencyRef", {"value": HOME_CURRENCY})
        return fields

    def _after_write(self, entity: str, record: dict[str, Any]) -> None:
        if entity == "Invoice":
            for linked in record.get("LinkedTxn") or []:
                if linked.get("TxnType") == "Estimate":
                    converted = [{"TxnId": record["Id"], "TxnType": "Invoice"}]
                    self.touch("Estimate", str(linked["TxnId"]), {"TxnStatus": "Closed", "LinkedTxn": converted})
        if entity == "Payment":
            for line in record.get("Line") or []:
                for linked in line.get("LinkedTxn") or []:
                    invoice = self.read("Invoice", str(linked["TxnId"]))
                    balance = _money(invoice["Balance"]) - _money(line.get("Amount") or 0)
                    self.touch("Invoice", invoice["Id"], {"Balance": _number(balance)})

    # ---------------------------------------------------------------- helpers

    def _customer_of(self, fields: dict[str, Any]) -> dict[str, Any]:
        reference = fields.get("CustomerRef") or {}
        if not reference.get("value"):
            raise invalid("CustomerRef is required", "CustomerRef")
        return self.read("Customer", str(reference["value"]))

    def _due_days(self, fields: dict[str, Any]) -> int:
        term_id = (fields.get("SalesTermRef") or {}).get("value")
        if not term_id:
            customer = self._customer_of(fields)
            term_id = (customer.get("SalesTermRef") or {}).get("value")
        term = self.store.get("Term", str(term_id)) if term_id else None
        return int(term.get("DueDays", 30)) if term else 30

    def _sales_document(self, fields: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
        customer = self._customer_of(fields)
        lines = fields.get("Line") or []
        if not lines:
            raise invalid("Line is required", "Line")
        next_id = max((int(line["Id"]) for line in lines if str(line.get("Id", "")).isdigit()), default=0)
        total, numbered = Decimal(0), list[dict[str, Any]]()
        for line in lines:
            line = dict(line)
            if line.get("DetailType") == "SalesItemLineDetail":
                line = self._sales_line(line)
                total += _money(line["Amount"])
            elif line.get("DetailType") != "DescriptionOnly":
                raise invalid(f"DetailType {line.get('DetailType')!r} is not supported here", "Line.DetailType")
            if not str(line.get("Id", "")).isdigit():
                next_id += 1
                line["Id"] = str(next_id)
            line.setdefault("LineNum", len(numbered) + 1)
            numbered.append(line)
        fields["Line"] = numbered
        fields["TotalAmt"] = _number(total)
        fields.setdefault("TxnDate", self.today.isoformat())
        fields.setdefault("CurrencyRef", customer.get("CurrencyRef") or {"value": HOME_CURRENCY})
        return fields

    def _sales_line(self, line: dict[str, Any]) -> dict[str, Any]:
        detail = dict(line.get("SalesItemLineDetail") or {})
        item_id = str((detail.get("ItemRef") or {}).get("value") or "")
        item = self.read("Item", item_id)
        quantity = Decimal(str(detail.get("Qty", 1)))
        price = Decimal(str(detail.get("UnitPrice", item.get("UnitPrice", 0))))
        amount = _money(quantity * price)
        if "Amount" in line and _money(line["Amount"]) != amount:
            raise QboError(400, "6070", "Amount calculation incorrect", "Amount is not equal to UnitPrice * Qty")
        detail.update(
            {"ItemRef": {"value": item["Id"], "name": item["Name"]}, "Qty": float(quantity), "UnitPrice": float(price)}
        )
        return {**line, "Amount": _number(amount), "SalesItemLineDetail": detail}
