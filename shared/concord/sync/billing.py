"""Approved time and expenses (PSA) → billable lines on the project's draft invoice (ERP).

A queue batch is billed together: its lines are grouped by invoice (project, customer,
currency) and sent in calls of up to the ERP's batch limit. A call is all or nothing, so when
one fails permanently the chunk is split in halves until the line at fault is alone: it alone
fails (back to SQS, then the DLQ with its reason), the others are billed. Every line carries
Concord's id of its source record (e.g. "time:<PSA time entry id>"); the registry answers a
redelivered event without asking the ERP, and an ERP that stores line references also refuses
a second line for a batch retried after a crash (with registry-only references, a crash
between the ERP's answer and the registry write is the one window a line can be billed twice:
reconciliation reports it).

Posting the invoice stays with the ERP's finance users (their billing run); InvoicePosted
then travels back to the CRM and PSA (sync.financials).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from .. import catalog
from ..domain import ApprovedTime, InvoiceLine
from ..errors import DraftClosed, PermanentError, ValidationFailed
from ..events import Envelope
from ..events.envelope import ExpenseApprovedEvent, TimeApprovedEvent
from ..events.payloads import TimeApproved
from ..events.types import System
from .ids import canonical_id
from .lineage import lineage_entry, record_lineage
from .links import erp_customer_of, project_of_psa
from .rules import LegalEntityRules
from .systems import Systems

FLOW = catalog.BILLING.name
BillableEvent = TimeApprovedEvent | ExpenseApprovedEvent


class Billed(BaseModel):
    model_config = ConfigDict(frozen=True)

    billed: bool
    detail: str
    invoice_id: str | None = None
    line_id: str | None = None


@dataclass(frozen=True)
class _Line:
    key: Hashable  # the caller's key of the record (e.g. an SQS message id)
    event: BillableEvent
    line: InvoiceLine
    project_ref: str


def source_ref(event: BillableEvent) -> tuple[str, str]:
    """(object type, PSA id) of the record the event approves."""
    if isinstance(event, TimeApprovedEvent):
        return "time_entry", event.data.time_entry_id
    return "expense", event.data.expense_id


def line_ref(time: ApprovedTime | TimeApproved) -> str:
    """Concord's id of the invoice line that bills a time entry."""
    return f"time:{time.time_entry_id}"


def erp_cost_centre(event: BillableEvent, rules: LegalEntityRules) -> str | None:
    """The ERP's id of the cost centre the PSA booked the record to (None when it names none);
    a cost centre the legal entity does not configure is refused, not guessed."""
    if event.data.cost_centre is None:
        return None
    code = rules.cost_centre_of("psa", event.data.cost_centre)
    if code is None:
        object_type, psa_id = source_ref(event)
        raise ValidationFailed(
            f"unknown cost centre {event.data.cost_centre!r} for legal entity {event.legal_entity} "
            f"({object_type} {psa_id}): configure it in the legal entity's cost_centres"
        )
    return rules.cost_centre_id(code, "erp")


def invoice_line(event: BillableEvent, rules: LegalEntityRules) -> InvoiceLine:
    """The ERP invoice line for an approved, billable record."""
    mapping = rules.billing
    cost_centre = erp_cost_centre(event, rules)
    if isinstance(event, TimeApprovedEvent):
        time = event.data
        return InvoiceLine(
            description=f"{time.hours} h on {time.worked_on.isoformat()} (time entry {time.time_entry_id})",
            quantity=float(time.hours),
            unit_price=None,
            service_item=mapping.time_service_item,
            source_records=[f"psa:time_entry:{time.time_entry_id}"],
            concord_ref=line_ref(time),
            cost_centre=cost_centre,
            tax_code=rules.tax.code_for(mapping.time_service_item),
        )
    expense = event.data
    item = mapping.expense_item(expense.category)
    if item is None:
        raise ValidationFailed(
            f"expense category {expense.category!r} has no service item for legal entity {event.legal_entity}"
        )
    if expense.amount.currency != rules.billing_currency:
        raise ValidationFailed(
            f"expense {expense.expense_id} is in {expense.amount.currency}; legal entity "
            f"{event.legal_entity} invoices in {rules.billing_currency}"
        )
    return InvoiceLine(
        description=f"{expense.category} on {expense.incurred_on.isoformat()} (expense {expense.expense_id})",
        quantity=1,
        unit_price=expense.amount,
        service_item=item,
        source_records=[f"psa:expense:{expense.expense_id}"],
        concord_ref=f"expense:{expense.expense_id}",
        cost_centre=cost_centre,
        tax_code=rules.tax.code_for(item),
    )


