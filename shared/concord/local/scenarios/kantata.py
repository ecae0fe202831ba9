"""What people do in the Kantata OX PSA, scripted: the demo's and the e2e tests' consultant when
the stack runs `--systems psa=kantata`.

Plain REST calls against the sandbox (straight to it, not through Concord's fault proxy), with
a consultant's own token: no connector code, so the scenario checks the connector rather than
sharing its mistakes. Consultant has the SaaS consultant's shape (scenarios/__init__.py).
API: https://developer.kantata.com/kantata/specification
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx

from ..vendors import KANTATA_BILLING_STATUS_FIELD_ID, VendorSandboxes
from . import raise_with_body

API = "/api/v1"
CONSULTANT_TOKEN = "concord-sandbox-consultant"  # the sandbox's consultant (sandboxes/kantata/app.py)


class AccountSession:
    """A signed-in user of one Kantata account (Kantata tokens are static bearer tokens)."""

    def __init__(self, account_url: str, token: str = CONSULTANT_TOKEN, *, timeout: float = 10.0) -> None:
        self._http = httpx.Client(
            base_url=account_url.rstrip("/") + API,
            timeout=timeout,
            trust_env=False,
            headers={"Authorization": f"Bearer {token}"},
        )

    def records(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """The records a list answers, in `results` order, every page."""
        rows: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self._call("GET", f"/{path}.json", params={**params, "page": page, "per_page": 200})
            rows += [body[ref["key"]][ref["id"]] for ref in body["results"]]
            if page >= body["meta"]["page_count"]:
                return rows
            page += 1

    def create(self, path: str, key: str, fields: dict[str, Any]) -> dict[str, Any]:
        body = self._call("POST", f"/{path}.json", json={key: fields})
        ref = body["results"][0]
        return dict(body[ref["key"]][ref["id"]])

    def put(self, path: str) -> dict[str, Any]:
        body = self._call("PUT", f"/{path}.json")
        ref = body["results"][0]
        return dict(body[ref["key"]][ref["id"]])

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self._http.request(method, path, **kwargs)
        raise_with_body(response, f"{method} {path}")
        return dict(response.json())

    def close(self) -> None:
        self._http.close()


@dataclass
class Consultant:
    psa: AccountSession
    billing_field_id: int = KANTATA_BILLING_STATUS_FIELD_ID  # the account's Concord billing status field
    vendor: ClassVar[str] = "Kantata"
    project_word: ClassVar[str] = "workspace"
    timesheet_word: ClassVar[str] = "timesheet submission"

    @classmethod
    def signed_in(cls, vendors: VendorSandboxes) -> Consultant:
        return cls(AccountSession(f"{vendors.sandbox_url}/psa"))

    def project_of(self, *, concord_ref: str) -> dict[str, Any] | None:
        """The workspace Concord created for a deal, by Concord's external reference."""
        # https://developer.kantata.com/kantata/specification/external-references/get-external-references
        refs = self.psa.records(
            "external_references", subject_type="Workspace", service_name="concord", service_model_ref=concord_ref
        )
        if not refs:
            return None
        return self.psa.records("workspaces", only=refs[0]["subject_id"])[0]

    def tasks_of(self, project_id: str) -> list[dict[str, Any]]:
        # https://developer.kantata.com/kantata/specification/stories/get-stories
        return self.psa.records("stories", workspace_id=project_id)

    def task_names(self, project_id: str) -> list[str]:
        return sorted(story["title"] for story in self.tasks_of(project_id))

    def log_time(self, project_id: str, hours: float, *, worked_on: dt.date | None = None) -> str:
        """A time entry on the project's first task, submitted for approval in its own
        timesheet submission; returns the submission's id (what `approve` takes)."""
        return self._submit(project_id, [(worked_on or dt.date.today(), hours)])

    def fill_week(self, project_id: str, daily_hours: list[float], *, week_of: dt.date | None = None) -> str:
        """A time entry per day with hours (Monday first) for the week of `week_of`, all in one
        timesheet submission; returns the submission's id."""
        day = week_of or dt.date.today()
        monday = day - dt.timedelta(days=day.weekday())
        return self._submit(
            project_id, [(monday + dt.timedelta(days=n), hours) for n, hours in enumerate(daily_hours) if hours]
        )

    def _submit(self, project_id: str, days: list[tuple[dt.date, float]]) -> str:
        tasks = self.tasks_of(project_id)
        entry_ids: list[int] = []
        for worked_on, hours in days:
            entry: dict[str, Any] = {
                "workspace_id": int(project_id),
                "time_in_minutes": round(hours * 60),
                "date_performed": worked_on.isoformat(),
                "billable": True,
            }
            if tasks:
                entry["story_id"] = int(tasks[0]["id"])
            # https://developer.kantata.com/kantata/specification/time-entries/create-time-entry
            entry_ids.append(int(self.psa.create("time_entries", "time_entry", entry)["id"]))
        # https://developer.kantata.com/kantata/specification/timesheet-submissions/create-timesheet-submission
        submission = self.psa.create(
            "timesheet_submissions",
            "timesheet_submission",
            {"workspace_id": int(project_id), "line_item_ids": entry_ids},
        )
        return str(submission["id"])

    def approve(self, submission_ids: list[str]) -> None:
        for submission_id in submission_ids:
            # https://developer.kantata.com/kantata/specification/timesheet-submissions/approve-timesheet-submission
            self.psa.put(f"timesheet_submissions/{submission_id}/approve")

    def billing_status(self, project_id: str) -> str | None:
        """The project's Concord billing status custom field, as the consultant sees it."""
        # https://developer.kantata.com/kantata/specification/custom-field-values/get-custom-field-values
        values = self.psa.records(
            "custom_field_values",
            subject_type="Workspace",
            with_subject_id=project_id,
            with_custom_field_id=self.billing_field_id,
        )
        return values[-1]["value"] if values else None
