"""Writes of many records in sObject Collections calls (200 a call), failures by record id."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from concord.errors import ConcordError, PermanentError, TransientError, ValidationFailed

from ..kit.errors import NotFound, Throttled
from .client import COLLECTION_LIMIT, RecordResult, SalesforceClient

# Per-record status codes of a SaveResult, by what they mean for a retry:
# https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_concepts_core_data_objects.htm#statuscode
_RETRYABLE = frozenset({"UNABLE_TO_LOCK_ROW", "REQUEST_RUNNING_TOO_LONG", "SERVER_UNAVAILABLE"})
_NOT_FOUND = frozenset({"ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY", "MALFORMED_ID", "INVALID_ID_FIELD"})
_INVALID = frozenset(
    {
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        "REQUIRED_FIELD_MISSING",
        "STRING_TOO_LONG",
        "INVALID_FIELD",
        "INVALID_TYPE_ON_FIELD_IN_RECORD",
    }
)


def record_error(result: RecordResult, sobject: str, record_id: str) -> ConcordError:
    """The Concord error one failed record of a collection call means."""
    codes = {error.code for error in result.errors}
    detail = "; ".join(f"{error.code}: {error.message}" for error in result.errors) or "failed"
    message = f"salesforce {sobject} {record_id}: {detail}"
    if "REQUEST_LIMIT_EXCEEDED" in codes:
        return Throttled(message)
    if codes & _RETRYABLE:
        return TransientError(message)
    if codes & _NOT_FOUND:
        return NotFound(message)
    if codes & _INVALID:
        return ValidationFailed(message)
    return PermanentError(message)


def update_by_id(client: SalesforceClient, sobject: str, records: Sequence[dict[str, Any]]) -> dict[str, ConcordError]:
    """Update records (each with attributes.type and id), 200 a call, each call independent
    (allOrNone false: one bad record does not hold back the others). Returns the failures by
    record id. A call that fails as a whole (a throttle, an outage) stops the run: its records
    and those not yet sent are returned with that error, so a retry sends exactly them."""
    failures: dict[str, ConcordError] = {}
    for start in range(0, len(records), COLLECTION_LIMIT):
        chunk = records[start : start + COLLECTION_LIMIT]
        try:
            results = client.update_collection(chunk)
        except ConcordError as error:
            failures.update({record["id"]: error for record in records[start:]})
            return failures
        for record, result in zip(chunk, results, strict=True):
            if not result.success:
                failures[record["id"]] = record_error(result, sobject, record["id"])
    return failures


def field_by_id(client: SalesforceClient, sobject: str, record_id: str, field: str) -> Any:
    """One field of one record."""
    return client.get(sobject, record_id, [field]).get(field)


def by_external_id(results: Sequence[RecordResult], keys: Sequence[str], sobject: str) -> dict[str, str]:
    """key -> record id of an upsert collection's results (aligned with `keys`); the first
    failed record raises its error (the caller sent them all or none, allOrNone)."""
    ids: dict[str, str] = {}
    for key, result in zip(keys, results, strict=True):
        if not result.success or not result.id:
            raise record_error(result, sobject, key)
        ids[key] = result.id
    return ids
