"""The CRM objects API of a portal, below /crm/objects/{version}/{objectType}:

    GET    /{id}?properties=&associations=   read one object
    POST   /                                 create (with associations)
    PATCH  /{id}                             update
    POST   /batch/read | /batch/update | /batch/upsert   100 inputs at most; 207 with per-item errors
    POST   /search                           filterGroups, sorts, limit ≤ 200, after

https://developers.hubspot.com/docs/api-reference/2026-03/crm/objects/deals/guide
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from ..kit import Request, Response
from .errors import ApiError, bad_request, not_found
from .records import Objects, rendered
from .search import matching, page_bounds

BATCH_LIMIT = 100


def _names(request: Request, param: str) -> list[str]:
    return [name for value in request.query.get(param, []) for name in value.split(",") if name]


def get_object(objects: Objects, request: Request, object_type: str, object_id: str) -> Response:
    record = objects.stored(object_type, object_id)
    if record is None:
        raise not_found(object_id)
    return Response(200, rendered(record, _names(request, "properties"), _names(request, "associations")))


def create_object(objects: Objects, request: Request, object_type: str) -> Response:
    body = request.json() or {}
    links = [
        (int(t["associationTypeId"]), str(a["to"]["id"]))
        for a in body.get("associations") or []
        for t in a.get("types") or []
    ]
    record = objects.create(object_type, body.get("properties") or {}, links)
    return Response(
        201,
        rendered(record, [k for k in record if not k.startswith("_") and k not in ("id", "createdAt", "updatedAt")]),
    )


def update_object(objects: Objects, request: Request, object_type: str, object_id: str) -> Response:
    record = objects.update(object_type, object_id, (request.json() or {}).get("properties") or {})
    return Response(200, rendered(record, []))


def batch_read(objects: Objects, request: Request, object_type: str) -> Response:
    body = request.json() or {}
    inputs, wanted = _inputs(body), body.get("properties") or []
    results, missing = [], []
    for item in inputs:
        record = objects.stored(object_type, str(item.get("id")))
        if record is None:
            missing.append(str(item.get("id")))
        else:
            results.append(rendered(record, wanted))
    errors = (
        [
            {
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "message": f"Could not get some {object_type} "
                "objects, they may be deleted or not exist. Check that ids are valid.",
                "context": {"ids": missing},
            }
        ]
        if missing
        else []
    )
    return _batch_answer(results, errors)


def batch_update(objects: Objects, request: Request, object_type: str) -> Response:
    def write(item: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        return objects.update(object_type, str(item.get("id")), item.get("properties") or {}), False

    return _each(_inputs(request.json() or {}), write, new_field=False)


def batch_upsert(objects: Objects, request: Request, object_type: str) -> Response:
    """By a unique-value property (`idProperty`): one match is updated, none creates one with it set."""

    def write(item: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        id_property, value = item.get("idProperty"), str(item.get("id") or "")
        if not id_property or not value:
            raise bad_request("each input needs idProperty and id")
        if id_property not in objects.object_schema(object_type).properties:
            raise bad_request(f'Property "{id_property}" does not exist')
        matches = objects.store.find(object_type, id_property, value)
        if len(matches) > 1:
            raise ApiError(409, "CONFLICT", f"{id_property} is not a unique-value property: {len(matches)} match")
        properties = {**(item.get("properties") or {}), id_property: value}
        if matches:
            return objects.update(object_type, matches[0]["id"], properties), False
        return objects.create(object_type, properties), True

    return _each(_inputs(request.json() or {}), write, new_field=True)


def search(objects: Objects, request: Request, object_type: str) -> Response:
    query = request.json() or {}
    offset, limit = page_bounds(query)
    objects.object_schema(object_type)
    rows = matching(objects.store.rows(object_type), query)
    page = rows[offset : offset + limit]
    answer: dict[str, Any] = {"total": len(rows), "results": [rendered(r, query.get("properties") or []) for r in page]}
    if offset + limit < len(rows):
        answer["paging"] = {"next": {"after": str(offset + limit)}}
    return Response(200, answer)


def _inputs(body: dict[str, Any]) -> list[dict[str, Any]]:
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not all(isinstance(i, dict) for i in inputs):
        raise bad_request("inputs must be a list of objects")
    if len(inputs) > BATCH_LIMIT:
        raise bad_request(f"Batch input size {len(inputs)} exceeds the limit of {BATCH_LIMIT}")
    return inputs


def _each(
    inputs: list[dict[str, Any]], write: Callable[[dict[str, Any]], tuple[dict[str, Any], bool]], *, new_field: bool
) -> Response:
    """Each input written on its own; what fails becomes an error naming its input (trace id, id)."""
    results, errors = [], []
    for item in inputs:
        trace = item.get("objectWriteTraceId")
        try:
            record, created = write(item)
        except ApiError as error:
            body = error.body()
            body.setdefault("context", {}).setdefault("ids", [str(item.get("id"))])
            if trace:
                body["objectWriteTraceId"] = trace
            errors.append(body)
            continue
        answer = rendered(record, list((item.get("properties") or {}).keys()))
        if new_field:
            answer["new"] = created
        if trace:
            answer["objectWriteTraceId"] = trace
        results.append(answer)
    return _batch_answer(results, errors)


def _batch_answer(results: list[dict[str, Any]], errors: list[dict[str, Any]]) -> Response:
    now = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
    body: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now}
    if errors:
        body.update(errors=errors, numErrors=len(errors))
    return Response(207 if errors else 200, body)
