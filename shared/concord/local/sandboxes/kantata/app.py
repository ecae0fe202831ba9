"""The Kantata OX sandbox (API v1): one account per tenant, under `/<tenant>/api/v1/...`.

Tokens are static bearer tokens (Kantata's never expire), each a user of the account. A spent
request allocation is answered 429 with no Retry-After or rate headers, as Kantata documents
none. Paths may end in `.json`, as Kantata's examples do.
https://developer.kantata.com/kantata/specification (sections Authentication, Rate Limits, Errors)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..kit import BadJson, RecordStore, Request, RequestBudget, Response, Router, StoreLayout, Tenant
from ..kit.http import Handler
from . import projects, timesheets
from .envelope import KantataError

API = "/api/v1"
# The integration user's token (Concord) and a consultant's (the scenario drivers).
DEFAULT_USERS: Mapping[str, str] = {"concord-sandbox-token": "1001", "concord-sandbox-consultant": "1002"}
TABLES = (
    projects.WORKSPACES,
    projects.STORIES,
    projects.REFERENCES,
    projects.VALUES,
    timesheets.TIME_ENTRIES,
    timesheets.EXPENSES,
    timesheets.SUBMISSIONS,
)


@dataclass
class Account(Tenant):
    users: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_USERS))  # token -> user id


def format_time(moment: dt.datetime) -> str:
    """ISO 8601 in UTC to the second, as Kantata's answers give it."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _router() -> Router:
    router = Router()
    routes: list[tuple[str, str, Handler]] = [
        ("GET", "workspaces", projects.list_workspaces),
        ("POST", "workspaces", projects.create_workspace),
        ("GET", "workspaces/{workspace_id}", projects.get_workspace),
        ("PUT", "workspaces/{workspace_id}", projects.update_workspace),
        ("GET", "stories", projects.list_stories),
        ("POST", "stories", projects.create_story),
        ("GET", "external_references", projects.list_references),
        ("POST", "external_references/create_or_update", projects.create_or_update_reference),
        ("GET", "custom_field_values", projects.list_values),
        ("POST", "custom_field_values", projects.create_values),
        ("GET", "time_entries", timesheets.list_time_entries),
        ("POST", "time_entries", timesheets.create_time_entry),
        ("GET", "expenses", timesheets.list_expenses),
        ("POST", "expenses", timesheets.create_expense),
        ("GET", "timesheet_submissions", timesheets.list_submissions),
        ("POST", "timesheet_submissions", timesheets.create_submission),
        ("PUT", "timesheet_submissions/{submission_id}/approve", timesheets.approve_submission),
    ]
    for method, path, handler in routes:
        router.add(method, f"{API}/{path}", handler)
    return router


class KantataSandbox:
    name = "kantata"

    def __init__(self, *, allocation: int = 10_000, window_seconds: float = 60.0) -> None:
        self._allocation = allocation
        self._window = window_seconds
        self._router = _router()

    def new_tenant(self, name: str) -> Account:
        layout = StoreLayout(
            new_id=lambda table, n: str(1000 + n),
            format_time=format_time,
            id_field="id",
            created_fields=("created_at",),
            modified_fields=("updated_at",),
        )
        return Account(name=name, store=RecordStore(layout), budget=RequestBudget(self._allocation, self._window))

    def handle(self, tenant: Tenant, request: Request) -> Response:
        users: dict[str, str] = getattr(tenant, "users", {})
        token = (request.header("Authorization") or "").removeprefix("Bearer ").strip()
        if token not in users:
            return KantataError(401, "oauth", "Invalid OAuth 2 Request").response()
        if tenant.budget.take() is None:
            return KantataError(429, "system", "Too many requests; retry after a small delay").response()
        path = request.path.removesuffix(".json")
        found = self._router.match(request.method, path)
        if found is None:
            status = 405 if self._router.allows_path(path) else 404
            return KantataError(
                status, "system", "Page not found" if status == 404 else "Method not allowed"
            ).response()
        handler, params = found
        try:
            return handler(tenant, request, **params)
        except KantataError as error:
            return error.response()
        except BadJson as bad:
            return KantataError(400, "system", f"malformed JSON: {bad}").response()

    def seed(self, tenant: Tenant, table: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if table not in TABLES:
            raise ValueError(f"no table {table!r}; known: {', '.join(TABLES)}")
        return [tenant.store.insert(table, record) for record in records]
