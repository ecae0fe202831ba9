"""Record operations shared by the sObject and sObject Collections resources: create,
update, delete and upsert by external id, each validated against the schema."""

from __future__ import annotations

from typing import Any

from ..kit import RecordStore
from .errors import ApiError, not_found
from .ids import to_18
from .schema import Schema, SObjectType
from .validation import FieldError, RecordRejected, checked_fields


class MultipleMatches(Exception):
    def __init__(self, ids: list[str]) -> None:
        super().__init__(f"{len(ids)} records match")
        self.ids = ids


class Records:
    def __init__(self, schema: Schema, store: RecordStore) -> None:
        self.schema = schema
        self.store = store

    def sobject(self, name: str) -> SObjectType:
        sobject = self.schema.get(name)
        if sobject is None:
            raise not_found()
        return sobject

    def create(self, sobject: SObjectType, fields: dict[str, Any]) -> str:
        if "Id" in fields or "id" in fields:
            raise RecordRejected(
                [FieldError("INVALID_FIELD_FOR_INSERT_UPDATE", "cannot specify Id in an insert call", ["Id"])]
            )
        values = checked_fields(sobject, self.store, fields, None)
        return str(self.store.insert(sobject.name, values)["Id"])

    def existing(self, sobject: SObjectType, record_id: str) -> dict[str, Any]:
        """The record with this id (15 or 18 characters) of this object, or NOT_FOUND."""
        full_id = to_18(record_id)
        record = self.store.get(sobject.name, full_id) if full_id else None
        if record is None:
            raise not_found(
                f"Provided external ID field does not exist or is not accessible: {record_id}"
                if full_id is None
                else "The requested resource does not exist"
            )
        return record

    def update(self, sobject: SObjectType, record_id: str, fields: dict[str, Any]) -> None:
        record = self.existing(sobject, record_id)
        changes = checked_fields(sobject, self.store, {k: v for k, v in fields.items() if k.lower() != "id"}, record)
        self.store.update(sobject.name, record["Id"], changes)

    def delete(self, sobject: SObjectType, record_id: str) -> None:
        self.store.delete(sobject.name, self.existing(sobject, record_id)["Id"])

    def upsert(
        self, sobject: SObjectType, field_name: str, value: str, fields: dict[str, Any], update_only: bool = False
    ) -> tuple[str, bool]:
        """(id, created) after creating or updating the record whose external id is `value`."""
        spec = sobject.field(field_name)
        if spec is None or not spec.external_id:
            raise not_found(f"Provided external ID field does not exist or is not accessible: {field_name}")
        if any(k.lower() in ("id", spec.name.lower()) for k in fields if k != "attributes"):
            raise RecordRejected(
                [
                    FieldError(
                        "INVALID_FIELD",
                        f"Neither Id nor the external id field {spec.name} may be specified in the body of an upsert",
                        [spec.name],
                    )
                ]
            )
        with self.store.transaction():
            matches = [r["Id"] for r in self.store.find(sobject.name, spec.name, value)]
            if len(matches) > 1:
                raise MultipleMatches(matches)
            if matches:
                self.update(sobject, matches[0], fields)
                return matches[0], False
            if update_only:
                raise not_found()
            return self.create(sobject, {**fields, spec.name: value}), True


def error_list(errors: list[FieldError]) -> list[dict[str, Any]]:
    """Errors as the single-record resources answer them (400 body)."""
    return [{"message": e.message, "errorCode": e.code, "fields": e.fields} for e in errors]


def result_errors(errors: list[FieldError]) -> list[dict[str, Any]]:
    """Errors as a SaveResult / UpsertResult carries them (sObject Collections)."""
    return [{"statusCode": e.code, "message": e.message, "fields": e.fields} for e in errors]


__all__ = ["ApiError", "MultipleMatches", "RecordRejected", "Records", "error_list", "result_errors"]
