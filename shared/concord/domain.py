"""Business records as sync logic sees them, independent of any vendor's API shape.

Connectors map each vendor's records to and from these; the canonical event payloads
(concord.events.payloads) are what travels between systems.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from .events.payloads import ContractType, Milestone, OpportunityLine
from .events.types import Address, CanonicalModel, CurrencyCode, Money, Name, RecordId


class Customer(CanonicalModel):
    """A customer's master data as the CRM (its system of record) holds it."""

    account_id: RecordId
    name: Name
    billing_address: Address | None = None
    tax_id: str | None = None
    currency: CurrencyCode | None = None
    legal_entity: str


class Opportunity(CanonicalModel):
    opportunity_id: RecordId
    account_id: RecordId
    name: Name
    amount: Money
    closed_on: dt.date | None = None
    won: bool
    lines: list[OpportunityLine] = Field(default_factory=list)


class ErpCustomer(CanonicalModel):
    customer_id: RecordId
    name: Name
    tax_id: str | None = None
    external_ref: str | None = None  # Concord's canonical id, when Concord created or linked it
    billing_address: Address | None = None
    currency: CurrencyCode | None = None


class CustomerUpdate(CanonicalModel):
    """The customer master fields to change in a target system; None leaves a field alone."""

    name: Name | None = None
    billing_address: Address | None = None
    tax_id: str | None = None  # replaces the customer's tax identifier
    currency: CurrencyCode | None = None

    def is_empty(self) -> bool:
        return not self.model_dump(exclude_none=True)


class TaskPlan(CanonicalModel):
    name: Name
    service_item: RecordId  # a product code, the same in every system (see mapping config)
    planned_hours: float | None = None


class ProjectPlan(CanonicalModel):
    """What the PSA must create for a won opportunity: a project and its work breakdown."""

    external_ref: str  # Concord's canonical project id; the PSA finds an existing project by it
    name: Name
    customer_ref: str  # Concord's canonical customer id (the PSA client is found or created by it)
    customer_name: Name
    budget: Money
    tasks: list[TaskPlan] = Field(min_length=1)


class ProjectRecord(CanonicalModel):
    project_id: RecordId
    external_ref: str
    task_ids: dict[str, RecordId]  # task name -> PSA id


class ProjectState(StrEnum):
    ACTIVE = "active"
    ON_HOLD = "on_hold"  # set by compensation when a later saga step failed
    CLOSED = "closed"


class FinancialStatus(StrEnum):
    NOT_INVOICED = "not_invoiced"
    INVOICED = "invoiced"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    OVERDUE = "overdue"


class InvoiceLine(CanonicalModel):
    description: Name
    quantity: float = Field(gt=0)
    # None: the ERP prices the line at its list price for the service item (the ERP owns rates).
    unit_price: Money | None = None
    service_item: RecordId
    source_records: list[RecordId] = Field(default_factory=list)  # e.g. approved time entries
    # Concord's id for the line (e.g. "time:<PSA time entry id>"): an ERP that stores it finds
    # a line already created, so a retried batch adds no second line.
    concord_ref: str | None = None


class InvoiceDraft(CanonicalModel):
    customer_id: RecordId
    currency: CurrencyCode
    project_id: RecordId | None = None
    lines: list[InvoiceLine] = Field(min_length=1)


class InvoiceRecord(CanonicalModel):
    invoice_id: RecordId
    number: str | None
    posted: bool
    total: Money
    amount_due: Money
    due_on: dt.date | None = None


class ErpCapabilities(CanonicalModel):
    """What the ERP models; a saga step for a concept it lacks is recorded as not applicable."""

    revenue_schedules: bool
    billing_terms_per_customer: bool


class ChangeCursor(CanonicalModel):
    """Where polling a system for changes resumes: last write time seen and the ids at it."""

    written_at: dt.datetime
    ids_at_written_at: frozenset[RecordId] = frozenset()

    @classmethod
    def from_the_start(cls) -> ChangeCursor:
        """A cursor before every record: reads everything (reconciliation, consistency checks)."""
        return cls(written_at=dt.datetime(1970, 1, 1, tzinfo=dt.UTC))


class RecordChange(CanonicalModel):
    record_type: str
    record_id: RecordId
    written_at: dt.datetime
    # When the record was created: with its id, what makes a once-per-record event's id
    # stable across push and polling (see concord.sync.change_capture).
    created_at: dt.datetime | None = None


class ForecastLine(CanonicalModel):
    employee_id: RecordId
    role: Name
    planned_hours: Decimal = Field(ge=0, max_digits=10, decimal_places=2)
    cost_rate: Money


class ProjectForecast(CanonicalModel):
    """A project's staffing plan as the ERP needs it: planned hours and cost, by person."""

    lines: list[ForecastLine] = Field(max_length=1000)
    planned_hours: Decimal
    cost: Money


class ContractTerms(CanonicalModel):
    """How a project is contracted and billed, as the ERP keeps it."""

    contract_type: ContractType
    billing_owner: Name
    milestones: list[Milestone] = Field(default_factory=list, max_length=500)


class InvoiceState(CanonicalModel):
    """What Concord knows of one ERP invoice of a project, from InvoicePosted and PaymentReceived."""

    invoice_id: RecordId
    number: str | None = None
    total: Money
    amount_due: Money
    due_on: dt.date
    payments: frozenset[RecordId] = frozenset()

    def status(self, today: dt.date) -> FinancialStatus:
        if self.amount_due.amount <= 0:
            return FinancialStatus.PAID
        if today > self.due_on:
            return FinancialStatus.OVERDUE
        if self.amount_due.amount < self.total.amount:
            return FinancialStatus.PARTIALLY_PAID
        return FinancialStatus.INVOICED


class LineageEntry(CanonicalModel):
    """One thing that happened to a record of a canonical entity, and the event that caused it."""

    at: dt.datetime
    system: str
    record_id: RecordId
    event_id: RecordId
    event_type: str
    action: str  # e.g. "created", "updated", "status invoiced", "line added"