def bill(records: Sequence[tuple[Hashable, Envelope]], systems: Systems) -> dict[Hashable, Billed | Exception]:
    """Bill a batch; the outcome of each record by its key (an Exception for those that failed)."""
    outcomes: dict[Hashable, Billed | Exception] = {}
    billable: list[tuple[Hashable, BillableEvent]] = []
    for key, event in records:
        if not isinstance(event, BillableEvent):
            outcomes[key] = ValidationFailed(f"billing takes TimeApproved or ExpenseApproved, not {event.type}")
            continue
        try:
            # An unknown legal entity or cost centre is parked with its reason, billable or not.
            erp_cost_centre(event, systems.rules_for(event.legal_entity))
        except Exception as error:  # noqa: BLE001 - each record's failure is reported on its own
            outcomes[key] = error
            continue
        if event.data.billable:
            billable.append((key, event))
        else:
            outcomes[key] = Billed(billed=False, detail="not billable: nothing to invoice")
    try:
        billed = _billed_before([event for _, event in billable], systems)
    except Exception as error:  # noqa: BLE001 - the registry is what every line needs
        return outcomes | dict.fromkeys((key for key, _ in billable), error)
    groups: dict[tuple[str, str, str], list[_Line]] = defaultdict(list)
    projects: dict[str, tuple[str, str]] = {}  # PSA project id -> (project ref, ERP customer): once a batch
    for key, event in billable:
        if line_id := billed.get(source_ref(event)):
            outcomes[key] = Billed(billed=True, detail=f"already billed: ERP line {line_id}", line_id=line_id)
            continue
        try:
            customer_id, line = _plan(key, event, systems, projects)
        except Exception as error:  # noqa: BLE001 - each record's failure is reported on its own
            outcomes[key] = error
            continue
        groups[(customer_id, line.project_ref, systems.rules_for(event.legal_entity).billing_currency)].append(line)
    for (customer_id, project_ref, currency), lines in groups.items():
        outcomes.update(_bill_group(systems, customer_id, project_ref, currency, lines))
    return outcomes


def _bill_group(
    systems: Systems, customer_id: str, project_ref: str, currency: str, lines: list[_Line]
) -> dict[Hashable, Billed | Exception]:
    """The lines of one project's invoice, in calls of the ERP's batch limit. When the draft
    was posted since the connector last saw it, the lines go once more to the draft opened
    then (a second time, they are retried later like any transient failure)."""
    outcomes: dict[Hashable, Billed | Exception] = {}
    limit = systems.erp.capabilities.batch_limits.invoice_lines
    for _attempt in (1, 2):
        try:
            invoice_id = systems.erp.open_invoice_draft(customer_id, currency, project_ref)
            _link_invoice(systems, invoice_id, project_ref, lines[0].event)
        except Exception as error:  # noqa: BLE001 - the invoice is what every line of the group needs
            outcomes.update({line.key: error for line in lines})
            return outcomes
        for start in range(0, len(lines), limit):
            outcomes.update(_add(systems, invoice_id, lines[start : start + limit]))
        lines = [line for line in lines if isinstance(outcomes[line.key], DraftClosed)]
        if not lines:
            break
    return outcomes


