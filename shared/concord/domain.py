"""Business records as sync logic sees them, independent of any vendor's API shape.

Connectors map each vendor's records to and from these; the canonical event payloads
(concord.events.payloads) are what travels between systems.
"""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import Field

from .events.payloads import ContactRole, ContractType, EmailAddress, Milestone, OpportunityLine, PhoneNumber
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
    # Who owns the deal's billing: the opportunity's owner as the CRM names the person (None:
    # the CRM's connector does not read it), and its contract type (None: the CRM has no such field).
    billing_owner: Name | None = None
    contract_type: ContractType | None = None


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


class ContactDetails(CanonicalModel):
    """What Concord keeps the same about a person at a customer in every system (the fields
    of the system-of-record table's `contact`)."""

    role: ContactRole
    name: Name
    email: EmailAddress
    phone: PhoneNumber | None = None


class Contact(ContactDetails):
    """A person at a customer as one system holds it: a CRM account's contact, or its copy on the
    ERP customer or the PSA client."""

    contact_id: RecordId
    # The system's own record the person belongs to: the account (CRM), customer (ERP), client (PSA).
    organization_id: RecordId


class ContactUpdate(CanonicalModel):
    """The contact fields to change in a target system; None leaves a field alone."""

    role: ContactRole | None = None
    name: Name | None = None
    email: EmailAddress | None = None
    phone: PhoneNumber | None = None


class TaskPlan(CanonicalModel):
    name: Name
    service_item: RecordId  # a product code, the same in every system (see mapping config)
    planned_hours: float | None = None


class ProjectPlan(CanonicalModel):
    """What the PSA must create for a won opportunity: a project and its work breakdown."""

    # Concord's canonical project id. A PSA that stores external ids upserts by it; one that
    # cannot finds what an earlier attempt created by its own natural key, so creating the same
    # plan twice (a retried saga step) makes one project.
    external_ref: str
    name: Name
    customer_ref: str  # Concord's canonical customer id
    customer_name: Name
    # The PSA client already linked to this customer in the registry (None: find or create it).
    client_id: RecordId | None = None
    # The CRM account and opportunity, for a PSA that shares the CRM's records (same org).
    account_id: RecordId | None = None
    opportunity_id: RecordId | None = None
    budget: Money
    tasks: list[TaskPlan] = Field(min_length=1)


class ProjectRecord(CanonicalModel):
    project_id: RecordId
    client_id: RecordId | None = None  # the PSA's own record of the customer, when it has one
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
    # The ERP's own ids, mapped from the legal entity's rules (sync.rules): its cost centre
    # (department, class, dimension value, analytic account) and its tax code. None: the ERP's
    # default; a connector whose ERP line has no place for one ignores it.
    cost_centre: str | None = None
    tax_code: str | None = None


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


class DraftInvoices(StrEnum):
    """Where a project's unposted invoice lives until finance posts it."""

    NATIVE = "native"  # the ERP has draft invoices (Tryton, Business Central, Xero, Workday)
    EMULATED = "emulated"  # the connector holds it elsewhere (an intermediate document, or Concord)


class LineRefs(StrEnum):
    """Where Concord's id of each billed line (InvoiceLine.concord_ref) is kept."""

    STORED = "stored"  # on the ERP's line (a custom column): the ERP itself refuses a second line
    REGISTRY = "registry"  # only in Concord's registry: the registry alone says what was billed


class BatchLimits(CanonicalModel):
    """How many records one vendor call takes, per operation (1: no batch operation)."""

    invoice_lines: int = Field(default=1, ge=1)
    status_writes: int = Field(default=1, ge=1)
    record_reads: int = Field(default=1, ge=1)


class ErpCapabilities(CanonicalModel):
    """What the ERP models and how; flows read these instead of assuming one vendor's shape.
    A saga step for a concept the ERP lacks is recorded as not applicable."""

    draft_invoices: DraftInvoices
    line_refs: LineRefs
    revenue_schedules: bool
    contract_objects: bool  # contract terms and cost forecasts of a project
    billing_terms_per_customer: bool
    batch_limits: BatchLimits = Field(default_factory=BatchLimits)
    # The ERP's service items can be polled and read (ports.ServiceItemSource).
    service_items: bool = False
    contacts: bool = False  # the customer's contacts (ports.ContactBook)


