"""The analytics view of the records SuiteQL reads: one row per record (and one per transaction
line), lower-case columns, references as their ids, checkboxes 'T'/'F', stamps in UTC as
'YYYY-MM-DD HH:MM:SS' (the sandbox's users all work in UTC)."""

from __future__ import annotations

from typing import Any

from ..kit import RecordStore

Row = dict[str, Any]
# REST record type -> SuiteQL transaction type
TRANSACTION_TYPES = {"salesOrder": "SalesOrd", "invoice": "CustInvc", "customerPayment": "CustPymt"}
STAMPS = ("lastModifiedDate", "dateCreated", "createdDate")
# Columns each table has even before a record sets them: the standard ones Concord reads, and the
# account's custom transaction column (the sandbox account is customised with it).
COLUMNS = {
    "customer": (
        "id",
        "entityid",
        "companyname",
        "isinactive",
        "externalid",
        "vatregnumber",
        "lastmodifieddate",
        "datecreated",
    ),
    "job": ("id", "entityid", "companyname", "externalid", "lastmodifieddate"),
    "item": ("id", "itemid", "displayname", "baseprice"),
    "currency": ("id", "symbol", "name"),
    "term": ("id", "name", "daysuntilnetdue"),
}
CONCORD_REF_COLUMN = "custcol_concord_ref"


def _cell(name: str, value: Any) -> Any:
    if isinstance(value, bool):
        return "T" if value else "F"
    if isinstance(value, dict):
        return value.get("id")
    if name in STAMPS and isinstance(value, str):
        return value.replace("T", " ").removesuffix("Z")
    return value


def _flat(record: Row) -> Row:
    """Body fields only (sublists left out), names lower-cased."""
    return {
        name.lower(): _cell(name, value)
        for name, value in record.items()
        if not (isinstance(value, dict) and "items" in value) and name != "links"
    }


def _transaction(record_type: str, record: Row) -> Row:
    row = _flat(record)
    row["type"] = TRANSACTION_TYPES[record_type]
    row["status"] = (record.get("status") or {}).get("id")
    row["foreigntotal"] = record.get("total")
    row["foreignamountremaining"] = record.get("amountRemaining")
    return row


def _lines(record: Row) -> list[Row]:
    rows = []
    for line in (record.get("item") or {}).get("items") or []:
        row = {name.lower(): _cell(name, value) for name, value in line.items() if name != "links"}
        row.update({"transaction": record["id"], "id": line["line"], "mainline": "F", "memo": line.get("description")})
        rows.append(row)
    return rows


def _table(rows: list[Row], always: tuple[str, ...]) -> tuple[list[str], list[Row]]:
    columns = list(dict.fromkeys([*always, *(name for row in rows for name in row)]))
    return columns, rows


def analytics_tables(store: RecordStore) -> dict[str, tuple[list[str], list[Row]]]:
    tables = {name: _table([_flat(r) for r in store.rows(name)], always) for name, always in COLUMNS.items()}
    transactions = [(record_type, record) for record_type in TRANSACTION_TYPES for record in store.rows(record_type)]
    tables["transaction"] = _table(
        [_transaction(t, r) for t, r in transactions],
        (
            "id",
            "type",
            "status",
            "externalid",
            "entity",
            "currency",
            "tranid",
            "trandate",
            "memo",
            "foreigntotal",
            "foreignamountremaining",
            "lastmodifieddate",
            "createddate",
        ),
    )
    tables["transactionline"] = _table(
        [line for _, r in transactions for line in _lines(r)],
        (
            "transaction",
            "id",
            "item",
            "quantity",
            "rate",
            "amount",
            "memo",
            "mainline",
            "createdfrom",
            CONCORD_REF_COLUMN,
        ),
    )
    return tables
