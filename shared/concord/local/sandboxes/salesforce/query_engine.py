"""Runs a parsed SOQL query against a tenant's records: checks every field against the
schema, follows parent relationships (Account.Name) and child subqueries (OpportunityLineItems),
filters, orders, limits and shapes records as the REST API returns them."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..kit import RecordStore
from .errors import ApiError
from .ids import to_18
from .schema import NUMBER_TYPES, TEXT_TYPES, FieldType, Schema, SField, SObjectType
from .soql import Compare, Condition, InList, Junction, Like, Negation, OrderKey, Query, Value
from .values import parse_date, parse_datetime

Row = dict[str, Any]
Predicate = Callable[[Row], bool]
_LITERAL_KIND = {
    FieldType.DATETIME: "datetime",
    FieldType.DATE: "date",
    FieldType.BOOLEAN: "boolean",
    FieldType.DOUBLE: "number",
    FieldType.CURRENCY: "number",
}
_TYPE_NAME = {"datetime": "dateTime", "date": "date", "boolean": "boolean", "number": "double", "string": "string"}


def invalid_field(column: str, sobject: str) -> ApiError:
    return ApiError(
        400,
        "INVALID_FIELD",
        f"No such column '{column}' on entity '{sobject}'. If "
        "you are attempting to use a custom field, be sure to append the '__c' after "
        "the custom field name.",
    )


class QueryEngine:
    def __init__(self, schema: Schema, store: RecordStore, api_path: str) -> None:
        self._schema = schema
        self._store = store
        self._api_path = api_path

    def run(self, query: Query) -> list[Row]:
        sobject = self._schema.get(query.sobject)
        if sobject is None:
            raise ApiError(400, "INVALID_TYPE", f"sObject type '{query.sobject}' is not supported.")
        return self._select(query, sobject, self._store.rows(sobject.name))

    def _select(self, query: Query, sobject: SObjectType, rows: list[Row]) -> list[Row]:
        shapers = [self._shaper(item, sobject) for item in query.fields]
        keep = self._compile(query.where, sobject) if query.where else (lambda _: True)
        rows = self._ordered([r for r in rows if keep(r)], query.order_by, sobject)
        if query.limit is not None:
            rows = rows[: query.limit]
        shaped = []
        for row in rows:
            out: Row = {"attributes": self._attributes(sobject.name, row["Id"])}
            for shape in shapers:
                shape(row, out)
            shaped.append(out)
        return shaped

    def _attributes(self, sobject: str, record_id: str) -> dict[str, str]:
        return {"type": sobject, "url": f"{self._api_path}/sobjects/{sobject}/{record_id}"}

    # ----------------------------------------------------------------- fields and paths

    def _resolve(self, sobject: SObjectType, path: str) -> tuple[list[SField], SField]:
        """The reference fields a dotted path follows, and the field it ends on."""
        *relationships, column = path.split(".")
        hops: list[SField] = []
        current = sobject
        for name in relationships:
            hop = current.relationship(name)
            target = self._schema.get(hop.references) if hop and hop.references else None
            if hop is None or target is None:
                raise invalid_field(path, sobject.name)
            hops.append(hop)
            current = target
        final = current.field(column)
        if final is None:
            raise invalid_field(path, sobject.name)
        return hops, final

    def _value_at(self, row: Row | None, hops: list[SField], final: SField) -> Any:
        for hop in hops:
            if row is None or not row.get(hop.name):
                return None
            row = self._store.get(hop.references or "", row[hop.name])
        return None if row is None else row.get(final.name)

    def _shaper(self, item: str | Query, sobject: SObjectType) -> Callable[[Row, Row], None]:
        if isinstance(item, Query):
            return self._child_shaper(item, sobject)
        hops, final = self._resolve(sobject, item)

        def shape(row: Row, out: Row) -> None:
            target = out
            current: Row | None = row
            for hop in hops:
                parent_id = current.get(hop.name) if current else None
                current = self._store.get(hop.references or "", parent_id) if parent_id else None
                if current is None:
                    target[hop.relationship or hop.name] = None
                    return
                nested = target.get(hop.relationship or hop.name)
                if nested is None:
                    nested = {"attributes": self._attributes(hop.references or "", current["Id"])}
                    target[hop.relationship or hop.name] = nested
                target = nested
            target[final.name] = current.get(final.name) if current else None

        return shape

    def _child_shaper(self, subquery: Query, parent: SObjectType) -> Callable[[Row, Row], None]:
        relationship = parent.child(subquery.sobject)
        child = self._schema.get(relationship.child) if relationship else None
        if relationship is None or child is None:
            raise ApiError(
                400, "INVALID_TYPE", f"Didn't understand relationship '{subquery.sobject}' in FROM part of query call."
            )
        self._select(subquery, child, [])  # checks the subquery's fields before any row

        def shape(row: Row, out: Row) -> None:
            children = self._store.find(child.name, relationship.field, row["Id"])
            records = self._select(subquery, child, children)
            out[relationship.name] = {"totalSize": len(records), "done": True, "records": records} if records else None

        return shape

    # ----------------------------------------------------------------- filters and order

    def _compile(self, condition: Condition, sobject: SObjectType) -> Predicate:
        match condition:
            case Junction(op="AND", parts=parts):
                compiled = [self._compile(p, sobject) for p in parts]
                return lambda row: all(test(row) for test in compiled)
            case Junction(parts=parts):
                compiled = [self._compile(p, sobject) for p in parts]
                return lambda row: any(test(row) for test in compiled)
            case Negation(part=part):
                inner = self._compile(part, sobject)
                return lambda row: not inner(row)
            case Compare(path=path, op=op, value=value):
                hops, final = self._resolve(sobject, path)
                wanted = _literal(final, value)
                return lambda row: _compare(_comparable(final, self._value_at(row, hops, final)), op, wanted)
            case InList(path=path, values=values, negated=negated):
                hops, final = self._resolve(sobject, path)
                options = [_literal(final, v) for v in values]
                return lambda row: (_comparable(final, self._value_at(row, hops, final)) in options) != negated
            case Like(path=path, pattern=pattern):
                hops, final = self._resolve(sobject, path)
                if final.type not in TEXT_TYPES:
                    raise ApiError(400, "INVALID_FIELD", f"invalid operator on field: {path}")
                regex = _like_regex(pattern)
                return lambda row: bool(regex.fullmatch(str(self._value_at(row, hops, final) or "")))
        raise AssertionError(f"unknown condition {condition!r}")

    def _ordered(self, rows: list[Row], keys: list[OrderKey], sobject: SObjectType) -> list[Row]:
        for key in reversed(keys):  # stable sorts, least significant key first
            hops, final = self._resolve(sobject, key.path)
            values = [(_comparable(final, self._value_at(r, hops, final)), r) for r in rows]
            present = [(v, r) for v, r in values if v is not None]
            present.sort(key=lambda pair: pair[0], reverse=key.descending)
            nulls = [r for v, r in values if v is None]
            ordered = [r for _, r in present]
            rows = ordered + nulls if key.nulls_last else nulls + ordered
        return rows


def _comparable(field: SField, raw: Any) -> Any:
    """A stored value in a form Python compares as Salesforce does (text case-insensitively)."""
    if raw is None:
        return None
    if field.type == FieldType.DATETIME:
        return parse_datetime(raw)
    if field.type == FieldType.DATE:
        return parse_date(raw)
    if field.type in NUMBER_TYPES:
        return float(raw)
    if field.type == FieldType.BOOLEAN:
        return bool(raw)
    if field.type in (FieldType.ID, FieldType.REFERENCE):
        return str(raw)
    return str(raw).lower()


def _literal(field: SField, value: Value) -> Any:
    """A filter value checked against its field's type, in `_comparable`'s form."""
    if value.kind == "null":
        return None
    expected = _LITERAL_KIND.get(field.type, "string")
    if value.kind != expected:
        quoted = "" if expected == "string" else " and should not be enclosed in quotes"
        raise ApiError(
            400,
            "INVALID_FIELD",
            f"value of filter criterion for field '{field.name}' must be of type {_TYPE_NAME[expected]}{quoted}",
        )
    if field.type in (FieldType.ID, FieldType.REFERENCE):
        record_id = to_18(value.value)
        if record_id is None:
            raise ApiError(400, "INVALID_QUERY_FILTER_OPERATOR", f"invalid ID field: {value.value}")
        return record_id
    if expected == "number":
        return float(value.value)
    return value.value.lower() if expected == "string" else value.value


def _compare(actual: Any, op: str, wanted: Any) -> bool:
    if op == "=":
        return bool(actual == wanted)
    if op == "!=":
        return bool(actual != wanted)
    if actual is None or wanted is None:
        return False
    return bool({"<": actual < wanted, ">": actual > wanted, "<=": actual <= wanted, ">=": actual >= wanted}[op])


def _like_regex(pattern: str) -> re.Pattern[str]:
    """SOQL LIKE: % any run, _ one character, \\% and \\_ literal; case-insensitive."""
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\" and i + 1 < len(pattern):
            parts.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        parts.append({"%": ".*", "_": "."}.get(pattern[i], re.escape(pattern[i])))
        i += 1
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)
