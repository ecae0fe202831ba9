"""Projects and time (PSA): project.work values of a project and its tasks, the state comments
Concord appends, and approved timesheet.line records as ApprovedTime.

Tryton documentation: https://docs.tryton.org/modules-project/ and
https://docs.tryton.org/modules-timesheet/
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from concord.domain import ApprovedTime, ProjectPlan, ProjectRecord, ProjectState

from ..names import APPROVED_AT, CONCORD_REF, STATE_COMMENT, from_tryton_datetime, stamp
from .rows import Row, validated


def to_tryton_project_values(
    plan: ProjectPlan, party_id: int, products: Mapping[str, Row], *, invoice_method: str | None
) -> dict[str, Any]:
    """project.work values of a project and its tasks (created in one call, so atomically).

    The project's product (hence its revenue per hour) is the first task's service item, at
    that product's list price. Tryton has no project budget: it goes into the comment.
    """
    first = products[plan.tasks[0].service_item]
    values: dict[str, Any] = {
        "name": plan.name,
        "type": "project",
        "party": party_id,
        CONCORD_REF: plan.external_ref,
        "product": first["id"],
        "list_price": first["list_price_used"],
        "timesheet_available": True,
        "comment": (
            f"Created by Concord for {plan.customer_name}; budget {plan.budget.amount} {plan.budget.currency}."
        ),
        "children": [
            [
                "create",
                [_task_values(task.name, products[task.service_item], task.planned_hours) for task in plan.tasks],
            ]
        ],
    }
    if invoice_method:
        values["project_invoice_method"] = invoice_method
    return values


def _task_values(name: str, product: Row, planned_hours: float | None) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": name,
        "type": "task",
        "product": product["id"],
        "list_price": product["list_price_used"],
        "timesheet_available": True,
    }
    if planned_hours is not None:
        values["effort_duration"] = dt.timedelta(hours=planned_hours)
    return values


def to_project_record(project: Mapping[str, Any], tasks: Iterable[Mapping[str, Any]]) -> ProjectRecord:
    """A project.work (with its `party`, the client) and its direct tasks by name."""
    return ProjectRecord(
        project_id=str(project["id"]),
        client_id=str(project["party"]) if project.get("party") else None,
        task_ids={t["name"]: str(t["id"]) for t in tasks},
    )


def state_comment_key(state: ProjectState, reason: str) -> str:
    return f"{state.value}: {' '.join(reason.split())}"


def state_comment(state: ProjectState, reason: str, moment: dt.datetime | None = None) -> str:
    """The line appended to a project's comment when Concord changes its state."""
    return f"{stamp(moment)} {STATE_COMMENT}{state_comment_key(state, reason)}"


def last_state_comment(comment: str | None) -> str | None:
    """The last line Concord appended to a project's comment for a state change, minus its
    time stamp (what idempotency compares)."""
    for line in reversed((comment or "").splitlines()):
        _, sep, rest = line.partition(f" {STATE_COMMENT}")
        if sep:
            return rest
    return None


def append_line(text: str | None, line: str) -> str:
    return f"{text.rstrip()}\n{line}" if text and text.strip() else line


def timesheet_hours(line: Mapping[str, Any]) -> Decimal:
    """A timesheet.line's duration in hours, rounded to the cent of an hour."""
    duration: dt.timedelta = line["duration"] or dt.timedelta(0)
    return (Decimal(duration.total_seconds()) / Decimal(3600)).quantize(Decimal("0.01"))


# What concord_sync's push announces (events.py, time_approved): more is not one day's time.
MAX_ENTRY_HOURS = Decimal(24)


def to_approved_time(line: Mapping[str, Any], project_id: int, task_id: int, billable: bool) -> ApprovedTime:
    """An approved timesheet.line as ApprovedTime (hours rounded to the cent of an hour)."""
    hours = timesheet_hours(line)
    return validated(
        ApprovedTime,
        f"timesheet line {line['id']}",
        time_entry_id=str(line["id"]),
        project_id=str(project_id),
        task_id=str(task_id),
        employee_id=str(line["employee"]),
        worked_on=line["date"],
        hours=hours,
        billable=billable,
        approved_at=from_tryton_datetime(line[APPROVED_AT]),
    )
