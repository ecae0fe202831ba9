"""In-memory systems implementing Concord's ports, shared by the unit tests of sync logic."""

from __future__ import annotations

import datetime as dt
import inspect
import itertools
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from concord.connectors.kit.cursors import TimeCursor
from concord.domain import (
    ApprovedTime,
    BatchLimits,
    ChangePage,
    ContractTerms,
    CrmCapabilities,
    Customer,
    CustomerUpdate,
    DraftInvoices,
    ErpCapabilities,
    ErpCustomer,
    FinancialStatus,
    InvoiceLine,
    InvoiceRecord,
    InvoiceState,
    LineageEntry,
    LineRefs,
    Opportunity,
    PostedInvoice,
    ProjectForecast,
    ProjectPlan,
    ProjectRecord,
    ProjectState,
    PsaCapabilities,
    ReceivedPayment,
    RecordChange,
    RevenueSchedule,
)
from concord.errors import ConcordError, ConfigurationError, PermanentError, TransientError, ValidationFailed
from concord.events import Envelope
from concord.events.types import Money
from concord.ownership import SystemOfRecord, load_system_of_record
from concord.ports import InvoiceChange
from concord.sync.rules import BillingMapping, LegalEntityRules
from concord.sync.systems import Systems

from .fake_contacts import FakeContacts

_ids = itertools.count(100)


class NotFound(PermanentError):
    pass


@dataclass
class Outage:
    """Set `remaining` to make the next N calls of a fake raise a transient error."""

    remaining: int = 0

    def check(self) -> None:
        if self.remaining:
            self.remaining -= 1
            raise TransientError("system unavailable (simulated)")


@dataclass
class ChangeLog:
    """Write times of records, polled as a system polled by "modified after" is."""

    written: dict[str, dict[str, tuple[dt.datetime, dt.datetime]]] = field(default_factory=dict)

    def touch(self, record_type: str, record_id: str, at: dt.datetime) -> None:
        created = self.written.get(record_type, {}).get(record_id, (at, at))[1]
        self.written.setdefault(record_type, {})[record_id] = (at, created)

    def start_cursor(self, record_type: str, now: dt.datetime) -> str:
        return TimeCursor.at(now).encode()

    def resume_cursor(self, record_type: str, saved: str) -> str:
        return saved

    def changes_since(self, record_type: str, cursor: str, limit: int) -> ChangePage:
        at = TimeCursor.decode(cursor)
        rows = sorted(
            (written, record_id, created)
            for record_id, (written, created) in self.written.get(record_type, {}).items()
            if written > at.written_at or (written == at.written_at and record_id not in at.ids_at)
        )[:limit]
        changes = [RecordChange(record_type=record_type, record_id=r, written_at=w, created_at=c) for w, r, c in rows]
        moved = at.advanced([(c.record_id, c.written_at) for c in changes])
        return ChangePage(changes=changes, cursor=moved.encode(), more=len(changes) == limit)

    def changes_of(self, record_type: str, record_ids: Sequence[str]) -> list[RecordChange]:
        written = self.written.get(record_type, {})
        return [
            RecordChange(record_type=record_type, record_id=r, written_at=written[r][0], created_at=written[r][1])
            for r in dict.fromkeys(record_ids)
            if r in written
        ]


@dataclass
class FakeCrm(ChangeLog, FakeContacts):
    customers: dict[str, Customer] = field(default_factory=dict)
    opportunities: dict[str, Opportunity] = field(default_factory=dict)
    statuses: dict[str, list[FinancialStatus]] = field(default_factory=dict)
    capabilities: CrmCapabilities = field(default_factory=CrmCapabilities)

    def get_customer(self, account_id: str) -> Customer:
        if account_id not in self.customers:
            raise NotFound(f"no account {account_id}")
        return self.customers[account_id]

    def get_opportunity(self, opportunity_id: str) -> Opportunity:
        if opportunity_id not in self.opportunities:
            raise NotFound(f"no opportunity {opportunity_id}")
        return self.opportunities[opportunity_id]

    def set_financial_statuses(self, statuses: Mapping[str, FinancialStatus]) -> dict[str, ConcordError]:
        failed: dict[str, ConcordError] = {}
        for opportunity_id, status in statuses.items():
            if self.opportunities and opportunity_id not in self.opportunities:
                failed[opportunity_id] = NotFound(f"no opportunity {opportunity_id}")
                continue
            self.statuses.setdefault(opportunity_id, []).append(status)
        return failed

    def financial_status(self, opportunity_id: str) -> FinancialStatus | None:
        return (self.statuses.get(opportunity_id) or [None])[-1]


