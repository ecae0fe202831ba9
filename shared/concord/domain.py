"""Business records as sync logic sees them, independent of any vendor's API shape.

Connectors map each vendor's records to and from these; the canonical event payloads
(concord.events.payloads) are what travels between systems.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import Field

from .events.payloads import OpportunityLine
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
    unit_price: Money
    service_item: RecordId
    source_records: list[RecordId] = Field(default_factory=list)  # e.g. approved time entries


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


class RecordChange(CanonicalModel):
    record_type: str
    record_id: RecordId
    written_at: dt.datetime
    # When the record was created: with its id, what makes a once-per-record event's id
    # stable across push and polling (see concord.sync.change_capture).
    created_at: dt.datetime | None = None
