"""The quote-to-cash steps against in-memory systems: what each creates, links and refuses."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from concord.domain import Customer, Opportunity, ProjectState, RecognitionMethod
from concord.errors import PermanentError, TransientError, ValidationFailed
from concord.events import new_event
from concord.events.envelope import (
    OpportunityClosedWonEvent,
    ProjectActivatedEvent,
    SyncExceptionRaisedEvent,
)
from concord.events.payloads import OpportunityLine
from concord.events.types import Address, Money
from concord.sync import quote_to_cash as q2c
from concord.sync.ids import canonical_id
from concord.sync.saga import (
    RETRYABLE_ERRORS,
    SagaPermanentError,
    SagaTransientError,
    SagaValidationError,
    error_class_from_name,
    run_step,
)
from concord.sync.systems import Systems

from .fakes import FakeCrm, FakeErp, erp_capabilities, fake_systems, us_rules

NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
USD = "USD"


def usd(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency=USD)


def lines() -> list[OpportunityLine]:
    return [
        OpportunityLine(
            service_item="CONSULT-HR", description="Discovery", quantity=Decimal(40), unit_price=usd("150")
        ),
        OpportunityLine(service_item="CONSULT-HR", description="Build", quantity=Decimal(120), unit_price=usd("150")),
    ]


@pytest.fixture()
def systems() -> Systems:
    crm = FakeCrm()
    crm.customers["7"] = Customer(
        account_id="7",
        name="Northwind Advisory LLC",
        billing_address=Address(street="1 Main St", city="Boston", postal_code="02110", country="US"),
        tax_id="12-3456789",
        currency=USD,
        legal_entity="us-01",
    )
    crm.opportunities["31"] = Opportunity(
        opportunity_id="31", account_id="7", name="Data platform", amount=usd("24000"), won=True, lines=lines()
    )
    return fake_systems(crm=crm)


def trigger(
    opportunity_id: str = "31", payment_term: str | None = None, billing_owner: str | None = None
) -> OpportunityClosedWonEvent:
    return new_event(
        OpportunityClosedWonEvent,
        {
            "opportunity_id": opportunity_id,
            "account_id": "7",
            "name": "Data platform",
            "amount": usd("24000"),
            "closed_on": "2026-11-25",
            "lines": [line.model_dump() for line in lines()],
            "payment_term": payment_term,
            "contract_type": "fixed_fee",
            "billing_owner": billing_owner,
        },
        legal_entity="us-01",
        occurred_at=NOW,
    )


def run_saga(systems: Systems, event: OpportunityClosedWonEvent) -> q2c.SagaState:
    """The happy path as the state machine chains it: each result added to the state."""
    state = q2c.SagaState(event=event)
    for field, step in (
        ("validation", q2c.validate_customer),
        ("erp_customer", q2c.upsert_erp_customer),
        ("project", q2c.create_psa_project),
        ("billing_terms", q2c.assign_billing_terms),
        ("revenue_schedule", q2c.map_revenue_schedule),
    ):
        state = state.model_copy(update={field: step(state, systems)})
    q2c.publish_project_activated(state, systems, NOW)
    return state


def test_a_won_deal_becomes_an_erp_customer_and_a_psa_project_with_its_tasks(systems: Systems) -> None:
    state = run_saga(systems, trigger())

    (erp_customer,) = systems.erp.customers.values()
    assert erp_customer.name == "Northwind Advisory LLC"
    assert erp_customer.external_ref == canonical_id("customer", "crm", "7")
    (project,) = systems.psa.projects.values()
    assert sorted(project.task_ids) == ["Build", "Discovery"]
    assert systems.erp.payment_terms[erp_customer.customer_id] == "Net 30 days"
    assert state.revenue_schedule is not None and not state.revenue_schedule.applied
    assert state.revenue_schedule.schedule_id is None
    assert "not applicable" in state.revenue_schedule.detail
    assert systems.xref.records_of("customer", erp_customer.external_ref) == {
        "crm": "7",
        "erp": erp_customer.customer_id,
        "psa": project.client_id,
    }
    (plan,) = systems.psa.created
    assert systems.xref.records_of("project", plan.external_ref) == {"crm": "31", "psa": project.project_id}
    assert (plan.account_id, plan.opportunity_id, plan.client_id) == ("7", "31", None)
    (activated,) = systems.bus.published
    assert isinstance(activated, ProjectActivatedEvent)
    assert activated.data.project_id == project.project_id
    assert activated.causation_id == state.event.id and activated.correlation_id == state.event.correlation_id


def deal_with_fixed_fees(systems: Systems, milestone_items: frozenset[str] = frozenset({"MILESTONE"})) -> None:
    """The deal gets a fixed-fee line and a milestone line besides its hours; the ERP keeps schedules."""
    opportunity = systems.crm.opportunities["31"]
    extra = [
        OpportunityLine(service_item="SUPPORT-YR", description="Support", quantity=Decimal(1), unit_price=usd("6000")),
        OpportunityLine(service_item="MILESTONE", description="Go-live", quantity=Decimal(2), unit_price=usd("1500")),
    ]
    systems.crm.opportunities["31"] = opportunity.model_copy(update={"lines": [*opportunity.lines, *extra]})
    rules = us_rules()
    systems.rules["us-01"] = rules.model_copy(
        update={
            "revenue": rules.revenue.model_copy(update={"term_months": 24, "milestone_service_items": milestone_items})
        }
    )
    systems.erp.capabilities = erp_capabilities(revenue_schedules=True)


def test_an_erp_with_revenue_schedules_gets_the_deals_schedule_once(systems: Systems) -> None:
    deal_with_fixed_fees(systems)
    first = run_saga(systems, trigger())
    again = run_saga(systems, trigger())

    erp: FakeErp = systems.erp
    ((schedule_id, schedule),) = erp.revenue_schedules.values()
    assert first.revenue_schedule == again.revenue_schedule
    assert first.revenue_schedule.applied and first.revenue_schedule.schedule_id == schedule_id
    assert "2 of 4 lines deferred over 24 months" in first.revenue_schedule.detail
    # the term runs from the day the deal closed (the CRM's opportunity has no close date here)
    assert (schedule.starts_on, schedule.ends_on) == (dt.date(2026, 11, 25), dt.date(2028, 11, 24))
    methods = {line.description: (line.method, line.amount.amount) for line in schedule.lines}
    assert methods == {
        "Discovery": (RecognitionMethod.ON_INVOICE, Decimal(6000)),
        "Build": (RecognitionMethod.ON_INVOICE, Decimal(18000)),
        "Support": (RecognitionMethod.RATABLY, Decimal(6000)),
        "Go-live": (RecognitionMethod.ON_MILESTONE, Decimal(3000)),
    }
    project_ref = first.project.project_ref
    assert systems.xref.records_of("revenue_schedule", project_ref) == {"erp": schedule_id}


def test_a_deal_sold_only_by_the_hour_defers_nothing(systems: Systems) -> None:
    systems.erp.capabilities = erp_capabilities(revenue_schedules=True)
    state = run_saga(systems, trigger())

    assert not state.revenue_schedule.applied and state.revenue_schedule.detail.startswith("every line")
    assert systems.erp.revenue_schedules == {}


def test_a_schedule_the_erp_refuses_fails_the_step(systems: Systems) -> None:
    deal_with_fixed_fees(systems)
    state = q2c.SagaState(event=trigger())
    for field, step in (
        ("validation", q2c.validate_customer),
        ("erp_customer", q2c.upsert_erp_customer),
        ("project", q2c.create_psa_project),
    ):
        state = state.model_copy(update={field: step(state, systems)})
    systems.erp.outage.remaining = 1

    with pytest.raises(TransientError):
        q2c.map_revenue_schedule(state, systems)


def test_the_deal_payment_term_wins_over_the_legal_entity_default(systems: Systems) -> None:
    run_saga(systems, trigger(payment_term="Net 60 days"))

    assert list(systems.erp.payment_terms.values()) == ["Net 60 days"]


def test_the_deals_contract_type_and_billing_owner_become_the_erp_projects_contract_terms(systems: Systems) -> None:
    state = run_saga(systems, trigger(billing_owner="Dana Whitfield"))

    assert state.project is not None and state.billing_terms is not None
    terms = systems.erp.terms[state.project.project_ref]
    assert (terms.contract_type.value, terms.billing_owner, terms.milestones) == ("fixed_fee", "Dana Whitfield", [])
    assert state.billing_terms.detail == (
        "payment term Net 30 days; contract fixed_fee, billing owner Dana Whitfield (set on the ERP project)"
    )


def test_without_a_billing_owner_the_contract_terms_are_left_to_the_psa(systems: Systems) -> None:
    state = run_saga(systems, trigger())

    assert systems.erp.terms == {}
    assert state.billing_terms is not None
    assert state.billing_terms.detail.endswith(
        "contract fixed_fee, billing owner not named by the CRM (contract terms left to the PSA's contract)"
    )


def test_contract_terms_the_erp_project_has_already_are_kept(systems: Systems) -> None:
    first = run_saga(systems, trigger(billing_owner="Dana Whitfield"))
    assert first.project is not None

    again = run_saga(systems, trigger(billing_owner="Someone Else"))

    assert systems.erp.terms[first.project.project_ref].billing_owner == "Dana Whitfield"
    assert again.billing_terms is not None and again.billing_terms.detail.endswith("already: kept)")


def test_running_the_saga_again_creates_nothing_new(systems: Systems) -> None:
    first = run_saga(systems, trigger())
    second = run_saga(systems, trigger())

    assert len(systems.erp.customers) == 1 and len(systems.psa.projects) == 1
    assert second.project.created is False and second.erp_customer.created is False
    # the same ProjectActivated id both times, so consumers apply it once
    assert systems.bus.published[0].id == systems.bus.published[1].id
    assert first.project.project == second.project.project


def test_a_customer_already_in_the_erp_under_another_id_is_linked_not_duplicated(systems: Systems) -> None:
    legacy = systems.erp.upsert_customer(systems.crm.customers["7"], "legacy-import-0007", None)

    state = run_saga(systems, trigger())

    assert state.validation.existing_erp_customer_id == legacy.customer_id
    assert list(systems.erp.customers) == [legacy.customer_id]
    assert state.erp_customer.created is False


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"billing_address": None}, "no billing address"),
        ({"tax_id": None}, "requires the customer's tax id"),
    ],
)
def test_incomplete_master_data_fails_validation_and_creates_nothing(systems: Systems, change, problem) -> None:
    systems.crm.customers["7"] = systems.crm.customers["7"].model_copy(update=change)

    with pytest.raises(ValidationFailed, match=problem):
        q2c.validate_customer(q2c.SagaState(event=trigger()), systems)

    assert systems.erp.customers == {} and systems.psa.projects == {}


def test_a_currency_the_legal_entity_does_not_use_fails_validation(systems: Systems) -> None:
    opportunity = systems.crm.opportunities["31"]
    systems.crm.opportunities["31"] = opportunity.model_copy(
        update={"amount": Money(amount=Decimal(1), currency="EUR")}
    )

    with pytest.raises(ValidationFailed, match="currency EUR is not used by legal entity us-01"):
        q2c.validate_customer(q2c.SagaState(event=trigger()), systems)


def test_an_opportunity_not_won_in_the_crm_fails_validation(systems: Systems) -> None:
    systems.crm.opportunities["31"] = systems.crm.opportunities["31"].model_copy(update={"won": False})

    with pytest.raises(ValidationFailed, match="not won in the CRM"):
        q2c.validate_customer(q2c.SagaState(event=trigger()), systems)


def test_compensation_marks_what_this_saga_created_and_reports_it(systems: Systems) -> None:
    state = q2c.SagaState(event=trigger())
    for field, step in (
        ("validation", q2c.validate_customer),
        ("erp_customer", q2c.upsert_erp_customer),
        ("project", q2c.create_psa_project),
    ):
        state = state.model_copy(update={field: step(state, systems)})
    cause = json.dumps({"errorType": "SagaTransientError", "errorMessage": "ERP unavailable"})
    failed = state.model_copy(
        update={"failed_step": "AssignBillingTerms", "error": q2c.SagaError(Error="SagaTransientError", Cause=cause)}
    )

    compensation = q2c.compensate(failed, systems)
    report = q2c.raise_exception(failed.model_copy(update={"compensation": compensation}), systems, NOW)

    project_id = state.project.project.project_id
    customer_id = state.erp_customer.erp_customer_id
    assert systems.psa.states[project_id][0] is ProjectState.ON_HOLD
    assert "AssignBillingTerms" in systems.psa.states[project_id][1]
    assert systems.erp.active[customer_id] is False
    (exception,) = systems.bus.published
    assert isinstance(exception, SyncExceptionRaisedEvent) and exception.id == report.event_id
    assert exception.data.step == "AssignBillingTerms"
    assert exception.data.error_class == "transient" and exception.data.severity == "warning"
    assert exception.data.reason.startswith("ERP unavailable | compensated: ")
    assert {(r.system, r.record_id) for r in exception.data.records} == {("erp", customer_id), ("psa", project_id)}
    assert exception.data.caused_by_event_id == state.event.id


def test_compensation_goes_on_when_one_system_is_down_and_says_what_it_could_not_undo(systems: Systems) -> None:
    state = q2c.SagaState(event=trigger())
    for field, step in (
        ("validation", q2c.validate_customer),
        ("erp_customer", q2c.upsert_erp_customer),
        ("project", q2c.create_psa_project),
    ):
        state = state.model_copy(update={field: step(state, systems)})
    systems.erp.outage.remaining = 1

    compensation = q2c.compensate(state.model_copy(update={"failed_step": "AssignBillingTerms"}), systems)

    project_id, customer_id = state.project.project.project_id, state.erp_customer.erp_customer_id
    assert systems.psa.states[project_id][0] is ProjectState.ON_HOLD
    assert systems.erp.active[customer_id] is True
    assert compensation.actions[0] == f"PSA project {project_id} put on hold"
    assert compensation.actions[1].startswith(f"NOT ERP customer {customer_id} deactivated: ")


def test_compensation_leaves_a_pre_existing_erp_customer_active(systems: Systems) -> None:
    systems.erp.upsert_customer(systems.crm.customers["7"], "legacy", None)
    state = q2c.SagaState(event=trigger())
    for field, step in (("validation", q2c.validate_customer), ("erp_customer", q2c.upsert_erp_customer)):
        state = state.model_copy(update={field: step(state, systems)})

    compensation = q2c.compensate(state.model_copy(update={"failed_step": "CreatePsaProject"}), systems)

    assert compensation.actions == []
    assert all(systems.erp.active.values())


def test_a_redrive_after_compensation_reactivates_the_project_it_put_on_hold(systems: Systems) -> None:
    state = run_saga(systems, trigger())
    project_id = state.project.project.project_id
    systems.psa.set_project_state(project_id, ProjectState.ON_HOLD, "compensated")

    run_saga(systems, trigger())

    assert systems.psa.states[project_id][0] is ProjectState.ACTIVE


def test_step_errors_are_named_for_retry_and_catch() -> None:
    def fail(error: Exception):
        return lambda: (_ for _ in ()).throw(error)

    with pytest.raises(SagaTransientError):
        run_step(fail(TransientError("timeout")))
    with pytest.raises(SagaValidationError):
        run_step(fail(ValidationFailed("no address")))
    with pytest.raises(SagaPermanentError):
        run_step(fail(PermanentError("gone")))
    assert SagaTransientError.__name__ in RETRYABLE_ERRORS
    assert SagaValidationError.__name__ not in RETRYABLE_ERRORS
    assert error_class_from_name("SagaValidationError") == "validation"
    assert error_class_from_name("States.Timeout") == "transient"
    assert error_class_from_name("Sandbox.Timedout") == "transient"  # a step's Lambda timed out
    assert error_class_from_name("SagaStepInProgress") == "transient"
    assert error_class_from_name("KeyError") == "permanent"