def _billed_before(events: Sequence[BillableEvent], systems: Systems) -> dict[tuple[str, str], str]:
    """The ERP line of each source record billed before (a redelivery, push + poll, a replay),
    by (object type, PSA id): known from the registry in batched reads, without asking the ERP,
    which may be down; the ERP's own check by line id stays the guarantee for a crash in between."""
    by_type: dict[str, list[str]] = defaultdict(list)
    for event in events:
        object_type, psa_id = source_ref(event)
        by_type[object_type].append(psa_id)
    billed: dict[tuple[str, str], str] = {}
    for object_type, psa_ids in by_type.items():
        refs = {canonical_id(object_type, System.PSA, psa_id): psa_id for psa_id in psa_ids}
        for ref, line_id in systems.xref.linked_records(object_type, list(refs), System.ERP).items():
            billed[(object_type, refs[ref])] = line_id
    return billed


def _plan(
    key: Hashable, event: BillableEvent, systems: Systems, projects: dict[str, tuple[str, str]]
) -> tuple[str, _Line]:
    line = invoice_line(event, systems.rules_for(event.legal_entity))
    if event.data.project_id not in projects:
        project_ref = project_of_psa(systems, event.data.project_id)
        projects[event.data.project_id] = (project_ref, erp_customer_of(systems, project_ref))
    project_ref, customer_id = projects[event.data.project_id]
    return customer_id, _Line(key=key, event=event, line=line, project_ref=project_ref)


def _add(systems: Systems, invoice_id: str, lines: list[_Line]) -> dict[Hashable, Billed | Exception]:
    """Add the lines in one call; on a permanent failure, split to find the line(s) at fault."""
    unique = list({line.line.concord_ref: line.line for line in lines}.values())
    try:
        line_ids = systems.erp.add_invoice_lines(invoice_id, unique)
    except PermanentError as error:
        if len(unique) == 1:
            return {line.key: error for line in lines}
        middle = len(lines) // 2
        return {**_add(systems, invoice_id, lines[:middle]), **_add(systems, invoice_id, lines[middle:])}
    except Exception as error:  # noqa: BLE001 - transient: every line of the call is retried
        return {line.key: error for line in lines}
    try:
        _record_billed(systems, invoice_id, lines, line_ids)
    except Exception as error:  # noqa: BLE001 - retried: the ERP's check by line id answers then
        return {line.key: error for line in lines}
    return {
        line.key: Billed(
            billed=True,
            detail=f"line {line_ids[line.line.concord_ref or '']} on invoice {invoice_id}",
            invoice_id=invoice_id,
            line_id=line_ids[line.line.concord_ref or ""],
        )
        for line in lines
    }


def _record_billed(systems: Systems, invoice_id: str, lines: list[_Line], line_ids: dict[str, str]) -> None:
    """Link each source record to its ERP line and note it in the record's lineage, in batched
    registry writes by object type."""
    by_type: dict[str, list[tuple[str, _Line, str]]] = defaultdict(list)
    for line in lines:
        object_type, psa_id = source_ref(line.event)
        by_type[object_type].append((psa_id, line, line_ids[line.line.concord_ref or ""]))
    for object_type, billed in by_type.items():
        refs = [canonical_id(object_type, System.PSA, psa_id) for psa_id, _, _ in billed]
        links = [
            (ref, system, record_id, line.event.id)
            for ref, (psa_id, line, line_id) in zip(refs, billed, strict=True)
            for system, record_id in ((System.PSA, psa_id), (System.ERP, line_id))
        ]
        systems.xref.link_many(object_type, links)
        systems.xref.record_changes(
            object_type,
            [
                (ref, lineage_entry(line.event, System.ERP, line_id, f"billed on invoice {invoice_id}"))
                for ref, (_, line, line_id) in zip(refs, billed, strict=True)
            ],
        )


def _link_invoice(systems: Systems, invoice_id: str, project_ref: str, cause: Envelope) -> None:
    invoice_ref = canonical_id("invoice", System.ERP, invoice_id)
    if systems.xref.records_of("invoice", invoice_ref):
        return
    systems.xref.link("invoice", invoice_ref, System.ERP, invoice_id, cause.id)
    systems.xref.relate("invoice", invoice_ref, "project", project_ref)
    record_lineage(systems, "project", project_ref, cause, System.ERP, invoice_id, "draft invoice opened")
