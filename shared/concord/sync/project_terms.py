"""Staffing and contract changes (PSA) → the project's cost forecast and contract terms (ERP).

StaffingChanged replaces the ERP's cost forecast of the project (planned hours x cost rate per
person). ContractChanged is decided before it is applied: what only affects the future
(billing owner, milestones not yet due, a new contract type before anything was invoiced) is
applied; what would change money already invoiced or due (the contract type once invoices
exist, a milestone whose date has passed) needs a person's approval and is raised as an
exception instead, leaving the ERP as it was. Both ignore an event older than the newest
applied for that project. A queue batch applies only the newest change per project and
stream, and a forecast the registry says was last written is not written again. An ERP
without contract objects (capabilities.contract_objects) keeps neither: both are recorded
as not applicable, as quote-to-cash records a step the ERP lacks.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Hashable, Sequence
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from .. import catalog
from ..domain import ContractTerms, ForecastLine, ProjectForecast
from ..errors import ValidationFailed
from ..events import Envelope
from ..events.envelope import ContractChangedEvent, StaffingChangedEvent
from ..events.payloads import Milestone
from ..events.types import ErrorClass, Money, RecordRef, Severity, System
from .lineage import record_lineage
from .links import erp_customer_of, project_of_psa
from .reporting import sync_exception
from .systems import Systems

FLOW = catalog.PROJECT_TERMS.name
# The registry's copy of the forecast last written to the ERP (with its customer).
FORECAST_KEY = "erp_forecast"
NOT_APPLICABLE = "not applicable: the ERP keeps no contract terms or cost forecasts of a project"


class TermsApplied(BaseModel):
    model_config = ConfigDict(frozen=True)

    applied: bool
    detail: str
    exception_event_id: str | None = None


def forecast_of(event: StaffingChangedEvent, default_currency: str) -> ProjectForecast:
    """The forecast; with nobody staffed, a zero cost in the legal entity's currency."""
    assignments = event.data.assignments
    currencies = {a.cost_rate.currency for a in assignments}
    if len(currencies) > 1:
        raise ValidationFailed(f"staffing of project {event.data.project_id} mixes currencies {sorted(currencies)}")
    currency = currencies.pop() if currencies else default_currency
    cost = sum((a.planned_hours * a.cost_rate.amount for a in assignments), Decimal(0))
    return ProjectForecast(
        lines=[
            ForecastLine(employee_id=a.employee_id, role=a.role, planned_hours=a.planned_hours, cost_rate=a.cost_rate)
            for a in assignments
        ],
        planned_hours=sum((a.planned_hours for a in assignments), Decimal(0)),
        cost=Money(amount=cost, currency=currency),
    )


def contract_terms_of(event: ContractChangedEvent) -> ContractTerms:
    """The contract terms the PSA announces."""
    return ContractTerms(
        contract_type=event.data.contract_type,
        billing_owner=event.data.billing_owner,
        milestones=event.data.milestones,
    )


def approval_needed(current: ContractTerms | None, new: ContractTerms, invoiced: bool, today: dt.date) -> list[str]:
    """Why applying `new` over `current` needs a person's approval (empty: apply it)."""
    if current is None:
        return []
    reasons = []
    if new.contract_type != current.contract_type and invoiced:
        reasons.append(
            f"contract type {current.contract_type.value} → {new.contract_type.value} after invoices were posted"
        )
    new_by_id: dict[str, Milestone] = {m.milestone_id: m for m in new.milestones}
    for old in current.milestones:
        if old.due_on > today:
            continue
        replacement = new_by_id.get(old.milestone_id)
        if replacement is None:
            reasons.append(f"milestone {old.name!r} (due {old.due_on.isoformat()}) removed")
        elif replacement != old:
            reasons.append(f"milestone {old.name!r} (due {old.due_on.isoformat()}) changed")
    return reasons


