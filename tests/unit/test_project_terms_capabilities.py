"""Project terms against an ERP without contract objects (capabilities.contract_objects False,
e.g. NetSuite): staffing and contract changes are recorded as not applicable, as quote-to-cash
records a step the ERP lacks, never raised and parked."""

from __future__ import annotations

import datetime as dt

import pytest

from concord.events import new_event
from concord.events.envelope import ContractChangedEvent, StaffingChangedEvent
from concord.events.types import System
from concord.sync.ids import canonical_id
from concord.sync.project_terms import NOT_APPLICABLE, apply_terms
from concord.sync.systems import Systems

from .fakes import FakeBus, FakeErp, FakeXref, erp_capabilities, fake_systems

NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
PSA_PROJECT = "41"
CUSTOMER_REF = canonical_id("customer", System.CRM, "7")
PROJECT_REF = canonical_id("project", System.CRM, "31")


def systems_with(contract_objects: bool) -> Systems:
    xref = FakeXref()
    xref.link("customer", CUSTOMER_REF, System.ERP, "900", "q2c")
    xref.link("project", PROJECT_REF, System.PSA, PSA_PROJECT, "q2c")
    xref.relate("project", PROJECT_REF, "customer", CUSTOMER_REF)
    erp = FakeErp(capabilities=erp_capabilities().model_copy(update={"contract_objects": contract_objects}))
    return fake_systems(erp=erp, xref=xref, bus=FakeBus())


def staffing(project_id: str = PSA_PROJECT) -> StaffingChangedEvent:
    return new_event(
        StaffingChangedEvent,
        {
            "project_id": project_id,
            "assignments": [
                {
                    "employee_id": "3",
                    "role": "Consultant",
                    "planned_hours": "40",
                    "cost_rate": {"amount": "80", "currency": "USD"},
                }
            ],
        },
        legal_entity="us-01",
        occurred_at=NOW,
    )


def contract(project_id: str = PSA_PROJECT) -> ContractChangedEvent:
    return new_event(
        ContractChangedEvent,
        {"project_id": project_id, "contract_type": "fixed_fee", "billing_owner": "Ana Finance", "milestones": []},
        legal_entity="us-01",
        occurred_at=NOW,
    )


@pytest.mark.parametrize("event", [staffing(), contract()], ids=["staffing", "contract"])
def test_an_erp_without_contract_objects_records_not_applicable_and_writes_nothing(event) -> None:
    systems = systems_with(contract_objects=False)

    outcome = apply_terms(event, systems, NOW)

    assert not outcome.applied and outcome.detail == NOT_APPLICABLE and outcome.exception_event_id is None
    assert systems.erp.forecasts == {} and systems.erp.terms == {}  # type: ignore[attr-defined]
    assert systems.bus.published == []  # type: ignore[attr-defined]
    assert systems.xref.applied_version("staffing", PROJECT_REF) is None
    assert systems.xref.applied_version("contract", PROJECT_REF) is None


@pytest.mark.parametrize("event", [staffing(), contract()], ids=["staffing", "contract"])
def test_the_same_change_is_applied_where_the_erp_has_contract_objects(event) -> None:
    systems = systems_with(contract_objects=True)

    outcome = apply_terms(event, systems, NOW)

    assert outcome.applied and outcome.detail != NOT_APPLICABLE
    assert PROJECT_REF in {**systems.erp.forecasts, **systems.erp.terms}  # type: ignore[attr-defined]


def test_not_applicable_does_not_wait_for_a_project_concord_does_not_know() -> None:
    # Waiting (PrerequisiteMissing, retried) would never make the change applicable.
    outcome = apply_terms(staffing(project_id="404"), systems_with(contract_objects=False), NOW)

    assert not outcome.applied and outcome.detail == NOT_APPLICABLE
