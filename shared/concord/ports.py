"""Ports: what Concord's sync logic needs from a CRM, a PSA and an ERP, and from AWS.

Sync logic depends on these Protocols only; each vendor's connector implements them (unit
tests use in-memory fakes, and one contract suite checks every implementation alike).

Rules every connector follows:
- Ids in and out are the vendor's own record ids. Concord's canonical ids live in the
  cross-reference registry; sync logic resolves a vendor id there before it asks the vendor,
  so no vendor has to store Concord's ids (those that can, e.g. by external-id upsert, use
  them to make creates idempotent).
- Ports return domain records (concord.domain), never event payloads.
- What a vendor cannot do is declared in its capabilities, not papered over with a no-op.
- Errors: TransientError for what a retry may fix (timeouts, throttling, 5xx), PermanentError
  subclasses for the rest (concord.errors).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, cast, runtime_checkable

from .domain import (
    ApprovedTime,
    ChangePage,
    Contact,
    ContactDetails,
    ContactUpdate,
    ContractTerms,
    CrmCapabilities,
    Customer,
    CustomerUpdate,
    ErpCapabilities,
    ErpCustomer,
    FinancialStatus,
    InvoiceLine,
    InvoiceRecord,
    InvoiceState,
    LineageEntry,
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
    ServiceItem,
)
from .errors import ConcordError
from .events import Envelope
from .events.types import Money


class ChangeSource(Protocol):
    """A system that can be polled for what changed (closing the gaps push leaves).

    Cursors are opaque strings each connector encodes itself (a write time and the ids at it,
    a replay id, a journal offset): sync logic stores and hands them back, nothing more."""

    def start_cursor(self, record_type: str, now: dt.datetime) -> str:
        """A cursor at `now`: the first poll of a new watch does not replay history."""
        ...

    def resume_cursor(self, record_type: str, saved: str) -> str:
        """Where a poll run starts from its saved checkpoint (a source whose clock or commit
        order can put a change just behind the checkpoint rewinds a little; cursors it then
        returns never fall behind `saved`)."""
        ...

    def changes_since(self, record_type: str, cursor: str, limit: int) -> ChangePage: ...

    def changes_of(self, record_type: str, record_ids: Sequence[str]) -> list[RecordChange]:
        """The current change stamps (written_at, created_at) of the named records, as
        changes_since would report them, in as few calls as the system allows; records that
        do not exist, or are not of that type (e.g. a time entry not yet approved), are left
        out. What enrichment reads when a push names records without their content."""
        ...


@runtime_checkable
class ConnectedOnUse(Protocol):
    """A stand-in for a connector that connects when first used (concord.aws.systems.RoleConnector)."""

    def connected(self) -> object:
        """The connector it stands for now."""
        ...


def capability[P](port: object, optional: Callable[..., P]) -> P | None:
    """The connector behind `port` as the optional, runtime_checkable Protocol `optional`
    (ApprovedTimeInBatches, ServiceItemCatalog, ServiceItemSource, CrmContacts, ContactBook), or None where it does not
    implement it.

    Sync logic asks this instead of isinstance: a role's connector is a stand-in connected on
    first use, and a Protocol's isinstance only sees the stand-in's own class. (`optional` is
    typed as a callable because mypy accepts no Protocol as a `type[P]`: python/mypy#4717.)"""
    connector = port.connected() if isinstance(port, ConnectedOnUse) else port
    return cast(P, connector) if isinstance(connector, cast(type, optional)) else None


@runtime_checkable
class ApprovedTimeInBatches(Protocol):
    """A PSA that reads the approved time of many changed records in a few calls, whatever their
    number (change capture then announces a page of approvals without a read per record)."""

    def approved_entries_of(self, record_ids: Sequence[str]) -> dict[str, list[ApprovedTime]]:
        """approved_entries() of each record (by id); records holding none may be left out."""
        ...


@runtime_checkable
class ServiceItemCatalog(Protocol):
    """A CRM or PSA that keeps a catalogue of service items (products, roles or task types)
    Concord writes; one that declares capabilities.service_items implements this."""

    def upsert_service_item(self, item: ServiceItem) -> str:
        """Create the item, or update the one with its code (archived ones included); its id."""
        ...


@runtime_checkable
class ServiceItemSource(Protocol):
    """An ERP whose service items can be polled (changes_since "service_item") and read; one
    that declares capabilities.service_items implements this."""

    def service_item(self, record_id: str) -> ServiceItem | None:
        """The record as a service item (None: it is not one, e.g. a goods product)."""
        ...


class CrmPort(ChangeSource, Protocol):
    @property
    def capabilities(self) -> CrmCapabilities: ...

    def get_customer(self, account_id: str) -> Customer: ...

    def get_opportunity(self, opportunity_id: str) -> Opportunity: ...

    def set_financial_statuses(self, statuses: Mapping[str, FinancialStatus]) -> dict[str, ConcordError]:
        """Write each deal's financial status (opportunity id -> status) in as few calls as
        capabilities.batch_limits.status_writes allows; the failures by opportunity id
        (empty: all written)."""
        ...

    def financial_status(self, opportunity_id: str) -> FinancialStatus | None:
        """The deal's financial status as last set (None: never set)."""
        ...


class PsaPort(ChangeSource, Protocol):
    @property
    def capabilities(self) -> PsaCapabilities: ...

    def create_project(self, plan: ProjectPlan) -> ProjectRecord:
        """Create the project, its client (unless plan.client_id names one) and its tasks.
        Idempotent on plan.external_ref: a second call returns what the first created."""
        ...

    def set_project_state(self, project_id: str, state: ProjectState, reason: str) -> None: ...

    def approved_time(self, project_id: str) -> Sequence[ApprovedTime]:
        """All approved time of the project."""
        ...

    def approved_entries(self, record_id: str) -> Sequence[ApprovedTime]:
        """The approved time a changed record holds (empty before approval): one entry for a
        PSA that approves entries, one per day worked for one that approves timecards."""
        ...

    def set_billing_statuses(self, statuses: Mapping[str, FinancialStatus]) -> dict[str, ConcordError]:
        """Write each project's billing status (project id -> status), batched as the CRM's
        statuses are; the failures by project id (empty: all written)."""
        ...

    def billing_status(self, project_id: str) -> FinancialStatus | None:
        """The project's billing status as last set (None: never set)."""
        ...

    def project_budget(self, project_id: str) -> Money | None:
        """The project's budget (None when the PSA holds none)."""
        ...

    def rename_client(self, client_id: str, name: str) -> None:
        """Rename the PSA's client record (never called when clients are CRM accounts)."""
        ...


# --- contacts: a capability (capabilities.contacts), not part of every port ----------------------


@runtime_checkable
class CrmContacts(Protocol):
    """A CRM that keeps the people of its accounts (capabilities.contacts)."""

    def get_contact(self, contact_id: str) -> Contact:
        """The contact with its account (NotFound if there is none)."""
        ...


@runtime_checkable
class ContactBook(Protocol):
    """An ERP whose customers, or a PSA whose clients, keep their people (capabilities.contacts).
    organization_id is the customer's (ERP) or client's (PSA) id."""

    def create_contact(self, organization_id: str, details: ContactDetails) -> str:
        """Add the person to the customer or client; returns the contact's id."""
        ...

    def get_contact(self, contact_id: str) -> Contact:
        """The contact (NotFound if there is none)."""
        ...

    def update_contact(self, contact_id: str, changes: ContactUpdate) -> None:
        """Write only the fields `changes` sets."""
        ...


# --- the ERP, by role -------------------------------------------------------------------------


class ErpCustomers(Protocol):
    """Customer master data in the ERP."""

    def find_customer(self, *, tax_id: str | None, name: str) -> ErpCustomer | None:
        """By tax id, else exact name (natural keys); deactivated customers included. Sync logic
        asks the registry first: this finds a customer Concord has not linked yet."""
        ...

    def upsert_customer(self, customer: Customer, external_ref: str, customer_id: str | None) -> ErpCustomer:
        """Update and (re)activate `customer_id`, or create the customer when it is None.
        `external_ref` is Concord's id: an ERP with external ids upserts by it, so a create
        retried after a crash finds the first."""
        ...

    def deactivate_customer(self, customer_id: str, reason: str) -> None: ...

    def set_payment_term(self, customer_id: str, payment_term: str) -> None: ...

    def get_customer(self, customer_id: str) -> ErpCustomer:
        """The customer with its billing address and tax id (NotFound if there is none)."""
        ...

    def update_customer(self, customer_id: str, changes: CustomerUpdate) -> None:
        """Write only the fields `changes` sets; the tax id replaces the customer's own."""
        ...


class ErpBilling(Protocol):
    """Unposted invoices Concord fills with approved work; posting stays with finance.

    How the draft is held (capabilities.draft_invoices) is the connector's business: an ERP
    that posts on save holds it in an intermediate document. Where line references are
    registry-only (capabilities.line_refs), the registry alone says what was billed."""

    def open_invoice_draft(self, customer_id: str, currency: str, project_ref: str) -> str:
        """The id of the project's open draft (created, without lines, when none is open)."""
        ...

    def add_invoice_lines(self, invoice_id: str, lines: Sequence[InvoiceLine]) -> dict[str, str]:
        """Add up to capabilities.batch_limits.invoice_lines lines in one call; returns
        concord_ref -> line id for every line. All or nothing: a failure adds none of them
        (the caller splits the batch to find the line at fault). With stored line refs, a
        line whose concord_ref the ERP already has is not added again. DraftClosed when a
        draft the connector remembered was posted since (open_invoice_draft opens a new one)."""
        ...

    def billed_refs(self, concord_refs: Sequence[str]) -> dict[str, float]:
        """Of these line ids, those on an ERP invoice, with their quantity (stored line refs
        only: with registry-only refs the ERP cannot know)."""
        ...


class ErpReceivables(Protocol):
    """Posted invoices and the payments against them."""

    def get_invoice(self, invoice_id: str) -> InvoiceRecord: ...

    def posted_invoice(self, invoice_id: str) -> PostedInvoice | None:
        """The invoice once posted (None for a draft or cancelled one)."""
        ...

    def received_payment(self, payment_id: str) -> ReceivedPayment | None:
        """The payment (None when it no longer pays a customer invoice)."""
        ...


class ErpProjectAccounting(Protocol):
    """Project cost forecasts and contract terms (capabilities.contract_objects), and revenue
    schedules (capabilities.revenue_schedules)."""

    def set_project_forecast(self, project_ref: str, customer_id: str, forecast: ProjectForecast) -> None:
        """Replace the project's cost forecast in the ERP."""
        ...

    def get_contract_terms(self, project_ref: str) -> ContractTerms | None: ...

    def set_contract_terms(self, project_ref: str, customer_id: str, terms: ContractTerms) -> None: ...

    def set_revenue_schedule(self, project_ref: str, customer_id: str, schedule: RevenueSchedule) -> str:
        """Record how the project's deal recognizes revenue (capabilities.revenue_schedules);
        returns the ERP's id of what holds it. Idempotent: the same project gets the same id."""
        ...


class ErpPort(ChangeSource, ErpCustomers, ErpBilling, ErpReceivables, ErpProjectAccounting, Protocol):
    @property
    def capabilities(self) -> ErpCapabilities: ...


# --- AWS ------------------------------------------------------------------------------------


class EventPublisher(Protocol):
    def publish(self, events: Sequence[Envelope]) -> None: ...


# What a flow does to an invoice's state: the stored state (None before the first) in, the state
# to store out (None: leave it). It may be applied more than once (see update_invoice_state).
InvoiceChange = Callable[[InvoiceState | None], InvoiceState | None]


class CrossReferences(Protocol):
    """The registry mapping Concord's canonical ids to each system's record ids, with the
    relations between entities, each entity's lineage and the sync state flows keep on it."""

    def link(self, object_type: str, canonical_id: str, system: str, record_id: str, event_id: str) -> None: ...

    def link_many(self, object_type: str, links: Sequence[tuple[str, str, str, str]]) -> None:
        """link() each (canonical id, system, record id, event id), in as few calls as the store
        allows; a link is never stored without its reverse look-up."""
        ...

    def linked_records(self, object_type: str, canonical_ids: Sequence[str], system: str) -> dict[str, str]:
        """The record of each entity in `system`, by canonical id (only those linked there)."""
        ...

    def records_of(self, object_type: str, canonical_id: str) -> dict[str, str]: ...

    def canonical_of(self, system: str, object_type: str, record_id: str) -> str | None: ...

    def canonical_ids(self, object_type: str) -> list[str]: ...

    def relate(self, object_type: str, canonical_id: str, relation: str, related_id: str) -> None: ...

    def related(self, object_type: str, canonical_id: str, relation: str) -> str | None: ...

    def record_change(self, object_type: str, canonical_id: str, entry: LineageEntry) -> None: ...

    def record_changes(self, object_type: str, changes: Sequence[tuple[str, LineageEntry]]) -> None:
        """record_change of each (canonical id, entry), in as few calls as the store allows."""
        ...

    def lineage(self, object_type: str, canonical_id: str) -> list[LineageEntry]: ...

    def applied_version(self, object_type: str, canonical_id: str) -> dt.datetime | None: ...

    def advance_version(self, object_type: str, canonical_id: str, occurred_at: dt.datetime, event_id: str) -> bool: ...

    def applied_value(self, object_type: str, canonical_id: str, key: str) -> str | None:
        """What a flow last wrote to a system under `key` (a status, a snapshot of the values it
        synced): compared before a write, so a vendor is written only when something changed.
        None before the first write."""
        ...

    def set_applied_value(self, object_type: str, canonical_id: str, key: str, value: str) -> None:
        """Record `value` under `key`, after the system accepted the write."""
        ...

    def update_invoice_state(self, project_ref: str, invoice_id: str, change: InvoiceChange) -> InvoiceState | None:
        """Apply `change` to the invoice's state and store the result, atomically: when another
        writer stored a newer state meanwhile, `change` is re-applied to that one (so it must be a
        pure function of the state it gets). Returns the state stored, None if nothing changed."""
        ...

    def invoice_states(self, project_ref: str) -> list[InvoiceState]: ...