@dataclass
class FakePsa(ChangeLog, FakeContacts):
    projects: dict[str, ProjectRecord] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)  # external ref -> project id (create is idempotent)
    states: dict[str, tuple[ProjectState, str]] = field(default_factory=dict)
    outage: Outage = field(default_factory=Outage)
    capabilities: PsaCapabilities = field(default_factory=PsaCapabilities)
    created: list[ProjectPlan] = field(default_factory=list)

    def create_project(self, plan: ProjectPlan) -> ProjectRecord:
        self.outage.check()
        if plan.external_ref in self.refs:
            return self.projects[self.refs[plan.external_ref]]
        client_id = plan.client_id or str(next(_ids))
        self.clients.setdefault(client_id, plan.customer_name)
        project = ProjectRecord(
            project_id=str(next(_ids)),
            client_id=client_id,
            task_ids={task.name: str(next(_ids)) for task in plan.tasks},
        )
        self.projects[project.project_id] = project
        self.refs[plan.external_ref] = project.project_id
        self.states[project.project_id] = (ProjectState.ACTIVE, "created")
        self.budgets[project.project_id] = plan.budget
        self.created.append(plan)
        return project

    def set_project_state(self, project_id: str, state: ProjectState, reason: str) -> None:
        self.outage.check()
        self.states[project_id] = (state, reason)

    approved: dict[str, list[ApprovedTime]] = field(default_factory=dict)  # project id -> its approved time

    def approved_time(self, project_id: str) -> Sequence[ApprovedTime]:
        return list(self.approved.get(project_id, []))

    def approved_entries(self, record_id: str) -> Sequence[ApprovedTime]:
        return [t for entries in self.approved.values() for t in entries if t.time_entry_id == record_id]

    billing_statuses: dict[str, list[FinancialStatus]] = field(default_factory=dict)
    clients: dict[str, str] = field(default_factory=dict)  # client id -> name

    def set_billing_statuses(self, statuses: Mapping[str, FinancialStatus]) -> dict[str, ConcordError]:
        self.outage.check()
        failed: dict[str, ConcordError] = {}
        for project_id, status in statuses.items():
            if self.projects and project_id not in self.projects:
                failed[project_id] = NotFound(f"no project {project_id}")
                continue
            self.billing_statuses.setdefault(project_id, []).append(status)
        return failed

    def billing_status(self, project_id: str) -> FinancialStatus | None:
        return (self.billing_statuses.get(project_id) or [None])[-1]

    budgets: dict[str, Money] = field(default_factory=dict)

    def project_budget(self, project_id: str) -> Money | None:
        return self.budgets.get(project_id)

    def rename_client(self, client_id: str, name: str) -> None:
        self.outage.check()
        if client_id not in self.clients:
            raise NotFound(f"no client {client_id}")
        self.clients[client_id] = name


def erp_capabilities(
    line_refs: LineRefs = LineRefs.STORED, invoice_lines: int = 100, revenue_schedules: bool = False
) -> ErpCapabilities:
    return ErpCapabilities(
        draft_invoices=DraftInvoices.NATIVE,
        line_refs=line_refs,
        revenue_schedules=revenue_schedules,
        contract_objects=True,
        billing_terms_per_customer=True,
        batch_limits=BatchLimits(invoice_lines=invoice_lines),
    )


