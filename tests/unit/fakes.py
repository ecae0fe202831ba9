"""In-memory systems implementing Concord's ports, shared by the unit tests of sync logic."""

from __future__ import annotations

import itertools
from decimal import Decimal
from collections.abc import Sequence
from dataclasses import dataclass, field

from concord.domain import (
    ChangeCursor,
    Customer,
    ErpCapabilities,
    ErpCustomer,
    FinancialStatus,
    InvoiceDraft,
    InvoiceRecord,
    Opportunity,
    ProjectPlan,
    ProjectRecord,
    ProjectState,
    RecordChange,
)
from concord.errors import PermanentError, TransientError
from concord.events import Envelope
from concord.events.payloads import PaymentReceived, TimeApproved
from concord.events.types import Money

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
class FakeCrm:
    customers: dict[str, Customer] = field(default_factory=dict)
    opportunities: dict[str, Opportunity] = field(default_factory=dict)
    statuses: dict[str, list[FinancialStatus]] = field(default_factory=dict)

    def changes_since(self, record_type: str, cursor: ChangeCursor, limit: int) -> Sequence[RecordChange]:
        return []

    def get_customer(self, account_id: str) -> Customer:
        if account_id not in self.customers:
            raise NotFound(f"no account {account_id}")
        return self.customers[account_id]

    def get_opportunity(self, opportunity_id: str) -> Opportunity:
        if opportunity_id not in self.opportunities:
            raise NotFound(f"no opportunity {opportunity_id}")
        return self.opportunities[opportunity_id]

    def set_financial_status(self, opportunity_id: str, status: FinancialStatus) -> None:
        self.statuses.setdefault(opportunity_id, []).append(status)


@dataclass
class FakePsa:
    projects: dict[str, ProjectRecord] = field(default_factory=dict)
    states: dict[str, tuple[ProjectState, str]] = field(default_factory=dict)
    outage: Outage = field(default_factory=Outage)

    def changes_since(self, record_type: str, cursor: ChangeCursor, limit: int) -> Sequence[RecordChange]:
        return []

    def find_project(self, external_ref: str) -> ProjectRecord | None:
        self.outage.check()
        return next((p for p in self.projects.values() if p.external_ref == external_ref), None)

    def create_project(self, plan: ProjectPlan) -> ProjectRecord:
        self.outage.check()
        project = ProjectRecord(
            project_id=str(next(_ids)),
            external_ref=plan.external_ref,
            task_ids={task.name: str(next(_ids)) for task in plan.tasks},
        )
        self.projects[project.project_id] = project
        self.states[project.project_id] = (ProjectState.ACTIVE, "created")
        return project

    def set_project_state(self, project_id: str, state: ProjectState, reason: str) -> None:
        self.outage.check()
        self.states[project_id] = (state, reason)

    def approved_time(self, project_id: str, cursor: ChangeCursor) -> Sequence[TimeApproved]:
        return []

    def set_billing_status(self, project_id: str, status: FinancialStatus) -> None:
        pass


@dataclass
class FakeErp:
    customers: dict[str, ErpCustomer] = field(default_factory=dict)
    active: dict[str, bool] = field(default_factory=dict)
    payment_terms: dict[str, str] = field(default_factory=dict)
    capabilities: ErpCapabilities = ErpCapabilities(revenue_schedules=False, billing_terms_per_customer=True)
    outage: Outage = field(default_factory=Outage)
    fail_payment_terms_with: Exception | None = None

    def changes_since(self, record_type: str, cursor: ChangeCursor, limit: int) -> Sequence[RecordChange]:
        return []

    def find_customer(self, *, external_ref: str | None, tax_id: str | None, name: str) -> ErpCustomer | None:
        self.outage.check()
        for customer in self.customers.values():
            if (external_ref and customer.external_ref == external_ref) or (tax_id and customer.tax_id == tax_id):
                return customer
        return next((c for c in self.customers.values() if c.name == name), None)

    def upsert_customer(self, customer: Customer, external_ref: str) -> ErpCustomer:
        self.outage.check()
        existing = self.find_customer(external_ref=external_ref, tax_id=customer.tax_id, name=customer.name)
        record = ErpCustomer(
            customer_id=existing.customer_id if existing else str(next(_ids)),
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

    def create_invoice(self, draft: InvoiceDraft) -> InvoiceRecord:
        total = sum((line.unit_price.amount * Decimal(str(line.quantity)) for line in draft.lines), Decimal(0))
        money = Money(amount=total, currency=draft.currency)
        invoice = InvoiceRecord(invoice_id=str(next(_ids)), number=None, posted=False, total=money, amount_due=money)
        self.invoices[invoice.invoice_id] = invoice
        return invoice

    def post_invoice(self, invoice_id: str) -> InvoiceRecord:
        posted = self.invoices[invoice_id].model_copy(update={"posted": True, "number": f"INV-{invoice_id}"})
        self.invoices[invoice_id] = posted
        return posted

    def get_invoice(self, invoice_id: str) -> InvoiceRecord:
        return self.invoices[invoice_id]

    def payments_since(self, cursor: ChangeCursor, limit: int) -> Sequence[PaymentReceived]:
        return []


@dataclass
class FakeXref:
    links: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)

    def link(self, object_type: str, canonical_id: str, system: str, record_id: str, event_id: str) -> None:
        self.links.setdefault((object_type, canonical_id), {})[system] = record_id

    def records_of(self, object_type: str, canonical_id: str) -> dict[str, str]:
        return dict(self.links.get((object_type, canonical_id), {}))

    def canonical_of(self, system: str, object_type: str, record_id: str) -> str | None:
        return next((c for (t, c), r in self.links.items() if t == object_type and r.get(system) == record_id), None)


@dataclass
class FakeBus:
    published: list[Envelope] = field(default_factory=list)

    def publish(self, events: Sequence[Envelope]) -> None:
        self.published.extend(events)
