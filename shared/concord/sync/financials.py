"""Invoice and payment status (ERP) → the deal's financial status (CRM) and the project's
billing status (PSA).

Concord keeps the state of each invoice it billed (from InvoicePosted, then each
PaymentReceived) in the registry, and derives the project's status from all its invoices:
overdue if any is, paid when all are, partially paid once money came in, else invoiced.
A payment for an invoice whose InvoicePosted has not been applied yet is a missing
prerequisite: retried with back-off until it is, then parked with that reason. Invoices
Concord did not bill (entered by hand in the ERP) belong to no project: they are left alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

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
    if not isinstance(event, (InvoicePostedEvent, PaymentReceivedEvent)):
        raise ValidationFailed(f"financial status takes InvoicePosted or PaymentReceived, not {event.type}")
    invoice_id = event.data.invoice_id
    project_ref = systems.xref.related("invoice", canonical_id("invoice", System.ERP, invoice_id), "project")
    if project_ref is None:
        return Propagated(applied=False, detail=f"invoice {invoice_id} was not billed by Concord")
    if isinstance(event, InvoicePostedEvent):
        _record_posting(event, systems, project_ref)
    else:
        _record_payment(event, systems, project_ref)
    return apply_status(event, systems, project_ref, today)


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
        record_lineage(systems, "project", project_ref, event, System.ERP, posted.invoice_id,
                       f"invoice {posted.number} posted")


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
        return known.model_copy(update={
            "amount_due": known.amount_due.model_copy(update={"amount": due}),
            "payments": known.payments | {payment.payment_id},
        })

    if systems.xref.update_invoice_state(project_ref, payment.invoice_id, pay) is not None:
        record_lineage(systems, "project", project_ref, event, System.ERP, payment.invoice_id,
                       f"payment {payment.payment_id} of {payment.amount.amount} {payment.amount.currency}")


def apply_status(event: Envelope, systems: Systems, project_ref: str, today: dt.date) -> Propagated:
    status = project_status(systems.xref.invoice_states(project_ref), today)
    records = systems.xref.records_of("project", project_ref)
    missing = [system for system in (System.CRM, System.PSA) if system not in records]
    if missing:
        raise PrerequisiteMissing(f"project {project_ref} has no {' or '.join(missing)} record linked")
    for failed in (systems.crm.set_financial_statuses({records[System.CRM]: status}),
                   systems.psa.set_billing_statuses({records[System.PSA]: status})):
        for error in failed.values():
            raise error
    for system in (System.CRM, System.PSA):
        record_lineage(systems, "project", project_ref, event, system, records[system], f"status {status.value}")
    return Propagated(applied=True, detail=f"CRM and PSA set to {status.value}", status=status)
