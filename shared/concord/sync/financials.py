"""Invoice and payment status (ERP) → the deal's financial status (CRM) and the project's
billing status (PSA).

Concord keeps the state of each invoice it billed (from InvoicePosted, then each
PaymentReceived) in the registry, and derives the project's status from all its invoices:
overdue if any is, paid when all are, partially paid once money came in, else invoiced.
A payment for an invoice whose InvoicePosted has not been applied yet is a missing
prerequisite: retried with back-off until it is, then parked with that reason. Invoices
Concord did not bill (entered by hand in the ERP) belong to no project: they are left alone.

A queue batch is handled together: its events are recorded, then each project's status is
written once, in one batched call per system, and only where it changed: the registry keeps
the status last written to each system (a repair by reconciliation writes it regardless).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence

from pydantic import BaseModel, ConfigDict

from .. import catalog
from ..domain import FinancialStatus, InvoiceState
from ..errors import PrerequisiteMissing, ValidationFailed
from ..events import Envelope
from ..events.envelope import InvoicePostedEvent, PaymentReceivedEvent
from ..events.types import System
from .ids import canonical_id
from .lineage import lineage_entry, record_lineage
from .systems import Systems

FLOW = catalog.FINANCIAL_STATUS.name
type InvoiceEvent = InvoicePostedEvent | PaymentReceivedEvent


class Propagated(BaseModel):
    model_config = ConfigDict(frozen=True)

    applied: bool
    detail: str
    status: FinancialStatus | None = None


def project_status(states: Iterable[InvoiceState], today: dt.date) -> FinancialStatus:
    statuses = [state.status(today) for state in states]
    if not statuses:
        return FinancialStatus.NOT_INVOICED
    if FinancialStatus.OVERDUE in statuses:
        return FinancialStatus.OVERDUE
    if all(status is FinancialStatus.PAID for status in statuses):
        return FinancialStatus.PAID
    if any(status in (FinancialStatus.PAID, FinancialStatus.PARTIALLY_PAID) for status in statuses):
        return FinancialStatus.PARTIALLY_PAID
    return FinancialStatus.INVOICED


def propagate(event: Envelope, systems: Systems, today: dt.date) -> Propagated:
    """One event (propagate_batch of one): its outcome, or its error raised."""
    outcome = propagate_batch([(event.id, event)], systems, today)[event.id]
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def propagate_batch(
    records: Sequence[tuple[Hashable, Envelope]], systems: Systems, today: dt.date
) -> dict[Hashable, Propagated | Exception]:
    """Record the batch's postings and payments in the registry, each invoice's in order of
    occurrence and in one conditional write (its project looked up once, its lineage written
    in one batch), then write each touched project's status once, and only to a system whose
    status the registry says differs: one CRM and one PSA call for the whole batch at most. A
    record whose status write failed is retried alone; its invoice state is already recorded,
    so the retry only writes the status."""
    outcomes: dict[Hashable, Propagated | Exception] = {}
    by_invoice: dict[str, list[tuple[Hashable, InvoiceEvent]]] = defaultdict(list)
    for key, event in sorted(records, key=lambda record: record[1].occurred_at):
        if isinstance(event, (InvoicePostedEvent, PaymentReceivedEvent)):
            by_invoice[event.data.invoice_id].append((key, event))
        else:
            outcomes[key] = ValidationFailed(
                f"financial status takes InvoicePosted or PaymentReceived, not {event.type}"
            )
    touched: dict[str, list[Envelope]] = defaultdict(list)
    keys: dict[str, list[Hashable]] = defaultdict(list)
    for invoice_id, events in by_invoice.items():
        try:
            project_ref = systems.xref.related("invoice", canonical_id("invoice", System.ERP, invoice_id), "project")
            failed = _record_invoice(systems, project_ref, invoice_id, events) if project_ref else {}
        except Exception as error:  # noqa: BLE001 - this invoice's records fail, the others go on
            outcomes.update(dict.fromkeys((key for key, _ in events), error))
            continue
        for key, event in events:
            if key in failed:
                outcomes[key] = failed[key]
            elif project_ref is None:
                outcomes[key] = Propagated(applied=False, detail=f"invoice {invoice_id} was not billed by Concord")
            else:
                touched[project_ref].append(event)
                keys[project_ref].append(key)
    for project_ref, outcome in _write_statuses(touched, systems, today, force=False).items():
        outcomes.update(dict.fromkeys(keys[project_ref], outcome))
    return outcomes


def _record_invoice(
    systems: Systems, project_ref: str, invoice_id: str, events: Sequence[tuple[Hashable, InvoiceEvent]]
) -> dict[Hashable, Exception]:
    """Apply an invoice's postings and payments, in order, to its state in one registry write,
    and add to the project's lineage each that changed it; the records that failed, by key."""
    changed_by: list[InvoiceEvent] = []
    failed: dict[Hashable, Exception] = {}

    # Re-applied whole to the newer state when another worker wrote this invoice meanwhile.
    def apply_all(known: InvoiceState | None) -> InvoiceState | None:
        changed_by.clear()
        failed.clear()
        state = known
        for key, event in events:
            try:
                after = _posted(event, state) if isinstance(event, InvoicePostedEvent) else _paid(event, state)
            except PrerequisiteMissing as error:
                failed[key] = error
                continue
            if after is not None and after != state:
                changed_by.append(event)
                state = after
        return state

    systems.xref.update_invoice_state(project_ref, invoice_id, apply_all)
    if changed_by:
        systems.xref.record_changes(
            "project", [(project_ref, lineage_entry(e, System.ERP, invoice_id, _action(e))) for e in changed_by]
        )
    return failed


