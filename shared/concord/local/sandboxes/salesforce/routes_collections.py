"""sObject Collections: create, update by id and upsert by external id of up to 200 records,
with per-record results in input order and `allOrNone` rollback.

Create:  https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_create.htm
Update:  https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_update.htm
Upsert:  https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_upsert.htm
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..kit import Request, Response
from .errors import ApiError
from .org import Org
from .records import MultipleMatches, result_errors
from .validation import FieldError, RecordRejected

MAX_RECORDS = 200
ROLLED_BACK = FieldError(
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using AllOrNone header",
)

Result = dict[str, Any]


class _RollBack(Exception):
    """Raised inside the store transaction to undo an all-or-none batch."""


def create_records(org: Org, request: Request) -> Response:
    def create(record: dict[str, Any]) -> Result:
        target = org.records.sobject(_type_of(record))
        return {"id": org.records.create(target, record), "success": True, "errors": []}

    return _each(org, request, create)


def update_records(org: Org, request: Request) -> Response:
    def update(record: dict[str, Any]) -> Result:
        record_id = next((v for k, v in record.items() if k.lower() == "id"), None)
        if not record_id:
            raise RecordRejected([FieldError("MISSING_ARGUMENT", "Id not specified in an update call", ["Id"])])
        target = org.records.sobject(_type_of(record))
        full_id = org.records.existing(target, record_id)["Id"]
        org.records.update(target, full_id, record)
        return {"id": full_id, "success": True, "errors": []}

    return _each(org, request, update)


def upsert_records(org: Org, request: Request, sobject: str, field: str) -> Response:
    target = org.records.sobject(sobject)

    def upsert(record: dict[str, Any]) -> Result:
        if _type_of(record).lower() != target.name.lower():
            raise RecordRejected([FieldError("INVALID_FIELD", f"The record type must be {target.name}")])
        value = next((v for k, v in record.items() if k.lower() == field.lower()), None)
        if value is None:
            raise RecordRejected([FieldError("MISSING_ARGUMENT", f"{field} not specified", [field])])
        body = {k: v for k, v in record.items() if k.lower() != field.lower()}
        try:
            record_id, created = org.records.upsert(target, field, str(value), body)
        except MultipleMatches as many:
            raise RecordRejected(
                [
                    FieldError(
                        "DUPLICATE_EXTERNAL_ID",
                        f"{field}: more than one record found for external id field: {many.ids}",
                        [field],
                    )
                ]
            ) from many
        return {"id": record_id, "success": True, "errors": [], "created": created}

    return _each(org, request, upsert)


def _each(org: Org, request: Request, apply: Callable[[dict[str, Any]], Result]) -> Response:
    """Applies `apply` to every record in order; with allOrNone, any failure undoes them all."""
    all_or_none, records = _collection(request)
    results: list[Result] = []
    try:
        with org.store.transaction():
            for record in records:
                results.append(_attempt(apply, record))
            if all_or_none and not all(r["success"] for r in results):
                raise _RollBack
    except _RollBack:
        results = [
            r if not r["success"] else {"success": False, "errors": result_errors([ROLLED_BACK])} for r in results
        ]
    return Response(200, results)


def _attempt(apply: Callable[[dict[str, Any]], Result], record: dict[str, Any]) -> Result:
    try:
        return apply(record)
    except RecordRejected as rejected:
        return {"success": False, "errors": result_errors(rejected.errors)}
    except ApiError as error:
        return {"success": False, "errors": result_errors([FieldError(error.code, error.message, error.fields)])}


def _collection(request: Request) -> tuple[bool, list[dict[str, Any]]]:
    body = request.json()
    records = body.get("records") if isinstance(body, dict) else None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ApiError(400, "JSON_PARSER_ERROR", 'The body must be {"allOrNone": bool, "records": [...]}')
    if len(records) > MAX_RECORDS:
        raise ApiError(
            400,
            "EXCEEDED_ID_LIMIT",
            f"record limit reached. cannot submit more than {MAX_RECORDS} records into this call",
        )
    return bool(body.get("allOrNone", False)), records


def _type_of(record: dict[str, Any]) -> str:
    record_type = (record.get("attributes") or {}).get("type")
    if not record_type:
        raise RecordRejected([FieldError("INVALID_TYPE", "Each record must have attributes.type")])
    return str(record_type)