@dataclass
class FakeErp(ChangeLog, FakeContacts):
    customers: dict[str, ErpCustomer] = field(default_factory=dict)
    active: dict[str, bool] = field(default_factory=dict)
    payment_terms: dict[str, str] = field(default_factory=dict)
    capabilities: ErpCapabilities = field(default_factory=erp_capabilities)
    outage: Outage = field(default_factory=Outage)
    fail_payment_terms_with: Exception | None = None

    def find_customer(self, *, tax_id: str | None, name: str) -> ErpCustomer | None:
        self.outage.check()
        if tax_id and (found := next((c for c in self.customers.values() if c.tax_id == tax_id), None)):
            return found
        return next((c for c in self.customers.values() if c.name == name), None)

    def upsert_customer(self, customer: Customer, external_ref: str, customer_id: str | None) -> ErpCustomer:
        self.outage.check()
        by_ref = next((c.customer_id for c in self.customers.values() if c.external_ref == external_ref), None)
        record = ErpCustomer(
            customer_id=customer_id or by_ref or str(next(_ids)),
            name=customer.name,
            tax_id=customer.tax_id,
            external_ref=external_ref,
        )
        self.customers[record.customer_id] = record
        self.active[record.customer_id] = True
        return record

    def deactivate_customer(self, customer_id: str, reason: str) -> None:
        self.outage.check()
        self.active[customer_id] = False

    def set_payment_term(self, customer_id: str, payment_term: str) -> None:
        self.outage.check()
        if self.fail_payment_terms_with:
            raise self.fail_payment_terms_with
        self.payment_terms[customer_id] = payment_term

    invoices: dict[str, InvoiceRecord] = field(default_factory=dict)
    postings: dict[str, PostedInvoice] = field(default_factory=dict)
    payments: dict[str, ReceivedPayment] = field(default_factory=dict)

    def get_invoice(self, invoice_id: str) -> InvoiceRecord:
        if invoice_id not in self.invoices:
            raise NotFound(f"no invoice {invoice_id}")
        return self.invoices[invoice_id]

    def posted_invoice(self, invoice_id: str) -> PostedInvoice | None:
        return self.postings.get(invoice_id)

    def received_payment(self, payment_id: str) -> ReceivedPayment | None:
        return self.payments.get(payment_id)

    def get_customer(self, customer_id: str) -> ErpCustomer:
        self.outage.check()
        if customer_id not in self.customers:
            raise NotFound(f"no ERP customer {customer_id}")
        return self.customers[customer_id]

    updates: list[tuple[str, CustomerUpdate]] = field(default_factory=list)

    def update_customer(self, customer_id: str, changes: CustomerUpdate) -> None:
        self.outage.check()
        self.updates.append((customer_id, changes))
        self.customers[customer_id] = self.customers[customer_id].model_copy(
            update=changes.model_dump(exclude_none=True)
        )

    # Billing: one draft per project; lines by concord_ref; `bad_items` are refused as a
    # real ERP refuses an unknown product (all or nothing per call).
    drafts: dict[str, str] = field(default_factory=dict)  # project_ref -> invoice id
    # concord_ref (stored refs) or line id (registry-only) -> (line id, invoice, line)
    lines: dict[str, tuple[str, str, InvoiceLine]] = field(default_factory=dict)
    line_calls: list[int] = field(default_factory=list)  # size of each add_invoice_lines call
    bad_items: set[str] = field(default_factory=set)

    draft_customers: dict[str, str] = field(default_factory=dict)  # invoice id -> customer id

    def open_invoice_draft(self, customer_id: str, currency: str, project_ref: str) -> str:
        self.outage.check()
        draft = self.drafts.setdefault(project_ref, str(next(_ids)))
        self.draft_customers[draft] = customer_id
        return draft

    def add_invoice_lines(self, invoice_id: str, lines: Sequence[InvoiceLine]) -> dict[str, str]:
        self.outage.check()
        self.line_calls.append(len(lines))
        if bad := [line.service_item for line in lines if line.service_item in self.bad_items]:
            raise ValidationFailed(f"no product with code {bad[0]!r}")
        if len(lines) > self.capabilities.batch_limits.invoice_lines:
            raise ValidationFailed(
                f"{len(lines)} lines in one call; the limit is {self.capabilities.batch_limits.invoice_lines}"
            )
        stored = self.capabilities.line_refs is LineRefs.STORED
        ids = {}
        for line in lines:
            ref = line.concord_ref or ""
            if stored and ref in self.lines:  # the ERP knows the line: no second one
                ids[ref] = self.lines[ref][0]
                continue
            line_id = f"line-{next(_ids)}"
            self.lines[ref if stored else line_id] = (line_id, invoice_id, line)
            ids[ref] = line_id
        return ids

    def billed_refs(self, concord_refs: Sequence[str]) -> dict[str, float]:
        if self.capabilities.line_refs is not LineRefs.STORED:
            raise ValidationFailed("this ERP keeps no line references: the registry says what was billed")
        return {ref: self.lines[ref][2].quantity for ref in concord_refs if ref in self.lines}

    forecasts: dict[str, ProjectForecast] = field(default_factory=dict)
    terms: dict[str, ContractTerms] = field(default_factory=dict)

    def set_project_forecast(self, project_ref: str, customer_id: str, forecast: ProjectForecast) -> None:
        self.outage.check()
        self.forecasts[project_ref] = forecast

    def get_contract_terms(self, project_ref: str) -> ContractTerms | None:
        return self.terms.get(project_ref)

    def set_contract_terms(self, project_ref: str, customer_id: str, terms: ContractTerms) -> None:
        self.outage.check()
        self.terms[project_ref] = terms

    revenue_schedules: dict[str, tuple[str, RevenueSchedule]] = field(default_factory=dict)

    def set_revenue_schedule(self, project_ref: str, customer_id: str, schedule: RevenueSchedule) -> str:
        """The project's schedule, kept once: a second call returns the first one's id."""
        self.outage.check()
        if not self.capabilities.revenue_schedules:
            raise ConfigurationError("this ERP keeps no revenue schedules")
        if project_ref not in self.revenue_schedules:
            self.revenue_schedules[project_ref] = (f"rs-{next(_ids)}", schedule)
        return self.revenue_schedules[project_ref][0]


