"""sObject rows, upsert by external id, and query (with Query More paging).

sObject Rows:           https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_retrieve.htm
Create:                 https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_sobject_create.htm
Upsert by external id:  https://developer.salesforce.com/docs/platform/api-rest/guide/dome-upsert.html
Query / Query More:     https://developer.salesforce.com/docs/platform/api-rest/guide/resources-query.html
Query Options header:   https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_queryoptions.htm
"""

from __future__ import annotations

from typing import Any

from ..kit import Request, Response, page_of
from .errors import ApiError, malformed_query
from .org import Org
from .query_engine import QueryEngine, invalid_field
from .records import MultipleMatches
from .soql import parse

API_PATH = "/services/data/v67.0"
DEFAULT_BATCH, MIN_BATCH, MAX_BATCH = 2000, 200, 2000


def get_record(org: Org, request: Request, sobject: str, record_id: str) -> Response:
    target = org.records.sobject(sobject)
    record = org.records.existing(target, record_id)
    wanted = request.param("fields")
    if wanted:
        specs = [target.field(name.strip()) for name in wanted.split(",")]
        missing = [n for n, s in zip(wanted.split(","), specs, strict=True) if s is None]
        if missing:
            raise invalid_field(missing[0].strip(), target.name)
        names = [s.name for s in specs if s]
    else:
        names = [f.name for f in target.fields.values()]
    body: dict[str, Any] = {
        "attributes": {"type": target.name, "url": f"{API_PATH}/sobjects/{target.name}/{record['Id']}"}
    }
    body.update({name: record.get(name) for name in names})
    if "Id" not in body:
        body["Id"] = record["Id"]
    return Response(200, body)


def update_record(org: Org, request: Request, sobject: str, record_id: str) -> Response:
    org.records.update(org.records.sobject(sobject), record_id, _body_object(request))
    return Response(204)


def delete_record(org: Org, _: Request, sobject: str, record_id: str) -> Response:
    org.records.delete(org.records.sobject(sobject), record_id)
    return Response(204)


def create_record(org: Org, request: Request, sobject: str) -> Response:
    new_id = org.records.create(org.records.sobject(sobject), _body_object(request))
    return Response(201, {"id": new_id, "success": True, "errors": []})


def upsert_record(org: Org, request: Request, sobject: str, field: str, value: str) -> Response:
    target = org.records.sobject(sobject)
    try:
        record_id, created = org.records.upsert(
            target, field, value, _body_object(request), update_only=request.param("updateOnly") == "true"
        )
    except MultipleMatches as many:
        return Response(300, [f"{API_PATH}/sobjects/{target.name}/{i}" for i in many.ids])
    return Response(201 if created else 200, {"id": record_id, "success": True, "errors": [], "created": created})


def query(org: Org, request: Request) -> Response:
    soql = request.param("q")
    if not soql:
        raise malformed_query("The q parameter is required")
    engine = QueryEngine(org.schema, org.store, API_PATH)
    rows = engine.run(parse(soql))
    size = _batch_size(request.header("Sforce-Query-Options"))
    first = page_of(rows, 0, size)
    cursor = org.cursors.open(rows, size) if first.next_offset is not None else None
    return Response(200, _page_body(len(rows), first.items, cursor, first.next_offset))


def query_more(org: Org, _: Request, locator: str) -> Response:
    cursor, _separator, offset = locator.rpartition("-")
    page = org.cursors.page(cursor, int(offset)) if offset.isdigit() else None
    if page is None:
        raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    total = org.cursors.size(cursor)
    return Response(200, _page_body(total, page.items, cursor, page.next_offset))


def _page_body(total: int, records: list[Any], cursor: str | None, next_offset: int | None) -> dict[str, Any]:
    body: dict[str, Any] = {"totalSize": total, "done": next_offset is None}
    if next_offset is not None:
        body["nextRecordsUrl"] = f"{API_PATH}/query/{cursor}-{next_offset}"
    body["records"] = records
    return body


def _batch_size(header: str | None) -> int:
    """`Sforce-Query-Options: batchSize=N`, held to 200..2000 (default 2000)."""
    for option in (header or "").split(","):
        name, _, value = option.partition("=")
        if name.strip() == "batchSize" and value.strip().isdigit():
            return max(MIN_BATCH, min(MAX_BATCH, int(value)))
    return DEFAULT_BATCH


def _body_object(request: Request) -> dict[str, Any]:
    body = request.json()
    if not isinstance(body, dict):
        raise ApiError(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
    return body
