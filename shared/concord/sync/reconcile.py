"""Reconciliation: compare the three systems through the cross-reference registry, report
drift, and repair it from the authoritative system.

What is compared, per canonical entity the registry links:
  customer  CRM account ⇄ ERP customer, field by field (the owner of each field is the
            authority, per the system-of-record table);
  project   closed-won amount (CRM) ⇄ project budget (PSA);
            approved billable hours (PSA) ⇄ hours billed on ERP invoices;
            each invoice's amount due (ERP) ⇄ what Concord recorded, and the financial status
            that follows ⇄ the CRM deal's and the PSA project's.
Repair re-applies from the authority with the flows' own logic (customer master, billing,
financial status); a budget difference is reported only (a person decides which is right).

reconcile() is one run: find the drift in scope, publish DriftDetected for it, repair if asked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..clock import Clock, utc_now
from ..domain import ApprovedTime, InvoiceState, LineRefs
from ..events import new_event
from ..events.envelope import DriftDetectedEvent, TimeApprovedEvent
from ..events.types import Severity, System
from ..ports import InvoiceChange
from .billing import bill, line_ref
from .customer_master import FIELDS as CUSTOMER_FIELDS
from .customer_master import sync_account
from .financials import apply_status, project_status
from .ids import canonical_id, derived_event_id
from .systems import Systems

ObjectType = Literal["customer", "project"]
OBJECT_TYPES: tuple[ObjectType, ...] = ("customer", "project")


class Drift(BaseModel):
    model_config = ConfigDict(frozen=True)

    object_type: ObjectType
    canonical_id: str
    field: str
    authority: System
    values: dict[System, str | None]
    severity: Severity
    repairable: bool
    # what repair needs beyond the entity: e.g. the unbilled time entry ids
    detail: tuple[str, ...] = ()


def _text(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, BaseModel):
        return ", ".join(str(v) for v in value.model_dump(mode="json").values() if v)
    return str(value)


def find_drift(
    systems: Systems, objects: Iterable[ObjectType], today: dt.date, scope: Sequence[tuple[str, str]] | None = None
) -> list[Drift]:
    """Drift of every linked entity of `objects`, or only of the entities in `scope`
    ((object type, canonical id); a project brings its customer along)."""
    objects = set(objects)
    if scope is None:
        customers = systems.xref.canonical_ids("customer") if "customer" in objects else []
        projects = systems.xref.canonical_ids("project") if "project" in objects else []
    else:
        projects = [ref for kind, ref in scope if kind == "project"] if "project" in objects else []
        customers = [ref for kind, ref in scope if kind == "customer"]
        customers += [c for p in projects if (c := systems.xref.related("project", p, "customer"))]
        customers = list(dict.fromkeys(customers)) if "customer" in objects else []
    drift: list[Drift] = []
    for ref in customers:
        drift.extend(_customer_drift(systems, ref))
    for ref in projects:
        drift.extend(_project_drift(systems, ref, today))
    return drift


def _customer_drift(systems: Systems, ref: str) -> list[Drift]:
    records = systems.xref.records_of("customer", ref)
    if System.CRM not in records or System.ERP not in records:
        return []
    crm = systems.crm.get_customer(records[System.CRM])
    erp = systems.erp.get_customer(records[System.ERP])
    found = []
    for field in CUSTOMER_FIELDS:
        crm_value, erp_value = _text(getattr(crm, field)), _text(getattr(erp, field))
        if crm_value != erp_value:
            owner = systems.ownership.owner("customer", field)
            found.append(
                Drift(
                    object_type="customer",
                    canonical_id=ref,
                    field=field,
                    authority=owner,
                    values={System.CRM: crm_value, System.ERP: erp_value},
                    severity=Severity.WARNING,
                    # the CRM's own fields are re-applied; an ERP-owned field the CRM disagrees
                    # with is a conflict for a person (the customer flow reports it the same way)
                    repairable=owner is System.CRM,
                )
            )
    return found


def _project_drift(systems: Systems, ref: str, today: dt.date) -> list[Drift]:
    records = systems.xref.records_of("project", ref)
    if System.CRM not in records or System.PSA not in records:
        return []
    opportunity, project = records[System.CRM], records[System.PSA]
    found = []
    deal = systems.crm.get_opportunity(opportunity).amount
    budget = systems.psa.project_budget(project)
    if budget is None or (budget.currency, budget.amount) != (deal.currency, deal.amount):
        found.append(
            Drift(
                object_type="project",
                canonical_id=ref,
                field="budget",
                authority=System.CRM,
                values={
                    System.CRM: f"{deal.amount} {deal.currency}",
                    System.PSA: f"{budget.amount} {budget.currency}" if budget else None,
                },
                severity=Severity.WARNING,
                repairable=False,
            )
        )

    approved = [t for t in systems.psa.approved_time(project) if t.billable]
    billed = billed_hours(systems, approved)
    unbilled = [t.time_entry_id for t in approved if t.time_entry_id not in billed]
    if unbilled:
        approved_hours = sum((t.hours for t in approved), Decimal(0))
        billed_total = sum(billed.values(), Decimal(0))
        found.append(
            Drift(
                object_type="project",
                canonical_id=ref,
                field="billed_hours",
                authority=System.PSA,
                values={System.PSA: str(approved_hours), System.ERP: str(billed_total)},
                severity=Severity.HIGH,
                repairable=True,
                detail=tuple(unbilled),
            )
        )

    states = _states_from_erp(systems, ref)
    for state, erp_due in states:
        if erp_due != state.amount_due.amount:
            found.append(
                Drift(
                    object_type="project",
                    canonical_id=ref,
                    field=f"invoice {state.invoice_id} amount_due",
                    authority=System.ERP,
                    values={System.ERP: str(erp_due), System.CONCORD: str(state.amount_due.amount)},
                    severity=Severity.HIGH,
                    repairable=True,
                )
            )
    if states:
        expected = project_status([_with_due(s, due) for s, due in states], today)
        crm_status, psa_status = systems.crm.financial_status(opportunity), systems.psa.billing_status(project)
        if crm_status != expected or psa_status != expected:
            found.append(
                Drift(
                    object_type="project",
                    canonical_id=ref,
                    field="financial_status",
                    authority=System.ERP,
                    values={
                        System.ERP: expected.value,
                        System.CRM: crm_status.value if crm_status else None,
                        System.PSA: psa_status.value if psa_status else None,
                    },
                    severity=Severity.HIGH,
                    repairable=True,
                )
            )
    return found


def billed_hours(systems: Systems, approved: Sequence[ApprovedTime]) -> dict[str, Decimal]:
    """Of these approved entries, those billed in the ERP (time entry id -> hours billed): the
    ERP's own line references where it stores them, else the registry's links."""
    if not approved:
        return {}
    if systems.erp.capabilities.line_refs is LineRefs.STORED:
        billed = systems.erp.billed_refs([line_ref(t) for t in approved])
        return {t.time_entry_id: Decimal(str(billed[line_ref(t)])) for t in approved if line_ref(t) in billed}
    return {
        t.time_entry_id: t.hours
        for t in approved
        if System.ERP in systems.xref.records_of("time_entry", canonical_id("time_entry", System.PSA, t.time_entry_id))
    }


def _states_from_erp(systems: Systems, ref: str) -> list[tuple[InvoiceState, Decimal]]:
    """Concord's state of each invoice of the project, with what the ERP says is due now."""
    return [(s, systems.erp.get_invoice(s.invoice_id).amount_due.amount) for s in systems.xref.invoice_states(ref)]


