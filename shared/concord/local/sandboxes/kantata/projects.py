"""Workspaces (projects), stories (tasks), external references and custom field values.

https://developer.kantata.com/kantata/specification (Workspaces, Stories, External References,
Custom Field Values). A handler takes (tenant, request, **path params) and returns a Response.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from ..kit import Request, Response, Tenant
from .envelope import Row, bad_request, body_of, envelope, ids_param, includes, invalid, listing, not_found, single

WORKSPACES, STORIES, REFERENCES, VALUES = "workspaces", "stories", "external_references", "custom_field_values"
STORY_TYPES = ("task", "milestone", "deliverable", "issue")
BULK_LIMIT = 100
# What each external reference subject_type names in the store (the types this sandbox keeps).
SUBJECT_TABLES = {"Workspace": WORKSPACES, "Story": STORIES, "TimeEntry": "time_entries"}


def by_id(rows: list[Row]) -> list[Row]:
    return sorted(rows, key=lambda row: int(row["id"]))


def cents(value: Any, field: str) -> int:
    try:
        return int((Decimal(str(value)) * 100).to_integral_value())
    except (InvalidOperation, ValueError):
        raise invalid(f"{field} is not a number", field) from None


def existing(tenant: Tenant, table: str, record_id: Any, what: str, field: str) -> Row:
    row = tenant.store.get(table, str(record_id)) if record_id not in (None, "") else None
    if row is None:
        raise invalid(f"{what} can't be blank", field)
    return row


# -- workspaces --------------------------------------------------------------------------------


def list_workspaces(tenant: Tenant, request: Request) -> Response:
    rows = by_id(tenant.store.rows(WORKSPACES))
    if (only := ids_param(request, "only")) is not None:
        rows = [row for row in rows if row["id"] in only]
    if search := request.param("search"):
        rows = [row for row in rows if search.lower() in row["title"].lower()]
    return listing(request, WORKSPACES, rows)


def get_workspace(tenant: Tenant, request: Request, workspace_id: str) -> Response:
    row = tenant.store.get(WORKSPACES, workspace_id)
    if row is None:
        raise not_found("Workspace")
    return single(WORKSPACES, row)


def create_workspace(tenant: Tenant, request: Request) -> Response:
    fields = body_of(request, "workspace")
    if not str(fields.get("title") or "").strip():
        raise invalid("Please give your project a title", "title")
    if fields.get("creator_role") not in ("maven", "buyer"):
        raise invalid("Please select a role for this project", "creator_role")
    row = {
        "title": fields["title"],
        "description": fields.get("description", ""),
        "budgeted": bool(fields.get("budgeted", False)),
        "currency": fields.get("currency") or "USD",
        "price_in_cents": cents(fields["price"], "price") if fields.get("price") is not None else None,
        "archived": False,
        "status_key": int(fields.get("status_key") or 305),
    }
    return single(WORKSPACES, tenant.store.insert(WORKSPACES, row))


def update_workspace(tenant: Tenant, request: Request, workspace_id: str) -> Response:
    if tenant.store.get(WORKSPACES, workspace_id) is None:
        raise not_found("Workspace")
    fields = body_of(request, "workspace")
    changes: Row = {
        name: fields[name] for name in ("title", "description", "archived", "budgeted", "currency") if name in fields
    }
    if "price" in fields:
        changes["price_in_cents"] = cents(fields["price"], "price")
    if "status_key" in fields:
        if not str(fields["status_key"]).isdigit():
            raise invalid("Status key is not a valid status", "status_key")
        changes["status_key"] = int(fields["status_key"])
    return single(WORKSPACES, tenant.store.update(WORKSPACES, workspace_id, changes))


# -- stories -----------------------------------------------------------------------------------


def list_stories(tenant: Tenant, request: Request) -> Response:
    rows = by_id(tenant.store.rows(STORIES))
    if workspace_id := request.param("workspace_id"):
        rows = [row for row in rows if row["workspace_id"] == workspace_id]
    if (only := ids_param(request, "only")) is not None:
        rows = [row for row in rows if row["id"] in only]
    return listing(request, STORIES, rows)


def create_story(tenant: Tenant, request: Request) -> Response:
    fields = body_of(request, "story")
    if not str(fields.get("title") or "").strip():
        raise invalid("Title can't be blank", "title")
    workspace = existing(tenant, WORKSPACES, fields.get("workspace_id"), "Workspace", "workspace_id")
    story_type = fields.get("story_type", "task")
    if story_type not in STORY_TYPES:
        raise invalid("Story type is not included in the list", "story_type")
    row = {
        "title": fields["title"],
        "story_type": story_type,
        "workspace_id": workspace["id"],
        "time_estimate_in_minutes": fields.get("time_estimate_in_minutes"),
        "state": "not started",
    }
    return single(STORIES, tenant.store.insert(STORIES, row))


# -- external references ----------------------------------------------------------------------


def list_references(tenant: Tenant, request: Request) -> Response:
    subject_type = request.param("subject_type")
    if not subject_type:
        raise bad_request("subject_type is required")
    rows = [row for row in by_id(tenant.store.rows(REFERENCES)) if row["subject_type"] == subject_type]
    for name in ("service_name", "service_model", "service_model_ref", "subject_id"):
        if (value := request.param(name)) is not None:
            rows = [row for row in rows if str(row[name]) == value]
    related: dict[str, list[Row]] = {}
    if "subject" in includes(request) and subject_type in SUBJECT_TABLES:
        table = SUBJECT_TABLES[subject_type]
        related[table] = [subject for row in rows if (subject := tenant.store.get(table, row["subject_id"]))]
    return listing(request, REFERENCES, rows, related)


def create_or_update_reference(tenant: Tenant, request: Request) -> Response:
    fields = body_of(request, "external_reference")
    for name in ("subject_type", "subject_id", "service_name", "service_model", "service_model_ref"):
        if fields.get(name) in (None, ""):
            raise invalid(f"{name.replace('_', ' ').capitalize()} can't be blank", name)
    table = SUBJECT_TABLES.get(fields["subject_type"])
    if table is None:
        raise invalid("Subject type is not included in the list", "subject_type")
    subject = existing(tenant, table, fields["subject_id"], "Subject", "subject_id")
    row = {
        "subject_type": fields["subject_type"],
        "subject_id": subject["id"],
        "service_name": fields["service_name"],
        "service_model": fields["service_model"],
        "service_model_ref": str(fields["service_model_ref"]),
        "status": fields.get("status") or "pending",
        "external_status": fields.get("external_status"),
        "external_message": fields.get("external_message"),
    }
    key = ("subject_type", "subject_id", "service_name", "service_model")
    with tenant.store.transaction():
        same = [ref for ref in tenant.store.rows(REFERENCES) if all(ref[name] == row[name] for name in key)]
        stored = tenant.store.update(REFERENCES, same[0]["id"], row) if same else tenant.store.insert(REFERENCES, row)
    return single(REFERENCES, stored)


# -- custom field values ------------------------------------------------------------------------


def list_values(tenant: Tenant, request: Request) -> Response:
    subject_type = request.param("subject_type")
    if not subject_type:
        raise bad_request("subject_type is required")
    rows = [row for row in tenant.store.rows(VALUES) if row["subject_type"] == subject_type]
    for param, name in (("with_subject_id", "subject_id"), ("with_custom_field_id", "custom_field_id")):
        if (wanted := ids_param(request, param)) is not None:
            rows = [row for row in rows if row[name] in wanted]
    rows.sort(key=lambda row: (row["updated_at"], int(row["id"])))  # less to more recently updated
    return listing(request, VALUES, rows)


def create_values(tenant: Tenant, request: Request) -> Response:
    """One value (`custom_field_value`) or up to 100 (`custom_field_values`), all or none; a
    value replaces the subject's earlier value of that field under a new id."""
    body = request.json()
    many = body.get("custom_field_values") if isinstance(body, dict) else None
    items = many if isinstance(many, list) else [body_of(request, "custom_field_value")]
    if len(items) > BULK_LIMIT:
        raise invalid(f"No more than {BULK_LIMIT} custom field values can be saved at once")
    stored = []
    with tenant.store.transaction():
        for fields in items:
            stored.append(_replace_value(tenant, fields if isinstance(fields, dict) else {}))
    return Response(200, envelope(VALUES, stored))


def _replace_value(tenant: Tenant, fields: Row) -> Row:
    table = SUBJECT_TABLES.get(str(fields.get("subject_type")))
    if table is None:
        raise invalid("Subject type is not included in the list", "subject_type")
    subject = existing(tenant, table, fields.get("subject_id"), "Subject", "subject_id")
    if not str(fields.get("custom_field_id", "")).isdigit():
        raise invalid("Custom field can't be blank", "custom_field_id")
    row = {
        "subject_type": fields["subject_type"],
        "subject_id": subject["id"],
        "custom_field_id": str(fields["custom_field_id"]),
        "value": fields.get("value"),
    }
    for old in tenant.store.rows(VALUES):
        if (old["subject_type"], old["subject_id"], old["custom_field_id"]) == (
            row["subject_type"],
            row["subject_id"],
            row["custom_field_id"],
        ):
            tenant.store.delete(VALUES, old["id"])
    return tenant.store.insert(VALUES, row)
