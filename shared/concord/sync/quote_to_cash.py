"""Quote-to-cash: the saga's steps, from a won opportunity to an active, billable project.

Step Functions runs them in order (infra/concord_infra/constructs/quote_to_cash.py); each
step gets the saga state so far and returns its own result, which the state machine adds
to the state. Every step is safe to run again: systems are found by canonical id before
anything is created. A permanent failure is caught and compensated (`compensate`), then
reported (`exception_event`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from .. import catalog
from ..domain import (
    ContractTerms,
    Customer,
    ErpCustomer,
    Opportunity,
    ProjectPlan,
    ProjectRecord,
    ProjectState,
    RecognitionMethod,
    RevenueLine,
    RevenueSchedule,
    TaskPlan,
)
from ..errors import ConcordError, ValidationFailed
from ..events import new_event
from ..events.envelope import (
    OpportunityClosedWonEvent,
    ProjectActivatedEvent,
    SyncExceptionRaisedEvent,
)
from ..events.types import ErrorClass, RecordRef, Severity, System
from ..events.versions import parse_event
from .ids import canonical_id, derived_event_id
from .lineage import record_lineage
from .reporting import sync_exception
from .rules import LegalEntityRules
from .saga import error_class_from_name
from .systems import Systems

FLOW = catalog.QUOTE_TO_CASH.name
# The saga reads OpportunityClosedWon v2 (contract type, billing owner); a v1 trigger is upcast.
TRIGGER_ACCEPTS = {"OpportunityClosedWon": frozenset({2})}


class StepResult(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CustomerValidated(StepResult):
    customer_ref: str
    customer: Customer
    opportunity: Opportunity
    existing_erp_customer_id: str | None


class ErpCustomerLinked(StepResult):
    erp_customer_id: str
    created: bool


class ProjectCreated(StepResult):
    project_ref: str
    project: ProjectRecord
    created: bool


class StepOutcome(StepResult):
    applied: bool
    detail: str


class RevenueScheduleMapped(StepOutcome):
    schedule_id: str | None = None  # the ERP's record of the schedule, when one was set


class Published(StepResult):
    event_id: str


class Compensated(StepResult):
    actions: list[str]


class SagaError(BaseModel):
    """What a Catch puts in the state: the error name and Lambda's error JSON as cause."""

    model_config = ConfigDict(populate_by_name=True)

    Error: str
    Cause: str = ""

    def reason(self) -> str:
        try:
            return str(json.loads(self.Cause).get("errorMessage", self.Cause))
        except (json.JSONDecodeError, AttributeError):
            return self.Cause or self.Error


class SagaState(BaseModel):
    """The execution's state: the trigger, each completed step's result under the field the
    catalog names (concord.catalog.SAGA; checked below), and what the Catch noted."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event: OpportunityClosedWonEvent
    validation: CustomerValidated | None = None
    erp_customer: ErpCustomerLinked | None = None
    project: ProjectCreated | None = None
    billing_terms: StepOutcome | None = None
    revenue_schedule: RevenueScheduleMapped | None = None
    failed_step: str | None = None
    error: SagaError | None = None
    activated: Published | None = None
    compensation: Compensated | None = None
    exception: Published | None = None

    @field_validator("event", mode="before")
    @classmethod
    def _trigger_at_the_accepted_version(cls, value: Any) -> Any:
        """A saga started before version 2 holds a v1 trigger (and its redrive repeats it)."""
        return parse_event(value, TRIGGER_ACCEPTS) if isinstance(value, dict) else value

    def require(self, field: str) -> Any:
        value = getattr(self, field)
        if value is None:
            raise ValidationFailed(f"saga state has no {field}: the state machine ran a step out of order")
        return value


def _check_state_follows_the_catalog() -> None:
    """The state machine writes each step's result where the catalog says: a step added or
    renamed there without its field here would be dropped (extra="ignore"), so fail at import."""
    notes = {"event", catalog.SAGA.failed_step_field, catalog.SAGA.error_field}
    results = {step.result for step in catalog.SAGA.all_steps}
    if set(SagaState.model_fields) != notes | results:
        raise TypeError(f"SagaState fields {sorted(SagaState.model_fields)} != catalog {sorted(notes | results)}")


_check_state_follows_the_catalog()


# --- the steps ------------------------------------------------------------------------------


def validate_customer(state: SagaState, systems: Systems) -> CustomerValidated:
    """Is the CRM's master data complete, and is the customer already in the ERP?"""
    event = state.event
    rules = systems.rules_for(event.legal_entity)
    # Read the CRM (the authority) rather than trusting the event's copy of the deal.
    opportunity = systems.crm.get_opportunity(event.data.opportunity_id)
    customer = systems.crm.get_customer(opportunity.account_id)

    problems = []
    if not opportunity.won:
        problems.append("the opportunity is not won in the CRM")
    if customer.billing_address is None:
        problems.append("the account has no billing address")
    currency = opportunity.amount.currency
    if currency not in rules.currencies:
        problems.append(f"currency {currency} is not used by legal entity {event.legal_entity}")
    if rules.tax_id_required and not customer.tax_id:
        problems.append(f"legal entity {event.legal_entity} requires the customer's tax id")
    if not opportunity.lines:
        problems.append("the opportunity has no lines to plan the project from")
    if problems:
        raise ValidationFailed(f"{customer.name}: " + "; ".join(problems))

    customer_ref = canonical_id("customer", System.CRM, customer.account_id)
    # The registry first; the ERP's natural keys find a customer Concord has not linked yet.
    existing_id = systems.xref.records_of("customer", customer_ref).get(System.ERP)
    if existing_id is None and (found := systems.erp.find_customer(tax_id=customer.tax_id, name=customer.name)):
        existing_id = found.customer_id
    return CustomerValidated(
        customer_ref=customer_ref,
        customer=customer,
        opportunity=opportunity,
        existing_erp_customer_id=existing_id,
    )


