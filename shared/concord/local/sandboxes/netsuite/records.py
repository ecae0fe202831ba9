"""The record service: /services/rest/record/v1/{type}/{id | eid:<external id>}.

- POST creates (204, the id only in `Location`); PUT on `eid:` upserts (204 + Location); PATCH
  changes the fields sent, lines of a sublist are appended unless `replace=<sublist>` names it
  (lines keyed by `line` are updated). Creating records in bulk is not supported.
- GET answers body fields, sublists as links unless `expandSubResources=true`; `fields=` narrows.
- POST salesOrder/{id}/!transform/invoice bills the order: the invoice copies its lines.
https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1545141395.html (create)
https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_156335203191.html (upsert)
https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1545295601.html (sublists)
https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1545141947.html (expand)
https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_157901123882.html (transform)
"""

from __future__ import annotations

from typing import Any

from ..kit import Request, Response, Tenant
from .documents import ORDER_STATUS, prepare
from .errors import NetSuiteError, not_found, user_error

Row = dict[str, Any]
TYPES = ("customer", "job", "salesOrder", "invoice", "customerPayment")
SUBLISTS = {
    "customer": ("addressbook",),
    "job": (),
    "salesOrder": ("item",),
    "invoice": ("item",),
    "customerPayment": ("apply",),
}
READ_ONLY = (
    "id",
    "links",
    "lastModifiedDate",
    "dateCreated",
    "createdDate",
    "status",
    "total",
    "amountRemaining",
    "tranId",
    "createdFrom",
    "entityId",
)


def base(request: Request) -> str:
    return f"{request.tenant_url}/services/rest/record/v1"


def located(request: Request, record_type: str, record_id: str) -> Response:
    return Response(204, headers={"Location": f"{base(request)}/{record_type}/{record_id}"})


def find(tenant: Tenant, record_type: str, key: str) -> Row | None:
    if key.startswith("eid:"):
        rows = tenant.store.find(record_type, "externalId", key[4:])
        return rows[0] if rows else None
    return tenant.store.get(record_type, key)


def existing(tenant: Tenant, record_type: str, key: str) -> Row:
    if record_type not in TYPES:
        raise NetSuiteError(404, "INVALID_RCRD_TYPE", f"Record type '{record_type}' does not exist.")
    record = find(tenant, record_type, key)
    if record is None:
        raise not_found(record_type, key)
    return record


# -- reads ---------------------------------------------------------------------------------------


def get_record(tenant: Tenant, request: Request, record_type: str, key: str) -> Response:
    record = existing(tenant, record_type, key)
    url = f"{base(request)}/{record_type}/{record['id']}"
    expand = request.param("expandSubResources") == "true"
    body: Row = {"links": [{"rel": "self", "href": url}]}
    for name, value in record.items():
        if name in SUBLISTS[record_type]:
            link = [{"rel": "self", "href": f"{url}/{name}"}]
            body[name] = {"links": link, **({"items": value["items"]} if expand else {})}
        elif isinstance(value, dict) and "id" in value:
            body[name] = {"links": [], **value}
        else:
            body[name] = value
    if fields := request.param("fields"):
        wanted = {"links", "id", *fields.split(",")}
        body = {name: value for name, value in body.items() if name in wanted}
    return Response(200, body)


# -- writes --------------------------------------------------------------------------------------


def create_record(tenant: Tenant, request: Request, record_type: str) -> Response:
    return located(request, record_type, _insert(tenant, record_type, _body(request))["id"])


def upsert_record(tenant: Tenant, request: Request, record_type: str, key: str) -> Response:
    if not key.startswith("eid:") or len(key) <= 4:
        raise NetSuiteError(400, "INVALID_URL_PATH", "Upsert is supported only with an external ID (eid:) and PUT.")
    body = _body(request)
    with tenant.store.transaction():
        current = find(tenant, record_type, key) if record_type in TYPES else None
        if current is None:
            stored = _insert(tenant, record_type, {**body, "externalId": key[4:]})
        else:
            stored = _update(tenant, record_type, current, body, _replace(request))
    return located(request, record_type, stored["id"])


def patch_record(tenant: Tenant, request: Request, record_type: str, key: str) -> Response:
    with tenant.store.transaction():
        _update(tenant, record_type, existing(tenant, record_type, key), _body(request), _replace(request))
    return Response(204)


def transform_to_invoice(tenant: Tenant, request: Request, key: str) -> Response:
    """Bill a sales order: an invoice with its lines (createdfrom = the order), the order billed."""
    body = _body(request) if request.body else {}
    with tenant.store.transaction():
        order = existing(tenant, "salesOrder", key)
        if order["status"]["id"] not in ("F",):
            raise user_error(f"You can not bill a sales order that is {order['status']['refName']}.")
        lines = [
            {**{k: v for k, v in line.items() if k != "line"}, "createdFrom": {"id": order["id"]}}
            for line in order["item"]["items"]
        ]
        invoice = _insert(
            tenant,
            "invoice",
            {
                **{k: v for k, v in body.items() if k != "item"},
                "entity": order["entity"],
                "currency": order["currency"],
                "createdFrom": {"id": order["id"], "refName": order["tranId"]},
                "item": {"items": lines},
            },
        )
        tenant.store.update("salesOrder", order["id"], {"status": {"id": "G", "refName": ORDER_STATUS["G"]}})
    return located(request, "invoice", invoice["id"])


def _body(request: Request) -> Row:
    body = request.json()
    if not isinstance(body, dict):
        raise NetSuiteError(400, "INVALID_CONTENT", "The request body must be a JSON object.")
    return {name: value for name, value in body.items() if name not in READ_ONLY}


def _replace(request: Request) -> set[str]:
    return {name for name in (request.param("replace") or "").split(",") if name}


def _insert(tenant: Tenant, record_type: str, body: Row) -> Row:
    if record_type not in TYPES:
        raise NetSuiteError(404, "INVALID_RCRD_TYPE", f"Record type '{record_type}' does not exist.")
    external = body.get("externalId")
    if external and tenant.store.find(record_type, "externalId", external):
        raise user_error(f"A record with external ID {external} already exists.")
    fields = {
        **body,
        **{name: {"items": list((body.get(name) or {}).get("items") or [])} for name in SUBLISTS[record_type]},
    }
    return tenant.store.insert(record_type, prepare(tenant, record_type, fields, None))


def _update(tenant: Tenant, record_type: str, current: Row, body: Row, replace: set[str]) -> Row:
    fields = dict(body)
    for name in SUBLISTS[record_type]:
        if name not in body:
            continue
        sent = list((body[name] or {}).get("items") or [])
        if name in replace:
            fields[name] = {"items": sent}
            continue
        lines = list(current[name]["items"])
        for line in sent:
            at = next((i for i, old in enumerate(lines) if "line" in line and old.get("line") == line["line"]), None)
            if at is None:
                lines.append({k: v for k, v in line.items() if k != "line"})
            else:
                lines[at] = {**lines[at], **line}
        fields[name] = {"items": lines}
    return tenant.store.update(record_type, current["id"], prepare(tenant, record_type, {**current, **fields}, current))
