"""Certinia PSA records <-> Concord's domain records (pure functions, named by direction)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from concord.domain import ApprovedTime, ProjectPlan, ProjectState
from concord.errors import ValidationFailed
from concord.events.types import Money

from .connection import PsaFields, Stages
from .payloads import WEEKDAYS, BudgetRow, TimecardRow

MAX_HOURS_A_DAY = Decimal(24)


def task_ref(external_ref: str, position: int) -> str:
    """The task's external id: the project's, then its 1-based position in the plan."""
    return f"{external_ref}:{position}"


def to_canonical_approved_time(header: TimecardRow) -> list[ApprovedTime]:
    """One ApprovedTime per day of an approved timecard week with hours (none before approval).

    A day's date is found from pse__Start_Date__c by weekday, so a week starting on another
    day than Monday (an org setting) still dates each day's hours right. A day over 24 hours
    cannot be one person's time: the header is refused whole, naming it, rather than dropped."""
    if not header.approved:
        return []
    entries = []
    for weekday, hours in enumerate(header.hours_by_weekday()):
        if hours <= 0:
            continue
        worked_on = header.start_date + dt.timedelta(days=(weekday - header.start_date.weekday()) % 7)
        if hours > MAX_HOURS_A_DAY:
            raise ValidationFailed(
                f"certinia pse__Timecard_Header__c {header.id}: {hours} hours on {WEEKDAYS[weekday]} {worked_on}"
            )
        try:
            entries.append(
                ApprovedTime(
                    time_entry_id=f"{header.id}:{worked_on.isoformat()}",
                    project_id=header.project_id,
                    task_id=header.task_id or header.project_id,
                    employee_id=header.resource_id,
                    worked_on=worked_on,
                    hours=hours,
                    billable=header.billable,
                    # The header has no approval time: approval is its last write in the usual flow.
                    approved_at=header.last_modified,
                )
            )
        except ValidationError as error:
            raise ValidationFailed(
                f"certinia pse__Timecard_Header__c {header.id}: {error.errors()[0]['msg']}"
            ) from None
    return sorted(entries, key=lambda entry: entry.worked_on)


def to_canonical_budget(rows: Sequence[BudgetRow], project_id: str) -> Money | None:
    """The sum of the project's approved budgets (None: it has none)."""
    approved = [row for row in rows if row.approved and row.amount is not None]
    if not approved:
        return None
    currencies = {row.currency for row in approved}
    currency = next(iter(currencies)) if len(currencies) == 1 else None
    if currency is None:
        raise ValidationFailed(
            f"certinia pse__Proj__c {project_id}: approved budgets in currencies {sorted(map(str, currencies))}"
        )
    return Money(amount=sum((row.amount or Decimal(0) for row in approved), Decimal(0)), currency=currency)


def to_certinia_project(
    plan: ProjectPlan, client_id: str, opportunity_id: str | None, stages: Stages
) -> dict[str, Any]:
    """pse__Proj__c fields of a new, active project (its external id goes in the URL)."""
    fields: dict[str, Any] = {
        "Name": plan.name,
        "pse__Account__c": client_id,
        "pse__Is_Active__c": True,
        "pse__Is_Billable__c": True,
        "pse__Stage__c": stages.active,
        "CurrencyIsoCode": plan.budget.currency,
    }
    if opportunity_id:
        fields["pse__Opportunity__c"] = opportunity_id
    return fields


def to_certinia_tasks(plan: ProjectPlan, project_id: str, fields: PsaFields) -> list[dict[str, Any]]:
    """pse__Project_Task__c records for an upsert by the task external id."""
    tasks = []
    for position, task in enumerate(plan.tasks, start=1):
        record: dict[str, Any] = {
            "Name": task.name,
            "pse__Project__c": project_id,
            fields.task_ref: task_ref(plan.external_ref, position),
        }
        if task.planned_hours is not None:
            record["pse__Estimated_Hours__c"] = task.planned_hours
        tasks.append(record)
    return tasks


def to_certinia_budget(plan: ProjectPlan, project_id: str, budget_type: str) -> dict[str, Any]:
    """The approved pse__Budget__c holding what the deal sold."""
    return {
        "Name": f"{plan.name} budget"[:80],
        "pse__Project__c": project_id,
        "pse__Amount__c": float(plan.budget.amount),  # JSON numbers; currency fields hold 2 decimals
        "CurrencyIsoCode": plan.budget.currency,
        "pse__Type__c": budget_type,
        "pse__Status__c": "Approved",
        "pse__Approved__c": True,
    }


def to_certinia_stage(state: ProjectState, stages: Stages) -> dict[str, Any]:
    """The stage and active flag of a project state (only an active project takes time)."""
    stage = {
        ProjectState.ACTIVE: stages.active,
        ProjectState.ON_HOLD: stages.on_hold,
        ProjectState.CLOSED: stages.closed,
    }[state]
    return {"pse__Stage__c": stage, "pse__Is_Active__c": state is ProjectState.ACTIVE}