def upsert_erp_customer(state: SagaState, systems: Systems) -> ErpCustomerLinked:
    validated: CustomerValidated = state.require("validation")
    erp_customer: ErpCustomer = systems.erp.upsert_customer(
        validated.customer, validated.customer_ref, validated.existing_erp_customer_id
    )
    systems.xref.link("customer", validated.customer_ref, System.CRM, validated.customer.account_id, state.event.id)
    systems.xref.link("customer", validated.customer_ref, System.ERP, erp_customer.customer_id, state.event.id)
    created = validated.existing_erp_customer_id is None
    record_lineage(
        systems,
        "customer",
        validated.customer_ref,
        state.event,
        System.ERP,
        erp_customer.customer_id,
        "created" if created else "linked and updated",
    )
    return ErpCustomerLinked(erp_customer_id=erp_customer.customer_id, created=created)


def project_plan(
    validated: CustomerValidated, project_ref: str, client_id: str | None, rules: LegalEntityRules
) -> ProjectPlan:
    opportunity = validated.opportunity
    return ProjectPlan(
        external_ref=project_ref,
        name=opportunity.name,
        customer_ref=validated.customer_ref,
        customer_name=validated.customer.name,
        client_id=client_id,
        account_id=validated.customer.account_id,
        opportunity_id=opportunity.opportunity_id,
        budget=opportunity.amount,
        tasks=[
            TaskPlan(
                name=line.description,
                service_item=line.service_item,
                planned_hours=float(line.quantity) if rules.billing.is_hourly(line.service_item) else None,
            )
            for line in opportunity.lines
        ],
    )


def create_psa_project(state: SagaState, systems: Systems) -> ProjectCreated:
    validated: CustomerValidated = state.require("validation")
    project_ref = canonical_id("project", System.CRM, validated.opportunity.opportunity_id)
    linked = systems.xref.records_of("project", project_ref).get(System.PSA)
    if linked is not None:
        # A redrive after compensation finds the project it put on hold.
        systems.psa.set_project_state(linked, ProjectState.ACTIVE, "quote-to-cash resumed")
    # create_project is idempotent on the project ref: a re-run (or a run after a crash that
    # created the project but did not link it) gets the same project back.
    client_id = systems.xref.records_of("customer", validated.customer_ref).get(System.PSA)
    rules = systems.rules_for(state.event.legal_entity)
    project = systems.psa.create_project(project_plan(validated, project_ref, client_id, rules))
    systems.xref.link("project", project_ref, System.CRM, validated.opportunity.opportunity_id, state.event.id)
    systems.xref.link("project", project_ref, System.PSA, project.project_id, state.event.id)
    if project.client_id is not None:
        systems.xref.link("customer", validated.customer_ref, System.PSA, project.client_id, state.event.id)
    systems.xref.relate("project", project_ref, "customer", validated.customer_ref)
    record_lineage(
        systems,
        "project",
        project_ref,
        state.event,
        System.PSA,
        project.project_id,
        "created" if linked is None else "reactivated",
    )
    return ProjectCreated(project_ref=project_ref, project=project, created=linked is None)


