"""Time entries, expenses and timesheet submissions (approval lives on the submission).

https://developer.kantata.com/kantata/specification (Time Entries, Expenses, Timesheet
Submissions). Quirk kept on purpose: the time entries' `approved` filter is always applied as
true, whatever value it is given, as Kantata documents.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..kit import Request, Response, Tenant
from .envelope import bad_request, body_of, ids_param, includes, invalid, listing, not_found, single
from .projects import STORIES, WORKSPACES, by_id, existing

TIME_ENTRIES, EXPENSES, SUBMISSIONS = "time_entries", "expenses", "timesheet_submissions"


def stamp(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def after(request: Request, name: str) -> dt.datetime | None:
    value = request.param(name)
    if value is None:
        return None
    try:
        moment = stamp(value)
    except ValueError:
        raise bad_request(f"{name} must be an ISO 8601 datetime") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def day(value: Any, field: str) -> str:
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise invalid(f"{field.replace('_', ' ').capitalize()} is not a valid date", field) from None


def caller(tenant: Tenant, request: Request) -> str:
    users: dict[str, str] = getattr(tenant, "users", {})
    token = (request.header("Authorization") or "").removeprefix("Bearer ").strip()
    return users[token]


def approved_entry_ids(tenant: Tenant) -> set[str]:
    return {
        entry_id
        for row in tenant.store.rows(SUBMISSIONS)
        if row["status"] == "approved"
        for entry_id in row["time_entry_ids"]
    }


# -- time entries ------------------------------------------------------------------------------


def list_time_entries(tenant: Tenant, request: Request) -> Response:
    rows = by_id(tenant.store.rows(TIME_ENTRIES))
    if workspace_id := request.param("workspace_id"):
        rows = [row for row in rows if row["workspace_id"] == workspace_id]
    if (only := ids_param(request, "only")) is not None:
        rows = [row for row in rows if row["id"] in only]
    if request.param("approved") is not None:  # documented: always processed as true
        approved = approved_entry_ids(tenant)
        rows = [row for row in rows if row["id"] in approved]
    if (since := after(request, "updated_after")) is not None:
        rows = [row for row in rows if stamp(row["updated_at"]) > since]
    return listing(request, TIME_ENTRIES, rows)


def create_time_entry(tenant: Tenant, request: Request) -> Response:
    fields = body_of(request, "time_entry")
    workspace = existing(tenant, WORKSPACES, fields.get("workspace_id"), "Workspace", "workspace_id")
    minutes = fields.get("time_in_minutes")
    if not isinstance(minutes, int) or minutes <= 0:
        raise invalid("Time in minutes must be greater than 0", "time_in_minutes")
    story_id = fields.get("story_id")
    if story_id is not None:
        story = existing(tenant, STORIES, story_id, "Story", "story_id")
        if story["workspace_id"] != workspace["id"]:
            raise invalid("Story must belong to the workspace", "story_id")
        story_id = story["id"]
    row = {
        "workspace_id": workspace["id"],
        "story_id": story_id,
        "user_id": str(fields.get("user_id") or caller(tenant, request)),
        "date_performed": day(fields.get("date_performed"), "date_performed"),
        "time_in_minutes": minutes,
        "billable": bool(fields.get("billable", True)),
        "notes": fields.get("notes", ""),
    }
    return single(TIME_ENTRIES, tenant.store.insert(TIME_ENTRIES, row))


# -- expenses ----------------------------------------------------------------------------------


def list_expenses(tenant: Tenant, request: Request) -> Response:
    rows = by_id(tenant.store.rows(EXPENSES))
    if workspace_id := request.param("workspace_id"):
        rows = [row for row in rows if row["workspace_id"] == workspace_id]
    return listing(request, EXPENSES, rows)


def create_expense(tenant: Tenant, request: Request) -> Response:
    fields = body_of(request, "expense")
    workspace = existing(tenant, WORKSPACES, fields.get("workspace_id"), "Workspace", "workspace_id")
    amount = fields.get("amount_in_cents")
    if not isinstance(amount, int) or amount <= 0:
        raise invalid("Amount must be greater than 0", "amount_in_cents")
    row = {
        "workspace_id": workspace["id"],
        "user_id": caller(tenant, request),
        "date": day(fields.get("date"), "date"),
        "category": fields.get("category", ""),
        "amount_in_cents": amount,
        "currency": fields.get("currency") or workspace["currency"],
        "billable": bool(fields.get("billable", True)),
        "notes": fields.get("notes", ""),
    }
    return single(EXPENSES, tenant.store.insert(EXPENSES, row))


# -- timesheet submissions ------------------------------------------------------------------


def list_submissions(tenant: Tenant, request: Request) -> Response:
    rows = tenant.store.rows(SUBMISSIONS)
    if workspace_id := request.param("workspace_id"):
        rows = [row for row in rows if row["workspace_id"] == workspace_id]
    if (only := ids_param(request, "only")) is not None:
        rows = [row for row in rows if row["id"] in only]
    if (statuses := ids_param(request, "statuses")) is not None:
        rows = [row for row in rows if row["status"] in statuses]
    if (since := after(request, "updated_after")) is not None:
        rows = [row for row in rows if stamp(row["updated_at"]) > since]
    order = request.param("order") or "date:desc"
    if order not in ("date:asc", "date:desc"):
        raise bad_request("order must be one of date:asc, date:desc")
    rows.sort(key=lambda row: (row["start_date"], int(row["id"])), reverse=order == "date:desc")
    related = {}
    if "time_entries" in includes(request):
        related[TIME_ENTRIES] = [
            entry
            for row in rows
            for entry_id in row["time_entry_ids"]
            if (entry := tenant.store.get(TIME_ENTRIES, entry_id))
        ]
    return listing(request, SUBMISSIONS, rows, related)


def create_submission(tenant: Tenant, request: Request) -> Response:
    """One person's time entries on one workspace, submitted for approval (status "new")."""
    fields = body_of(request, "timesheet_submission")
    workspace = existing(tenant, WORKSPACES, fields.get("workspace_id"), "Workspace", "workspace_id")
    entry_ids = [str(entry_id) for entry_id in fields.get("line_item_ids") or fields.get("time_entry_ids") or []]
    entries = [tenant.store.get(TIME_ENTRIES, entry_id) for entry_id in entry_ids]
    if not entries or any(entry is None or entry["workspace_id"] != workspace["id"] for entry in entries):
        raise invalid("Time entries must exist and belong to the workspace", "line_item_ids")
    days = sorted(entry["date_performed"] for entry in entries if entry)
    monday = dt.date.fromisoformat(days[0]) - dt.timedelta(days=dt.date.fromisoformat(days[0]).weekday())
    row = {
        "workspace_id": workspace["id"],
        "user_id": caller(tenant, request),
        "status": "new",
        "time_entry_ids": entry_ids,
        "start_date": monday.isoformat(),
        "end_date": (monday + dt.timedelta(days=6)).isoformat(),
        "title": f"Timesheet for {monday.isoformat()}",
        "comment": fields.get("comment", ""),
        "current_resolution_created_at_date": None,
    }
    return single(SUBMISSIONS, tenant.store.insert(SUBMISSIONS, row))


def approve_submission(tenant: Tenant, request: Request, submission_id: str) -> Response:
    submission = tenant.store.get(SUBMISSIONS, submission_id)
    if submission is None:
        raise not_found("Timesheet Submission")
    if submission["status"] != "new":
        raise invalid(f"A {submission['status']} submission cannot be approved", "status")
    resolved_at = tenant.store.layout.format_time(tenant.store.clock.tick())
    approved = tenant.store.update(
        SUBMISSIONS, submission_id, {"status": "approved", "current_resolution_created_at_date": resolved_at}
    )
    # Kantata does not say whether approval restamps the time entries: they are left alone.
    return single(SUBMISSIONS, approved)
