"""Checks a record write against its object's schema, as the platform does before saving:
unknown or read-only fields, JSON types, lengths, restricted picklists, reference ids,
required fields and unique external ids; then fills defaults and computed fields."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..kit import RecordStore
from .ids import to_18
from .objects import WEEKDAYS
from .schema import NUMBER_TYPES, FieldType, SField, SObjectType
from .values import format_datetime, parse_date, parse_datetime


@dataclass(frozen=True)
class FieldError:
    code: str
    message: str
    fields: list[str] = field(default_factory=list)


class RecordRejected(Exception):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


def checked_fields(
    sobject: SObjectType, store: RecordStore, given: dict[str, Any], existing: dict[str, Any] | None
) -> dict[str, Any]:
    """The canonical field values to store for a create (`existing` None) or an update, with
    computed fields; raises RecordRejected with every problem found."""
    errors: list[FieldError] = []
    changes: dict[str, Any] = {}
    for name, value in given.items():
        if name == "attributes":
            continue
        spec = sobject.field(name)
        if spec is None:
            errors.append(
                FieldError("INVALID_FIELD", f"No such column '{name}' on sobject of type {sobject.name}", [name])
            )
        elif not spec.writable:
            errors.append(
                FieldError(
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    f"Unable to create/update "
                    f"fields: {spec.name}. Please check the security settings of "
                    "this field and verify that it is read/write for your "
                    "profile or permission set.",
                    [spec.name],
                )
            )
        elif (problem := _value_problem(spec, value, store)) is not None:
            errors.append(problem)
        else:
            changes[spec.name] = _stored(spec, value)
    if errors:
        raise RecordRejected(errors)
    if existing is None:
        changes = {**_defaults(sobject), **changes}
    merged = {**(existing or {}), **changes}
    missing = [f.name for f in sobject.fields.values() if f.required and merged.get(f.name) in (None, "")]
    if missing:
        errors.append(
            FieldError("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", missing)
        )
    errors += _duplicates(sobject, store, changes, (existing or {}).get("Id"))
    computed, rule_errors = _computed(sobject.name, merged)
    if errors or rule_errors:
        raise RecordRejected(errors + rule_errors)
    return {**changes, **computed}


def _value_problem(spec: SField, value: Any, store: RecordStore) -> FieldError | None:
    if value is None:
        return None
    kind = spec.type
    if kind in (
        FieldType.STRING,
        FieldType.TEXTAREA,
        FieldType.PICKLIST,
        FieldType.REFERENCE,
        FieldType.DATE,
        FieldType.DATETIME,
    ) and not isinstance(value, str):
        return _json_error(spec, value)
    if kind in NUMBER_TYPES and (isinstance(value, bool) or not isinstance(value, int | float)):
        return _json_error(spec, value)
    if kind == FieldType.BOOLEAN and not isinstance(value, bool):
        return _json_error(spec, value)
    if kind == FieldType.DATE and parse_date(value) is None:
        return _json_error(spec, value)
    if kind == FieldType.DATETIME and parse_datetime(value) is None:
        return _json_error(spec, value)
    if spec.length and isinstance(value, str) and len(value) > spec.length:
        return FieldError(
            "STRING_TOO_LONG",
            f"{spec.name}: data value too large: {value[:30]} (max length={spec.length})",
            [spec.name],
        )
    if kind == FieldType.PICKLIST and spec.restricted and value not in spec.picklist:
        return FieldError(
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            f"{spec.name}: bad value for restricted picklist field: {value}",
            [spec.name],
        )
    if kind == FieldType.REFERENCE:
        record_id = to_18(value)
        if record_id is None:
            return FieldError("MALFORMED_ID", f"{spec.name}: id value of incorrect type: {value}", [spec.name])
        if store.get(spec.references or "", record_id) is None:
            return FieldError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [spec.name])
    return None


def _json_error(spec: SField, value: Any) -> FieldError:
    # REST answers a value of the wrong JSON type (or an unparsable date) with JSON_PARSER_ERROR.
    return FieldError(
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {spec.type.value} from value {value!r} for field {spec.name}",
        [spec.name],
    )


def _stored(spec: SField, value: Any) -> Any:
    if value is None:
        return None
    if spec.type == FieldType.DATETIME:
        return format_datetime(parse_datetime(value))  # type: ignore[arg-type]
    if spec.type == FieldType.REFERENCE:
        return to_18(value)
    return value


def _defaults(sobject: SObjectType) -> dict[str, Any]:
    return {f.name: f.default for f in sobject.fields.values() if f.default is not None}


def _duplicates(
    sobject: SObjectType, store: RecordStore, changes: dict[str, Any], own_id: str | None
) -> list[FieldError]:
    errors = []
    for name, value in changes.items():
        spec = sobject.field(name)
        if spec is None or not spec.unique or value is None:
            continue
        others = [r["Id"] for r in store.find(sobject.name, spec.name, value) if r["Id"] != own_id]
        if others:
            errors.append(
                FieldError(
                    "DUPLICATE_VALUE",
                    f"duplicate value found: {spec.name} duplicates value on record with id: {others[0]}",
                    [spec.name],
                )
            )
    return errors


def _computed(sobject: str, record: dict[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
    """Fields the platform (or the managed package) derives, and its validation rules."""
    if sobject == "Opportunity":
        stage = record.get("StageName")
        return {"IsClosed": stage in ("Closed Won", "Closed Lost"), "IsWon": stage == "Closed Won"}, []
    if sobject == "OpportunityLineItem":
        quantity, price = record.get("Quantity"), record.get("UnitPrice")
        total = round(quantity * price, 2) if quantity is not None and price is not None else None
        return {"TotalPrice": total}, []
    if sobject == "pse__Timecard_Header__c":
        hours = sum(record.get(f"pse__{day}_Hours__c") or 0 for day in WEEKDAYS)
        start = parse_date(record.get("pse__Start_Date__c") or "")
        if start is not None and start.weekday() != date(2024, 1, 1).weekday():  # a Monday
            return {}, [
                FieldError(
                    "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                    "The timecard start date must be the first day of the week (Monday).",
                    ["pse__Start_Date__c"],
                )
            ]
        return {"pse__Total_Hours__c": hours}, []
    return {}, []