def assign_billing_terms(state: SagaState, systems: Systems) -> StepOutcome:
    """The deal's payment term on the ERP customer, and its contract type and billing owner as
    the project's first contract terms (the PSA's ContractChanged governs them afterwards)."""
    linked: ErpCustomerLinked = state.require("erp_customer")
    rules = systems.rules[state.event.legal_entity]
    term = state.event.data.payment_term or rules.default_payment_term
    contract = _first_contract_terms(state, systems)
    if not systems.erp.capabilities.billing_terms_per_customer:
        return StepOutcome(
            applied=False, detail=f"not applicable: the ERP keeps no payment terms per customer; {contract}"
        )
    systems.erp.set_payment_term(linked.erp_customer_id, term)
    return StepOutcome(applied=True, detail=f"payment term {term}; {contract}")


def _first_contract_terms(state: SagaState, systems: Systems) -> str:
    """Set the deal's contract terms on the ERP project where the ERP keeps them, none are there
    yet and the deal names its billing owner (ContractTerms needs one); what was done, as text."""
    deal = state.event.data
    said = f"contract {deal.contract_type.value}, billing owner {deal.billing_owner or 'not named by the CRM'}"
    if not systems.erp.capabilities.contract_objects:
        return f"{said} (not applicable: the ERP keeps no contract terms)"
    if deal.billing_owner is None:
        return f"{said} (contract terms left to the PSA's contract)"
    created: ProjectCreated = state.require("project")
    if systems.erp.get_contract_terms(created.project_ref) is not None:
        return f"{said} (the ERP project has contract terms already: kept)"
    linked: ErpCustomerLinked = state.require("erp_customer")
    terms = ContractTerms(contract_type=deal.contract_type, billing_owner=deal.billing_owner)
    systems.erp.set_contract_terms(created.project_ref, linked.erp_customer_id, terms)
    return f"{said} (set on the ERP project)"


def revenue_schedule(opportunity: Opportunity, closed_on: dt.date, rules: LegalEntityRules) -> RevenueSchedule:
    """What the won deal says about its revenue: each line's amount, recognized as the legal
    entity's rules say for its service item, over the term from the day the deal closed."""

    def method(service_item: str) -> RecognitionMethod:
        if rules.billing.is_hourly(service_item):
            return RecognitionMethod.ON_INVOICE
        if service_item in rules.revenue.milestone_service_items:
            return RecognitionMethod.ON_MILESTONE
        return RecognitionMethod.RATABLY

    return RevenueSchedule(
        starts_on=opportunity.closed_on or closed_on,
        term_months=rules.revenue.term_months,
        lines=[
            RevenueLine(
                service_item=line.service_item,
                description=line.description,
                quantity=line.quantity,
                amount=line.unit_price.model_copy(update={"amount": line.unit_price.amount * line.quantity}),
                method=method(line.service_item),
            )
            for line in opportunity.lines
        ],
    )


def map_revenue_schedule(state: SagaState, systems: Systems) -> RevenueScheduleMapped:
    created: ProjectCreated = state.require("project")
    if not systems.erp.capabilities.revenue_schedules:
        return RevenueScheduleMapped(
            applied=False,
            detail="not applicable: the ERP does not model revenue schedules; revenue follows posted invoices",
        )
    validated: CustomerValidated = state.require("validation")
    linked: ErpCustomerLinked = state.require("erp_customer")
    schedule = revenue_schedule(
        validated.opportunity, state.event.data.closed_on, systems.rules_for(state.event.legal_entity)
    )
    if not schedule.deferred_lines():
        return RevenueScheduleMapped(applied=False, detail="every line is recognized as it is invoiced")
    # Idempotent in the ERP: a re-run for the same project gets the same schedule back.
    schedule_id = systems.erp.set_revenue_schedule(created.project_ref, linked.erp_customer_id, schedule)
    systems.xref.link("revenue_schedule", created.project_ref, System.ERP, schedule_id, state.event.id)
    deferred = len(schedule.deferred_lines())
    return RevenueScheduleMapped(
        applied=True,
        schedule_id=schedule_id,
        detail=f"{deferred} of {len(schedule.lines)} lines deferred over {schedule.term_months} months from "
        f"{schedule.starts_on.isoformat()}",
    )


