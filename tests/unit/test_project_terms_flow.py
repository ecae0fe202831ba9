"""Project terms (staffing and contract changes) reaching the ERP, against in-memory systems
(the world: sync_world.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from concord.domain import (
    ContractTerms,
)
from concord.errors import PrerequisiteMissing
from concord.events import new_event
from concord.events.envelope import (
    ContractChangedEvent,
    StaffingChangedEvent,
)
from concord.sync import financials
from concord.sync.project_terms import apply_terms, approval_needed
from concord.sync.systems import Systems

from . import sync_world
from .sync_world import (
    NOW,
    PROJECT_REF,
    PSA_PROJECT,
    TODAY,
    billed_invoice,
    posted,
    staffing,
    usd,
)

systems = sync_world.systems  # the fixture: a deal quote-to-cash turned into an ERP customer and a PSA project


def contract(
    contract_type: str = "time_and_materials",
    milestones: list[dict] | None = None,
    owner: str = "Ana Finance",
    at: dt.datetime = NOW,
) -> ContractChangedEvent:
    return new_event(
        ContractChangedEvent,
        {
            "project_id": PSA_PROJECT,
            "contract_type": contract_type,
            "billing_owner": owner,
            "milestones": milestones or [],
        },
        legal_entity="us-01",
        occurred_at=at,
    )


def test_staffing_becomes_the_erp_cost_forecast_and_stale_staffing_is_ignored(systems: Systems) -> None:
    assert apply_terms(staffing(["100", "40"]), systems, NOW).applied
    forecast = systems.erp.forecasts[PROJECT_REF]  # type: ignore[attr-defined]
    assert forecast.planned_hours == Decimal(140) and forecast.cost == usd("11200")
    assert not apply_terms(staffing(["1"], at=NOW - dt.timedelta(hours=1)), systems, NOW).applied
    assert systems.erp.forecasts[PROJECT_REF].planned_hours == Decimal(140)  # type: ignore[attr-defined]


def test_a_contract_type_change_after_invoicing_needs_approval(systems: Systems) -> None:
    assert apply_terms(contract(), systems, NOW).applied
    assert apply_terms(contract(owner="Bo Billing", at=NOW + dt.timedelta(seconds=1)), systems, NOW).applied
    billed_invoice(systems)
    financials.propagate(posted(), systems, TODAY)
    outcome = apply_terms(contract("fixed_fee", owner="Bo Billing", at=NOW + dt.timedelta(seconds=2)), systems, NOW)
    assert not outcome.applied and outcome.exception_event_id
    assert systems.erp.terms[PROJECT_REF].contract_type.value == "time_and_materials"  # type: ignore[attr-defined]
    assert systems.erp.terms[PROJECT_REF].billing_owner == "Bo Billing"  # type: ignore[attr-defined]


def test_milestones_due_already_need_approval_future_ones_do_not() -> None:
    past = {"milestone_id": "m1", "name": "Kick-off", "amount": usd("5000"), "due_on": dt.date(2026, 11, 1)}
    future = {"milestone_id": "m2", "name": "Go-live", "amount": usd("9000"), "due_on": dt.date(2027, 1, 15)}
    current = ContractTerms(contract_type="milestone", billing_owner="Ana", milestones=[past, future])
    moved = ContractTerms(
        contract_type="milestone", billing_owner="Ana", milestones=[past, {**future, "due_on": dt.date(2027, 2, 1)}]
    )
    assert approval_needed(current, moved, invoiced=True, today=TODAY) == []
    dropped = ContractTerms(contract_type="milestone", billing_owner="Ana", milestones=[future])
    assert approval_needed(current, dropped, invoiced=False, today=TODAY) == [
        "milestone 'Kick-off' (due 2026-11-01) removed"
    ]


def test_terms_for_a_project_concord_does_not_know_wait(systems: Systems) -> None:
    event = new_event(
        StaffingChangedEvent, {"project_id": "404", "assignments": []}, legal_entity="us-01", occurred_at=NOW
    )
    with pytest.raises(PrerequisiteMissing, match="404"):
        apply_terms(event, systems, NOW)