class PsaCapabilities(CanonicalModel):
    # The PSA keeps a catalogue of service items Concord writes (ports.ServiceItemCatalog).
    service_items: bool = False
    # The PSA's client IS the CRM's account (Certinia in the CRM's Salesforce org): Concord must
    # not write it from the PSA side, the CRM owns it.
    clients_are_crm_accounts: bool = False
    batch_limits: BatchLimits = Field(default_factory=BatchLimits)
    contacts: bool = False  # the client's contacts (ports.ContactBook)


class CrmCapabilities(CanonicalModel):
    # The CRM keeps a catalogue of service items (products) Concord writes (ports.ServiceItemCatalog).
    service_items: bool = False
    batch_limits: BatchLimits = Field(default_factory=BatchLimits)
    contacts: bool = False  # the accounts' contacts (ports.CrmContacts)


class RecordChange(CanonicalModel):
    record_type: str
    record_id: RecordId
    written_at: dt.datetime
    # When the record was created: with its id, what makes a once-per-record event's id
    # stable across push and polling (see concord.sync.change_capture).
    created_at: dt.datetime | None = None


class ChangePage(CanonicalModel):
    """A page of changes, oldest first, and the cursor to resume after them.

    The cursor is opaque to sync logic: each connector encodes its own position (a write time
    and ids, a replay id, a journal offset, a delta link)."""

    changes: list[RecordChange]
    cursor: str
    more: bool  # another page is ready now


# What connectors read from their systems, in domain terms (sync/ turns them into events, so a
# new version of an event changes its mapping there, not every connector).


class ApprovedTime(CanonicalModel):
    """Hours approved in the PSA for one person, task and day."""

    time_entry_id: RecordId
    project_id: RecordId
    task_id: RecordId
    employee_id: RecordId
    worked_on: dt.date
    hours: Decimal = Field(gt=0, le=24, max_digits=6, decimal_places=2)
    billable: bool
    approved_at: dt.datetime
    cost_centre: RecordId | None = None  # the PSA's own id of it, where its entries carry one


class ServiceItem(CanonicalModel):
    """A service the firm sells (a product): its code is the service item every system shares."""

    code: RecordId
    name: Name
    unit: Literal["hour", "unit"]
    list_price: Money | None = None  # in the system of record's currency; None: it has none
    active: bool = True


class PostedInvoice(CanonicalModel):
    """An invoice posted in the ERP (sent to the customer, on receivables)."""

    invoice_id: RecordId
    number: Name
    customer_id: RecordId
    invoiced_on: dt.date
    due_on: dt.date
    total: Money


class ReceivedPayment(CanonicalModel):
    """A customer payment recorded against one ERP invoice, with what is left due on it."""

    payment_id: RecordId
    invoice_id: RecordId
    amount: Money
    received_on: dt.date
    invoice_amount_due: Money


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


class RecognitionMethod(StrEnum):
    """When the revenue of a sold line is recognized."""

    RATABLY = "ratably"  # evenly over the contract term, month by month (fixed fees, subscriptions)
    ON_INVOICE = "on_invoice"  # as it is invoiced (time and materials): nothing is deferred
    ON_MILESTONE = "on_milestone"  # deferred until a person releases it when the milestone is met


class RevenueLine(CanonicalModel):
    """One line of the won deal, with the amount sold and how its revenue is recognized."""

    service_item: RecordId
    description: Name
    quantity: Decimal = Field(gt=0, max_digits=12, decimal_places=4)
    amount: Money
    method: RecognitionMethod


class RevenueSchedule(CanonicalModel):
    """How a won deal's revenue is recognized: its lines over one contract term."""

    starts_on: dt.date
    term_months: int = Field(ge=1, le=120)
    lines: list[RevenueLine] = Field(min_length=1, max_length=500)

    @property
    def ends_on(self) -> dt.date:
        """The last day of the term (a 12-month term from 16 Dec 2019 ends on 15 Dec 2020)."""
        months = self.starts_on.month - 1 + self.term_months
        year, month = self.starts_on.year + months // 12, months % 12 + 1
        day = min(self.starts_on.day, calendar.monthrange(year, month)[1])
        return dt.date(year, month, day) - dt.timedelta(days=1)

    def deferred_lines(self) -> list[RevenueLine]:
        """The lines whose revenue waits (the rest is recognized as it is invoiced)."""
        return [line for line in self.lines if line.method is not RecognitionMethod.ON_INVOICE]


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