def _posted(event: InvoicePostedEvent, known: InvoiceState | None) -> InvoiceState:
    posted = event.data
    return InvoiceState(
        invoice_id=posted.invoice_id,
        number=posted.number,
        total=posted.total,
        # A repeated InvoicePosted keeps what the payments since have left due.
        amount_due=known.amount_due if known else posted.total,
        due_on=posted.due_on,
        payments=known.payments if known else frozenset(),
    )


def _paid(event: PaymentReceivedEvent, known: InvoiceState | None) -> InvoiceState | None:
    payment = event.data
    if known is None:
        raise PrerequisiteMissing(
            f"payment {payment.payment_id} is for invoice {payment.invoice_id}, whose InvoicePosted "
            "has not been applied yet"
        )
    if payment.payment_id in known.payments:
        return None
    # What is left to pay only goes down; taking the smaller value makes the order in which
    # payments arrive irrelevant.
    due = min(known.amount_due.amount, payment.invoice_amount_due.amount)
    return known.model_copy(
        update={
            "amount_due": known.amount_due.model_copy(update={"amount": due}),
            "payments": known.payments | {payment.payment_id},
        }
    )


def _action(event: InvoiceEvent) -> str:
    if isinstance(event, InvoicePostedEvent):
        return f"invoice {event.data.number} posted"
    payment = event.data
    return f"payment {payment.payment_id} of {payment.amount.amount} {payment.amount.currency}"


def apply_status(event: Envelope, systems: Systems, project_ref: str, today: dt.date) -> Propagated:
    """Write the project's status to the CRM and the PSA whatever the registry says was
    written (a repair of drift); `event` is the cause."""
    outcome = _write_statuses({project_ref: [event]}, systems, today, force=True)[project_ref]
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def _write_statuses(
    touched: Mapping[str, Sequence[Envelope]], systems: Systems, today: dt.date, *, force: bool
) -> dict[str, Propagated | Exception]:
    """Each project's status from its invoice states, written in one call per system to those
    whose last written status (the registry's) differs, or to all with `force`; the outcome
    by project. The newest event of a project is the cause in its lineage."""
    outcomes: dict[str, Propagated | Exception] = {}
    writes: dict[System, dict[str, tuple[str, FinancialStatus]]] = {System.CRM: {}, System.PSA: {}}
    statuses: dict[str, FinancialStatus] = {}
    for project_ref in touched:
        try:
            status = project_status(systems.xref.invoice_states(project_ref), today)
            records = _linked_records(systems, project_ref)
        except Exception as error:  # noqa: BLE001 - this project's records fail, the others go on
            outcomes[project_ref] = error
            continue
        statuses[project_ref] = status
        for system, record_id in records.items():
            if force or systems.xref.applied_value("project", project_ref, _status_key(system)) != status.value:
                writes[system][record_id] = (project_ref, status)
    failures = {system: _send(systems, system, wanted) for system, wanted in writes.items()}
    for project_ref, status in statuses.items():
        written, failure = [], None
        for system, wanted in writes.items():
            for record_id, (ref, _) in wanted.items():
                if ref != project_ref:
                    continue
                if record_id in failures[system]:
                    failure = failures[system][record_id]
                    continue
                systems.xref.set_applied_value("project", project_ref, _status_key(system), status.value)
                record_lineage(
                    systems,
                    "project",
                    project_ref,
                    touched[project_ref][-1],
                    system,
                    record_id,
                    f"status {status.value}",
                )
                written.append(system.value.upper())
        outcomes[project_ref] = failure or Propagated(
            applied=True,
            detail=f"{' and '.join(written)} set to {status.value}" if written else f"status {status.value} unchanged",
            status=status,
        )
    return outcomes


def _status_key(system: System) -> str:
    return f"financial_status#{system.value}"


def _linked_records(systems: Systems, project_ref: str) -> dict[System, str]:
    records = systems.xref.records_of("project", project_ref)
    missing = [system for system in (System.CRM, System.PSA) if system not in records]
    if missing:
        raise PrerequisiteMissing(f"project {project_ref} has no {' or '.join(missing)} record linked")
    return {System.CRM: records[System.CRM], System.PSA: records[System.PSA]}


def _send(
    systems: Systems, system: System, wanted: Mapping[str, tuple[str, FinancialStatus]]
) -> Mapping[str, Exception]:
    """One batched status write to `system`; the failures by record id."""
    if not wanted:
        return {}
    statuses = {record_id: status for record_id, (_, status) in wanted.items()}
    try:
        if system is System.CRM:
            return systems.crm.set_financial_statuses(statuses)
        return systems.psa.set_billing_statuses(statuses)
    except Exception as error:  # noqa: BLE001 - the whole call failed: every record of it is retried
        return dict.fromkeys(statuses, error)
