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
from .lineage import record_lineage
from .systems import Systems

FLOW = catalog.FINANCIAL_STATUS.name


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
    """Record each posting and payment in the registry (in order of occurrence), then write
    each touched project's status once, and only to a system whose status the registry says
    differs: one CRM and one PSA call for the whole batch at most. A record whose status
    write failed is retried alone; its invoice state is already recorded, so the retry only
    writes the status."""
    outcomes: dict[Hashable, Propagated | Exception] = {}
    touched: dict[str, list[Envelope]] = defaultdict(list)
    keys: dict[str, list[Hashable]] = defaultdict(list)
    for key, event in sorted(records, key=lambda record: record[1].occurred_at):
        try:
            project_ref, invoice_id = _record(event, systems)
        except Exception as error:  # noqa: BLE001 - each record's failure is reported on its own
            outcomes[key] = error
            continue
        if project_ref is None:
            outcomes[key] = Propagated(applied=False, detail=f"invoice {invoice_id} was not billed by Concord")
            continue
        touched[project_ref].append(event)
        keys[project_ref].append(key)
    for project_ref, outcome in _write_statuses(touched, systems, today, force=False).items():
        outcomes.update(dict.fromkeys(keys[project_ref], outcome))
    return outcomes


def _record(event: Envelope, systems: Systems) -> tuple[str | None, str]:
    """Record the posting or payment in its project's invoice states; (the project, None for an
    invoice Concord did not bill; the invoice)."""
    if not isinstance(event, (InvoicePostedEvent, PaymentReceivedEvent)):
        raise ValidationFailed(f"financial status takes InvoicePosted or PaymentReceived, not {event.type}")
    invoice_id = event.data.invoice_id
    project_ref = systems.xref.related("invoice", canonical_id("invoice", System.ERP, invoice_id), "project")
    if project_ref is None:
        return None, invoice_id
    if isinstance(event, InvoicePostedEvent):
        _record_posting(event, systems, project_ref)
    else:
        _record_payment(event, systems, project_ref)
    return project_ref, invoice_id


def _record_posting(event: InvoicePostedEvent, systems: Systems, project_ref: str) -> None:
    posted = event.data

    def post(known: InvoiceState | None) -> InvoiceState:
        return InvoiceState(
            invoice_id=posted.invoice_id,
            number=posted.number,
            total=posted.total,
            # A repeated InvoicePosted keeps what the payments since have left due.
            amount_due=known.amount_due if known else posted.total,
            due_on=posted.due_on,
            payments=known.payments if known else frozenset(),
        )

    if systems.xref.update_invoice_state(project_ref, posted.invoice_id, post) is not None:
        record_lineage(
            systems, "project", project_ref, event, System.ERP, posted.invoice_id, f"invoice {posted.number} posted"
        )


def _record_payment(event: PaymentReceivedEvent, systems: Systems, project_ref: str) -> None:
    payment = event.data

    # Re-applied to the newer state when another worker recorded a payment of this invoice meanwhile.
    def pay(known: InvoiceState | None) -> InvoiceState | None:
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

    if systems.xref.update_invoice_state(project_ref, payment.invoice_id, pay) is not None:
        record_lineage(
            systems,
            "project",
            project_ref,
            event,
            System.ERP,
            payment.invoice_id,
            f"payment {payment.payment_id} of {payment.amount.amount} {payment.amount.currency}",
        )


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
