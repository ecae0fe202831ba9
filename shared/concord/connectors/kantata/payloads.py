"""Kantata OX record shapes, as the API returns them (ids are strings in answers).

Reference: https://developer.kantata.com/kantata/specification (Workspaces, Stories, Time
Entries, Timesheet Submissions, External References, Custom Field Values).
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class KantataRecord(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, coerce_numbers_to_str=True)

    id: str


class WorkspaceRow(KantataRecord):
    title: str
    budgeted: bool = False
    price_in_cents: int | None = None
    currency: str | None = None


class StoryRow(KantataRecord):
    title: str
    workspace_id: str


class ExternalReferenceRow(KantataRecord):
    subject_type: str
    subject_id: str
    service_model_ref: str


class TimeEntryRow(KantataRecord):
    workspace_id: str
    story_id: str | None = None
    user_id: str
    date_performed: dt.date
    time_in_minutes: int
    billable: bool = False


class SubmissionRow(KantataRecord):
    """A timesheet submission: one person's week of time entries on one project."""

    workspace_id: str
    status: str
    time_entry_ids: list[str] = Field(default_factory=list)
    created_at: dt.datetime
    updated_at: dt.datetime
    # When the current resolution (the approval) was made; older answers may lack it.
    current_resolution_created_at_date: dt.datetime | None = None

    @property
    def approved(self) -> bool:
        return self.status == "approved"


class CustomFieldValueRow(KantataRecord):
    subject_id: str
    custom_field_id: str
    value: str | None = None