def _with_due(state: InvoiceState, due: Decimal) -> InvoiceState:
    return state.model_copy(update={"amount_due": state.amount_due.model_copy(update={"amount": due})})


def _set_due(due: Decimal) -> InvoiceChange:
    """The change setting an invoice's amount due to what the ERP (the authority) says."""
    return lambda state: None if state is None else _with_due(state, due)


def drift_event(drift: Drift, legal_entity: str, now: dt.datetime) -> DriftDetectedEvent:
    """One DriftDetected per drift and day: a drift still there tomorrow is reported again."""
    values = sorted(drift.values.items())
    return new_event(
        DriftDetectedEvent,
        {
            "object_type": drift.object_type,
            "canonical_id": drift.canonical_id,
            "field": drift.field,
            "authority": drift.authority,
            "values": [{"system": system, "value": value} for system, value in values],
            "severity": drift.severity,
        },
        legal_entity=legal_entity,
        occurred_at=now,
        event_id=derived_event_id("drift", drift.canonical_id, drift.field, repr(values), now.date().isoformat()),
    )


def repair(drift: Drift, cause: DriftDetectedEvent, systems: Systems, now: dt.datetime) -> str:
    """Re-apply from the authority; what was done, in words."""
    if not drift.repairable:
        return "not repaired: a person decides"
    if drift.object_type == "customer":
        records = systems.xref.records_of("customer", drift.canonical_id)
        synced = sync_account(records[System.CRM], records[System.ERP], cause, systems, now)
        return synced.detail
    if drift.field == "billed_hours":
        project = systems.xref.records_of("project", drift.canonical_id)[System.PSA]
        approved = {t.time_entry_id: t for t in systems.psa.approved_time(project)}
        events = [
            new_event(
                TimeApprovedEvent,
                approved[entry].model_dump(),
                legal_entity=cause.legal_entity,
                occurred_at=now,
                event_id=derived_event_id("repair", cause.id, entry),
                causation_id=cause.id,
                correlation_id=cause.correlation_id,
            )
            for entry in drift.detail
            if entry in approved
        ]
        outcomes = bill([(e.id, e) for e in events], systems)
        failed = [str(o) for o in outcomes.values() if isinstance(o, Exception)]
        if failed:
            return f"billed {len(events) - len(failed)} of {len(events)} entries; failed: {'; '.join(failed)}"
        return f"billed {len(events)} entries"
    # amount due or status: take each invoice's amount due from the ERP, then propagate
    for state, erp_due in _states_from_erp(systems, drift.canonical_id):
        if erp_due != state.amount_due.amount:
            systems.xref.update_invoice_state(drift.canonical_id, state.invoice_id, _set_due(erp_due))
    return apply_status(cause, systems, drift.canonical_id, now.date()).detail


