"""The `data` payload of each canonical event, one model per event type.

Ids inside a payload are the producing system's own ids; Concord's cross-reference
registry maps them to the other systems' ids.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import Field, StringConstraints, model_validator

from .types import (
    Address,
    CanonicalModel,
    CurrencyCode,
    ErrorClass,
    Money,
    Name,
    RecordId,
    RecordRef,
    Severity,
    ShortText,
    System,
)

Hours = Annotated[Decimal, Field(gt=0, le=24, max_digits=6, decimal_places=2)]
Quantity = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=4)]


class OpportunityLine(CanonicalModel):
    service_item: RecordId
    description: Name
    quantity: Quantity
    unit_price: Money


class OpportunityClosedWonV1(CanonicalModel):
    """OpportunityClosedWon version 1 (deprecated: concord.events.versions), upcast to version 2."""

    opportunity_id: RecordId
    account_id: RecordId
    name: Name
    amount: Money
    closed_on: dt.date
    lines: Annotated[list[OpportunityLine], Field(min_length=1, max_length=500)]
    payment_term: Name | None = None

    @model_validator(mode="after")
    def _lines_share_the_deal_currency(self) -> Self:
        currencies = {line.unit_price.currency for line in self.lines}
        if currencies - {self.amount.currency}:
            raise ValueError("every line must be priced in the opportunity's currency")
        return self


class ContractType(StrEnum):
    TIME_AND_MATERIALS = "time_and_materials"
    FIXED_FEE = "fixed_fee"
    MILESTONE = "milestone"


# What a deal is billed as when its CRM says nothing about it: by the hour, line by line, as
# quote-to-cash billed every deal before the contract type was announced.
DEFAULT_CONTRACT_TYPE = ContractType.TIME_AND_MATERIALS


class OpportunityClosedWon(OpportunityClosedWonV1):
    """Version 2: the deal's contract type (required: the producer states it, DEFAULT_CONTRACT_TYPE
    when its CRM has no such field) and who owns its billing (the opportunity's owner, as the
    CRM names the person; None when the CRM's connector cannot read it)."""

    contract_type: ContractType
    billing_owner: Name | None = None


class AccountChanged(CanonicalModel):
    account_id: RecordId
    name: Name
    billing_address: Address | None = None
    tax_id: Annotated[ShortText, Field(max_length=64)] | None = None
    currency: CurrencyCode | None = None
    parent_account_id: RecordId | None = None
    changed_fields: list[str] = Field(default_factory=list, max_length=100)


class ContactRole(StrEnum):
    """What a person at a customer is the contact for."""

    BILLING = "billing"  # invoices and payment questions go to them
    PROJECT = "project"  # the delivery team works with them


# A mailbox as people type it: something@domain.tld, no spaces (full RFC 5322 is not the point).
EmailAddress = Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
PhoneNumber = Annotated[str, StringConstraints(min_length=3, max_length=64, pattern=r"^\+?[0-9][0-9 ()./-]*$")]


class ContactChanged(CanonicalModel):
    """A person at a CRM account changed (or was added): its billing or project contact."""

    contact_id: RecordId
    account_id: RecordId
    role: ContactRole
    name: Name
    email: EmailAddress
    phone: PhoneNumber | None = None
    changed_fields: list[str] = Field(default_factory=list, max_length=100)


class WorkPackage(CanonicalModel):
    task_id: RecordId
    name: Name
    budget: Money | None = None


class ProjectActivated(CanonicalModel):
    project_id: RecordId
    opportunity_id: RecordId
    erp_customer_id: RecordId
    name: Name
    budget: Money
    tasks: list[WorkPackage] = Field(default_factory=list, max_length=500)


class Milestone(CanonicalModel):
    milestone_id: RecordId
    name: Name
    amount: Money
    due_on: dt.date


class ContractChanged(CanonicalModel):
    project_id: RecordId
    contract_type: ContractType
    billing_owner: Name
    milestones: list[Milestone] = Field(default_factory=list, max_length=500)


class Assignment(CanonicalModel):
    employee_id: RecordId
    role: Name
    planned_hours: Annotated[Decimal, Field(ge=0, max_digits=8, decimal_places=2)]
    cost_rate: Money


class StaffingChanged(CanonicalModel):
    project_id: RecordId
    assignments: list[Assignment] = Field(max_length=1000)


class TimeApproved(CanonicalModel):
    time_entry_id: RecordId
    project_id: RecordId
    task_id: RecordId
    employee_id: RecordId
    worked_on: dt.date
    hours: Hours
    billable: bool
    approved_at: dt.datetime
    # The PSA's own id of the cost centre the work is booked to (None: the PSA names none);
    # billing maps it through the legal entity's rules and parks an unknown one.
    cost_centre: RecordId | None = None


class ExpenseApproved(CanonicalModel):
    expense_id: RecordId
    project_id: RecordId
    employee_id: RecordId
    incurred_on: dt.date
    amount: Money
    category: Name
    billable: bool
    approved_at: dt.datetime
    cost_centre: RecordId | None = None  # as on TimeApproved


class ServiceItemChanged(CanonicalModel):
    """A service item (a product sold as a service) created or changed in its system of record."""

    item_id: RecordId  # the system of record's own id of it
    code: RecordId  # the service item: the product code every system shares
    name: Name
    unit: Literal["hour", "unit"]
    list_price: Money | None = None
    active: bool = True


class InvoicePosted(CanonicalModel):
    invoice_id: RecordId
    number: Name
    customer_id: RecordId
    project_id: RecordId | None = None
    invoiced_on: dt.date
    due_on: dt.date
    total: Money


class PaymentReceived(CanonicalModel):
    payment_id: RecordId
    invoice_id: RecordId
    amount: Money
    received_on: dt.date
    invoice_amount_due: Money


class SyncExceptionRaised(CanonicalModel):
    flow: Name
    step: Name
    severity: Severity
    error_class: ErrorClass
    reason: Annotated[str, Field(min_length=1, max_length=4000)]
    caused_by_event_id: RecordId | None = None
    records: list[RecordRef] = Field(default_factory=list, max_length=50)


class FieldValue(CanonicalModel):
    system: System
    value: str | None


class DriftDetected(CanonicalModel):
    object_type: Name
    canonical_id: RecordId
    field: Name
    authority: System
    values: Annotated[list[FieldValue], Field(min_length=2, max_length=3)]
    severity: Severity


class ChangeNotified(CanonicalModel):
    """A system said these records of one type changed, without their content (a webhook that
    carries ids only, a change data capture event): enrichment reads them and announces the
    business events polling would, with the same event ids. No ids: too many changed to name
    (a Business Central "collection" notification), so enrichment reads the record type's
    changes from change capture's checkpoint (a delta read)."""

    system: Literal["crm", "psa", "erp"]
    record_type: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{0,63}$")]
    record_ids: Annotated[list[RecordId], Field(max_length=200)]
    # The webhook source whose event ids the announced events take (polling's watch uses it too).
    vendor_source: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,31}$")]