def publish_project_activated(state: SagaState, systems: Systems, now: dt.datetime) -> Published:
    created: ProjectCreated = state.require("project")
    linked: ErpCustomerLinked = state.require("erp_customer")
    validated: CustomerValidated = state.require("validation")
    event = new_event(
        ProjectActivatedEvent,
        {
            "project_id": created.project.project_id,
            "opportunity_id": validated.opportunity.opportunity_id,
            "erp_customer_id": linked.erp_customer_id,
            "name": validated.opportunity.name,
            "budget": validated.opportunity.amount.model_dump(mode="json"),
            "tasks": [{"task_id": task_id, "name": name} for name, task_id in sorted(created.project.task_ids.items())],
        },
        legal_entity=state.event.legal_entity,
        occurred_at=now,
        event_id=derived_event_id(created.project_ref, "activated"),
        correlation_id=state.event.correlation_id,
        causation_id=state.event.id,
    )
    systems.bus.publish([event])
    return Published(event_id=event.id)


# --- failure --------------------------------------------------------------------------------


def compensate(state: SagaState, systems: Systems) -> Compensated:
    """Undo or mark what this saga created before the failure; leave what existed alone.

    Each action is tried on its own: one system being down (often the reason the saga
    failed) must not stop the others, and what could not be undone is said, so the
    exception names every record a person may need to look at.
    """
    reason = f"quote-to-cash failed at {state.failed_step}: {state.error.reason() if state.error else 'unknown'}"
    undo: list[tuple[str, Callable[[], None]]] = []
    if state.project and state.project.created:
        project_id = state.project.project.project_id
        undo.append(
            (
                f"PSA project {project_id} put on hold",
                lambda: systems.psa.set_project_state(project_id, ProjectState.ON_HOLD, reason),
            )
        )
    if state.erp_customer and state.erp_customer.created:
        customer_id = state.erp_customer.erp_customer_id
        undo.append(
            (f"ERP customer {customer_id} deactivated", lambda: systems.erp.deactivate_customer(customer_id, reason))
        )
    actions = []
    for done, action in undo:
        try:
            action()
            actions.append(done)
        except ConcordError as error:
            actions.append(f"NOT {done}: {error}")
    return Compensated(actions=actions)


# Business severity: a deal that cannot become a project yet delays the project (a warning);
# a conflict or an unexplained failure needs a person sooner.
_SEVERITY = {
    ErrorClass.VALIDATION: Severity.WARNING,
    ErrorClass.TRANSIENT: Severity.WARNING,
    ErrorClass.CONFLICT: Severity.HIGH,
    ErrorClass.PERMANENT: Severity.HIGH,
}


def raise_exception(state: SagaState, systems: Systems, now: dt.datetime) -> Published:
    event = exception_event(state, now)
    systems.bus.publish([event])
    return Published(event_id=event.id)


def exception_event(state: SagaState, now: dt.datetime) -> SyncExceptionRaisedEvent:
    error_class = error_class_from_name(state.error.Error if state.error else "")
    records = []
    if state.erp_customer:
        records.append(
            RecordRef(system=System.ERP, record_type="customer", record_id=state.erp_customer.erp_customer_id)
        )
    if state.project:
        records.append(RecordRef(system=System.PSA, record_type="project", record_id=state.project.project.project_id))
    reason = state.error.reason() if state.error else "unknown failure"
    if state.compensation and state.compensation.actions:
        reason += " | compensated: " + "; ".join(state.compensation.actions)
    # Each failed execution reports, a redriven one that fails again too.
    return sync_exception(
        state.event,
        flow=FLOW,
        step=state.failed_step or "unknown",
        error_class=error_class,
        severity=_SEVERITY[error_class],
        reason=reason,
        records=records,
        now=now,
        once_per_cause=False,
    )
