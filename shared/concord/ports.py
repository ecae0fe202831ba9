"""Ports: what Concord's sync logic needs from a CRM, a PSA and an ERP, and from AWS.

Sync logic depends on these Protocols only; each vendor's connector implements them (and
unit tests use in-memory fakes). Errors: connectors raise concord.errors.TransientError for
what a retry may fix (timeouts, 429, 5xx) and PermanentError subclasses for the rest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from .domain import (
    ChangeCursor,
    ContractTerms,
    Customer,
    CustomerUpdate,
    ErpCapabilities,
    ErpCustomer,
    FinancialStatus,
    InvoiceDraft,
    InvoiceLine,
    InvoiceRecord,
    InvoiceState,
    LineageEntry,
    Opportunity,
    ProjectForecast,
    ProjectPlan,
    ProjectRecord,
    ProjectState,
    RecordChange,
)
from .events import Envelope
from .events.payloads import InvoicePosted, PaymentReceived, TimeApproved
from .events.types import Money


class ChangeSource(Protocol):
    """A system that can be polled for what changed (closing gaps that webhooks leave)."""

    def changes_since(self, record_type: str, cursor: ChangeCursor, limit: int) -> Sequence[RecordChange]: ...


class CrmPort(ChangeSource, Protocol):
    def get_customer(self, account_id: str) -> Customer: ...

    def get_opportunity(self, opportunity_id: str) -> Opportunity: ...

    def set_financial_status(self, opportunity_id: str, status: FinancialStatus) -> None: ...

    def financial_status(self, opportunity_id: str) -> FinancialStatus | None:
        """The deal's financial status as last set (None: never set)."""
        ...


class PsaPort(ChangeSource, Protocol):
    def find_project(self, external_ref: str) -> ProjectRecord | None: ...

    def create_project(self, plan: ProjectPlan) -> ProjectRecord: ...

    def set_project_state(self, project_id: str, state: ProjectState, reason: str) -> None: ...

    def approved_time(self, project_id: str, cursor: ChangeCursor) -> Sequence[TimeApproved]: ...

    def set_billing_status(self, project_id: str, status: FinancialStatus) -> None: ...

    def time_entry(self, time_entry_id: str) -> TimeApproved | None:
        """The entry as TimeApproved once approved (None before): what polling announces."""
        ...

    def billing_status(self, project_id: str) -> FinancialStatus | None:
        """The project's billing status as last set (None: never set)."""
        ...

    def project_budget(self, project_id: str) -> Money | None:
        """The project's budget (None when the PSA holds none)."""
        ...

    def update_client(self, customer_ref: str, name: str) -> bool:
        """Rename the PSA client Concord created for `customer_ref`; False when there is none."""
        ...


class ErpPort(ChangeSource, Protocol):
    @property
    def capabilities(self) -> ErpCapabilities: ...

    def find_customer(self, *, external_ref: str | None, tax_id: str | None, name: str) -> ErpCustomer | None:
        """By Concord's id, else tax id, else exact name; deactivated customers included."""
        ...

    def upsert_customer(self, customer: Customer, external_ref: str) -> ErpCustomer:
        """Create, or update and (re)activate, the customer found as find_customer finds it."""
        ...

    def deactivate_customer(self, customer_id: str, reason: str) -> None: ...

    def set_payment_term(self, customer_id: str, payment_term: str) -> None: ...

    def create_invoice(self, draft: InvoiceDraft) -> InvoiceRecord: ...

    def post_invoice(self, invoice_id: str) -> InvoiceRecord: ...

    def get_invoice(self, invoice_id: str) -> InvoiceRecord: ...

    def payments_since(self, cursor: ChangeCursor, limit: int) -> Sequence[PaymentReceived]: ...

    def invoice_posted(self, invoice_id: str) -> InvoicePosted | None:
        """The invoice as InvoicePosted once posted (None for a draft or cancelled one)."""
        ...

    def payment_received(self, payment_id: str) -> PaymentReceived | None:
        """The payment as PaymentReceived (None when it no longer pays a customer invoice)."""
        ...

    def get_customer(self, customer_id: str) -> ErpCustomer:
        """The customer with its billing address and tax id (NotFound if there is none)."""
        ...

    def update_customer(self, customer_id: str, changes: CustomerUpdate) -> None:
        """Write only the fields `changes` sets; the tax id replaces the customer's own."""
        ...

    @property
    def invoice_line_batch_limit(self) -> int:
        """How many lines add_invoice_lines takes in one call."""
        ...

    def open_invoice_draft(self, customer_id: str, currency: str, project_ref: str) -> str:
        """The id of the project's draft invoice (created, without lines, when none is open)."""
        ...

    def add_invoice_lines(self, invoice_id: str, lines: Sequence[InvoiceLine]) -> dict[str, str]:
        """Add the lines in one call, skipping those whose concord_ref the ERP already has on
        any invoice; returns concord_ref -> line id for every line. All or nothing: a failure
        adds none of them (the caller splits the batch to find the line at fault)."""
        ...

    def billed_refs(self, concord_refs: Sequence[str]) -> dict[str, float]:
        """Of these line ids (InvoiceLine.concord_ref), those on an ERP invoice, with their quantity."""
        ...

    def set_project_forecast(self, project_ref: str, customer_id: str, forecast: ProjectForecast) -> None:
        """Replace the project's cost forecast in the ERP."""
        ...

    def get_contract_terms(self, project_ref: str) -> ContractTerms | None: ...

    def set_contract_terms(self, project_ref: str, customer_id: str, terms: ContractTerms) -> None: ...


class EventPublisher(Protocol):
    def publish(self, events: Sequence[Envelope]) -> None: ...


class CrossReferences(Protocol):
    """The registry mapping Concord's canonical ids to each system's record ids, with the
    relations between entities, each entity's lineage and the sync state flows keep on it."""

    def link(self, object_type: str, canonical_id: str, system: str, record_id: str, event_id: str) -> None: ...

    def records_of(self, object_type: str, canonical_id: str) -> dict[str, str]: ...

    def canonical_of(self, system: str, object_type: str, record_id: str) -> str | None: ...

    def canonical_ids(self, object_type: str) -> list[str]: ...

    def relate(self, object_type: str, canonical_id: str, relation: str, related_id: str) -> None: ...

    def related(self, object_type: str, canonical_id: str, relation: str) -> str | None: ...

    def record_change(self, object_type: str, canonical_id: str, entry: LineageEntry) -> None: ...

    def lineage(self, object_type: str, canonical_id: str) -> list[LineageEntry]: ...

    def applied_version(self, object_type: str, canonical_id: str) -> dt.datetime | None: ...

    def advance_version(self, object_type: str, canonical_id: str, occurred_at: dt.datetime, event_id: str) -> bool: ...

    def save_invoice_state(self, project_ref: str, state: InvoiceState) -> None: ...

    def invoice_states(self, project_ref: str) -> list[InvoiceState]: ...