@dataclass
class FakeXref:
    links: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)

    def link(self, object_type: str, canonical_id: str, system: str, record_id: str, event_id: str) -> None:
        self.links.setdefault((object_type, canonical_id), {})[system] = record_id

    def link_many(self, object_type: str, links: Sequence[tuple[str, str, str, str]]) -> None:
        for link in links:
            self.link(object_type, *link)

    def linked_records(self, object_type: str, canonical_ids: Sequence[str], system: str) -> dict[str, str]:
        found = {ref: self.links.get((object_type, ref), {}).get(system) for ref in canonical_ids}
        return {ref: record_id for ref, record_id in found.items() if record_id is not None}

    def records_of(self, object_type: str, canonical_id: str) -> dict[str, str]:
        return dict(self.links.get((object_type, canonical_id), {}))

    def canonical_of(self, system: str, object_type: str, record_id: str) -> str | None:
        return next((c for (t, c), r in self.links.items() if t == object_type and r.get(system) == record_id), None)

    relations: dict[tuple[str, str, str], str] = field(default_factory=dict)
    changes: dict[tuple[str, str], list[LineageEntry]] = field(default_factory=dict)
    versions: dict[tuple[str, str], dt.datetime] = field(default_factory=dict)
    invoices: dict[str, dict[str, InvoiceState]] = field(default_factory=dict)
    invoice_lock: threading.Lock = field(default_factory=threading.Lock)
    applied: dict[tuple[str, str, str], str] = field(default_factory=dict)

    def canonical_ids(self, object_type: str) -> list[str]:
        return sorted(c for (t, c) in self.links if t == object_type)

    def relate(self, object_type: str, canonical_id: str, relation: str, related_id: str) -> None:
        self.relations[(object_type, canonical_id, relation)] = related_id

    def related(self, object_type: str, canonical_id: str, relation: str) -> str | None:
        return self.relations.get((object_type, canonical_id, relation))

    def record_change(self, object_type: str, canonical_id: str, entry: LineageEntry) -> None:
        self.changes.setdefault((object_type, canonical_id), []).append(entry)

    def record_changes(self, object_type: str, changes: Sequence[tuple[str, LineageEntry]]) -> None:
        for canonical_id, entry in changes:
            self.record_change(object_type, canonical_id, entry)

    def lineage(self, object_type: str, canonical_id: str) -> list[LineageEntry]:
        return list(self.changes.get((object_type, canonical_id), []))

    def applied_version(self, object_type: str, canonical_id: str) -> dt.datetime | None:
        return self.versions.get((object_type, canonical_id))

    def advance_version(self, object_type: str, canonical_id: str, occurred_at: dt.datetime, event_id: str) -> bool:
        applied = self.versions.get((object_type, canonical_id))
        if applied is not None and occurred_at < applied:
            return False
        self.versions[(object_type, canonical_id)] = occurred_at
        return True

    def applied_value(self, object_type: str, canonical_id: str, key: str) -> str | None:
        return self.applied.get((object_type, canonical_id, key))

    def set_applied_value(self, object_type: str, canonical_id: str, key: str, value: str) -> None:
        self.applied[(object_type, canonical_id, key)] = value

    def update_invoice_state(self, project_ref: str, invoice_id: str, change: InvoiceChange) -> InvoiceState | None:
        # The lock makes read, change and write one step, as the registry's conditional write does.
        with self.invoice_lock:
            states = self.invoices.setdefault(project_ref, {})
            known = states.get(invoice_id)
            changed = change(known)
            if changed is None or changed == known:
                return None
            states[invoice_id] = changed
            return changed

    def invoice_states(self, project_ref: str) -> list[InvoiceState]:
        return list(self.invoices.get(project_ref, {}).values())


@dataclass
class FakeBus:
    published: list[Envelope] = field(default_factory=list)

    def publish(self, events: Sequence[Envelope]) -> None:
        self.published.extend(events)


class Counting:
    """A fake system whose method calls are counted by name (`calls`): what tests of a flow's
    vendor calls assert on."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.inner, name)
        if not inspect.ismethod(value):
            return value

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return value(*args, **kwargs)

        return counted


def system_of_record() -> SystemOfRecord:
    """The table the project ships (config/system_of_record.json)."""
    return load_system_of_record(Path(__file__).resolve().parents[2] / "config" / "system_of_record.json")


def us_rules() -> LegalEntityRules:
    return LegalEntityRules(
        currencies=["USD"],
        tax_id_required=True,
        default_payment_term="Net 30 days",
        billing=BillingMapping(time_service_item="CONSULT-HR", expense_service_items={"travel": "EXP-REBILL"}),
    )


def fake_systems(**overrides: object) -> Systems:
    parts: dict[str, object] = {
        "crm": FakeCrm(),
        "psa": FakePsa(),
        "erp": FakeErp(),
        "xref": FakeXref(),
        "bus": FakeBus(),
        "rules": {"us-01": us_rules()},
        "ownership": system_of_record(),
    }
    return Systems(**{**parts, **overrides})  # type: ignore[arg-type]
