"""Kantata OX records <-> Concord's domain records (pure functions, named by direction)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import ValidationError

from concord.domain import ApprovedTime, FinancialStatus, ProjectPlan, ProjectState
from concord.errors import ValidationFailed
from concord.events.types import Money

from .connection import StatusKeys
from .payloads import SubmissionRow, TimeEntryRow, WorkspaceRow

MINUTES_AN_HOUR = Decimal(60)
CENTS = Decimal("0.01")


def workspace_title(plan: ProjectPlan) -> str:
    """The workspace's title carries Concord's reference: the natural key that finds a workspace
    whose external reference was never written (a crash between the two calls)."""
    return f"{plan.name} [{plan.external_ref}]"


def to_kantata_workspace(plan: ProjectPlan) -> dict[str, Any]:
    """A budgeted workspace whose price is what the deal sold (Concord's user is the provider)."""
    return {
        "title": workspace_title(plan),
        "creator_role": "maven",
        "budgeted": True,
        "price": str(plan.budget.amount.quantize(CENTS)),
        "currency": plan.budget.currency,
    }


def to_kantata_story(plan: ProjectPlan, workspace_id: str, position: int) -> dict[str, Any]:
    task = plan.tasks[position]
    story: dict[str, Any] = {"title": task.name, "story_type": "task", "workspace_id": int(workspace_id)}
    if task.planned_hours is not None:
        story["time_estimate_in_minutes"] = round(task.planned_hours * 60)
    return story


def to_kantata_status(state: ProjectState, keys: StatusKeys) -> dict[str, Any]:
    key = {ProjectState.ACTIVE: keys.active, ProjectState.ON_HOLD: keys.on_hold, ProjectState.CLOSED: keys.closed}[
        state
    ]
    return {"status_key": key}


def to_canonical_budget(workspace: WorkspaceRow) -> Money | None:
    if not workspace.budgeted or workspace.price_in_cents is None or not workspace.currency:
        return None
    return Money(amount=Decimal(workspace.price_in_cents) / 100, currency=workspace.currency)


def to_canonical_status(value: str | None, where: str) -> FinancialStatus | None:
    if not value:
        return None
    try:
        return FinancialStatus(value)
    except ValueError:
        raise ValidationFailed(f"kantata {where}: billing status {value!r} is not one Concord writes") from None


def to_kantata_status_values(statuses: Mapping[str, FinancialStatus], field_id: int) -> list[dict[str, Any]]:
    """Custom field values for a bulk create-or-update (Kantata ids are integers)."""
    malformed = sorted(project_id for project_id in statuses if not project_id.isdigit())
    if malformed:
        raise ValidationFailed(f"kantata: {malformed} are no workspace ids")
    return [
        {"subject_type": "Workspace", "subject_id": int(project_id), "custom_field_id": field_id, "value": status.value}
        for project_id, status in statuses.items()
    ]


def to_canonical_approved_time(submission: SubmissionRow, entries: Sequence[TimeEntryRow]) -> list[ApprovedTime]:
    """One ApprovedTime per time entry of an approved submission with time (none before approval).

    Approval time: the submission's current resolution, else its last write (the approval is
    the last write in the usual flow)."""
    if not submission.approved:
        return []
    approved_at = submission.current_resolution_created_at_date or submission.updated_at
    approved = []
    for entry in entries:
        if entry.time_in_minutes <= 0:
            continue
        try:
            approved.append(
                ApprovedTime(
                    time_entry_id=entry.id,
                    project_id=entry.workspace_id,
                    task_id=entry.story_id or entry.workspace_id,
                    employee_id=entry.user_id,
                    worked_on=entry.date_performed,
                    hours=(Decimal(entry.time_in_minutes) / MINUTES_AN_HOUR).quantize(CENTS, rounding=ROUND_HALF_UP),
                    billable=entry.billable,
                    approved_at=approved_at,
                )
            )
        except ValidationError as error:
            raise ValidationFailed(f"kantata time entry {entry.id}: {error.errors()[0]['msg']}") from None
    return sorted(approved, key=lambda item: (item.worked_on, item.time_entry_id))