def apply_terms_batch(
    records: Sequence[tuple[Hashable, Envelope]], systems: Systems, now: dt.datetime
) -> dict[Hashable, TermsApplied | Exception]:
    """A queue batch: for each project and stream (staffing, contract) only the newest change
    is applied (an older one would be replaced at once, or ignored as stale after it); the
    older changes share its outcome."""
    outcomes: dict[Hashable, TermsApplied | Exception] = {}
    newest_first: dict[tuple[str, str], list[tuple[Hashable, Envelope]]] = defaultdict(list)
    for key, event in sorted(records, key=lambda record: record[1].occurred_at, reverse=True):
        if isinstance(event, (StaffingChangedEvent, ContractChangedEvent)):
            newest_first[(type(event).__name__, event.data.project_id)].append((key, event))
        else:
            outcomes[key] = ValidationFailed(f"project terms take StaffingChanged or ContractChanged, not {event.type}")
    for changes in newest_first.values():
        newest_key, newest = changes[0]
        try:
            outcome: TermsApplied | Exception = apply_terms(newest, systems, now)
        except Exception as error:  # noqa: BLE001 - this project's changes fail, the others go on
            outcome = error
        outcomes[newest_key] = outcome
        superseded = TermsApplied(applied=False, detail=f"superseded by the newer change {newest.id}")
        for key, _ in changes[1:]:
            outcomes[key] = outcome if isinstance(outcome, Exception) else superseded
    return outcomes


def apply_terms(event: Envelope, systems: Systems, now: dt.datetime) -> TermsApplied:
    if not isinstance(event, (StaffingChangedEvent, ContractChangedEvent)):
        raise ValidationFailed(f"project terms take StaffingChanged or ContractChanged, not {event.type}")
    if not systems.erp.capabilities.contract_objects:
        # Checked before the project look-ups: waiting for a project link would not make it applicable.
        return TermsApplied(applied=False, detail=NOT_APPLICABLE)
    psa_project_id = event.data.project_id
    project_ref = project_of_psa(systems, psa_project_id)
    customer_id = erp_customer_of(systems, project_ref)
    stream = "staffing" if isinstance(event, StaffingChangedEvent) else "contract"
    applied_at = systems.xref.applied_version(stream, project_ref)
    if applied_at is not None and event.occurred_at < applied_at:
        return TermsApplied(applied=False, detail=f"stale: a {stream} change of {applied_at.isoformat()} is applied")

    if isinstance(event, StaffingChangedEvent):
        forecast = forecast_of(event, systems.rules_for(event.legal_entity).billing_currency)
        written = f"{customer_id}:{forecast.model_dump_json()}"
        if systems.xref.applied_value("project", project_ref, FORECAST_KEY) == written:
            systems.xref.advance_version(stream, project_ref, event.occurred_at, event.id)
            return TermsApplied(applied=False, detail="cost forecast already as announced")
        systems.erp.set_project_forecast(project_ref, customer_id, forecast)
        systems.xref.set_applied_value("project", project_ref, FORECAST_KEY, written)
        detail = f"forecast {forecast.planned_hours} h, cost {forecast.cost.amount} {forecast.cost.currency}"
        record_lineage(systems, "project", project_ref, event, System.ERP, project_ref, detail)
        systems.xref.advance_version(stream, project_ref, event.occurred_at, event.id)
        return TermsApplied(applied=True, detail=detail)

    terms = contract_terms_of(event)
    current = systems.erp.get_contract_terms(project_ref)
    if current == terms:
        systems.xref.advance_version(stream, project_ref, event.occurred_at, event.id)
        return TermsApplied(applied=False, detail="contract terms already as announced")
    reasons = approval_needed(current, terms, bool(systems.xref.invoice_states(project_ref)), now.date())
    if reasons:
        exception = sync_exception(
            event,
            flow=FLOW,
            step="ApplyContractTerms",
            error_class=ErrorClass.CONFLICT,
            severity=Severity.HIGH,
            reason="needs approval before the ERP changes: " + "; ".join(reasons),
            records=[RecordRef(system=System.PSA, record_type="project", record_id=psa_project_id)],
            now=now,
        )
        systems.bus.publish([exception])
        return TermsApplied(applied=False, detail=exception.data.reason, exception_event_id=exception.id)
    systems.erp.set_contract_terms(project_ref, customer_id, terms)
    detail = (
        f"contract {terms.contract_type.value}, billing owner {terms.billing_owner}, {len(terms.milestones)} milestones"
    )
    record_lineage(systems, "project", project_ref, event, System.ERP, project_ref, detail)
    systems.xref.advance_version(stream, project_ref, event.occurred_at, event.id)
    return TermsApplied(applied=True, detail=detail)