class Entity(BaseModel):
    object_type: ObjectType
    canonical_id: str


class ReconcileRequest(BaseModel):
    """What `concord reconcile` (or the schedule, with the defaults) asks a run for."""

    objects: list[ObjectType] = Field(default_factory=lambda: list(OBJECT_TYPES))
    entities: list[Entity] | None = None  # None: every linked entity
    repair: bool | None = None  # None: the scheduled default


class ReconcileReport(BaseModel):
    objects: list[ObjectType]
    repair: bool
    drift: list[dict[str, Any]]  # each Drift as JSON, with its DriftDetected event id and repair outcome


def reconcile(
    systems: Systems,
    request: ReconcileRequest,
    legal_entity: str,
    repair_by_default: bool,
    clock: Clock = utc_now,
) -> ReconcileReport:
    """Find the drift the request covers, publish a DriftDetected for each, and repair it from
    the authority when the request (or, without one, the default) says so."""
    now = clock()
    scope = [(e.object_type, e.canonical_id) for e in request.entities] if request.entities is not None else None
    found = find_drift(systems, request.objects, now.date(), scope)
    events = [drift_event(drift, legal_entity, now) for drift in found]
    if events:
        systems.bus.publish(events)
    do_repair = repair_by_default if request.repair is None else request.repair
    rows = []
    for drift, detected in zip(found, events, strict=True):
        row: dict[str, Any] = {**drift.model_dump(mode="json"), "event_id": detected.id}
        if do_repair:
            row["repair"] = repair(drift, detected, systems, now)
        rows.append(row)
    return ReconcileReport(objects=request.objects, repair=do_repair, drift=rows)
