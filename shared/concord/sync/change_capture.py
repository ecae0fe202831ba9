"""Change capture by polling: what push (webhooks) missed is found and announced.

Each watch asks one system for records of one type changed after its checkpoint, an opaque
cursor the system's connector encodes (a write time and the ids at it, a replay id, a journal
offset). An announcer turns a change into canonical events with the SAME ids the system's
push would give them, so a fact announced by both is one event to every consumer. The
checkpoint moves only after the events are on the bus: a crash re-announces (harmless, same
ids), never loses.

A run starts where the connector says to resume from its checkpoint: a source whose commit
order or clock can put a change just behind the checkpoint rewinds a little (what it
announces again has the same event ids, so consumers apply it once).

A watch without a checkpoint starts at "now": deploying Concord does not replay history
(set one explicitly to backfill).

A scheduled run (capture_watches) polls every configured watch: one failing (its system down)
does not stop the others, and the run reports it so the caller can fail the invocation. A watch
the configured system cannot serve (it declares no such records, e.g. an ERP without service
items) is skipped and reported as such: it is the system's shape, not a failure to retry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from pydantic import BaseModel

from .. import catalog
from ..clock import Clock, utc_now
from ..domain import RecordChange
from ..errors import ConfigurationError, PermanentError, TransientError, ValidationFailed
from ..events import Envelope, event_id_for_delivery, new_event
from ..events.envelope import (
    AccountChangedEvent,
    InvoicePostedEvent,
    OpportunityClosedWonEvent,
    PaymentReceivedEvent,
    ServiceItemChangedEvent,
    SyncExceptionRaisedEvent,
    TimeApprovedEvent,
)
from ..events.payloads import DEFAULT_CONTRACT_TYPE
from ..events.types import RecordRef, Severity, System
from ..ports import (
    ApprovedTimeInBatches,
    ChangeSource,
    CrmPort,
    ErpPort,
    EventPublisher,
    PsaPort,
    ServiceItemSource,
    capability,
)
from .ids import derived_event_id

Announcer = Callable[[RecordChange], Sequence[Envelope]]
# Reads what announcing a page of changes needs at once (a batch, not a read per change) and
# gives the announcer of that page's changes.
PageAnnouncer = Callable[[Sequence[RecordChange]], Announcer]


class CheckpointStore(Protocol):
    def load(self, key: str) -> str | None: ...

    def save(self, key: str, cursor: str) -> None: ...


@dataclass(frozen=True)
class Watch:
    key: str  # e.g. "crm:opportunity"
    record_type: str
    source: ChangeSource
    announce: Announcer
    legal_entity: str  # of the events it announces (the stage's default where a system names none)
    read_page: PageAnnouncer | None = None  # where the system can read a page's records at once

    def announcer_for(self, changes: Sequence[RecordChange]) -> Announcer:
        """The announcer of these changes: their reads done together where the system allows. A
        page whose read together is refused (a record no event can be made of fails the read)
        is announced record by record, so that only the record at fault is reported."""
        if self.read_page is None:
            return self.announce
        try:
            return self.read_page(changes)
        except PermanentError:
            return self.announce


@dataclass(frozen=True)
class CaptureReport:
    key: str
    changes: int
    events: int
    cursor: str
    started: bool  # no checkpoint existed: this poll only set one
    refused: int = 0  # changes no event could be made of: each reported as a SyncExceptionRaised


class WatchConfig(BaseModel):
    """One configured watch, e.g. {"system": "psa", "record_type": "time_entry", "source": "psa"}:
    `source` is the webhook source whose push the poll backs up (event ids are derived from it)."""

    system: Literal["crm", "psa", "erp"]
    record_type: Literal["opportunity", "customer", "time_entry", "invoice", "payment", "service_item"]
    source: str

    @property
    def key(self) -> str:
        return f"{self.system}:{self.record_type}"


@dataclass(frozen=True)
class WatchFailure:
    key: str
    error: Exception


class WatchNotServed(ValidationFailed):
    """The configured system does not offer the watched records (its capabilities say so)."""


@dataclass(frozen=True)
class CaptureRun:
    """What one scheduled run came to: a report per watch polled, a failure per watch that
    failed, and the watches the configured systems cannot serve (not polled, not failed)."""

    reports: list[CaptureReport]
    failures: list[WatchFailure]
    not_served: list[WatchFailure] = field(default_factory=list)

    def raise_for_failures(self) -> None:
        """The run fails when a watch did, so the schedule's retry and alarm see it."""
        if self.failures:
            reasons = [f"{f.key}: {type(f.error).__name__}: {f.error}" for f in self.failures]
            raise TransientError("change capture failed for " + "; ".join(reasons))


def capture_watches(
    configs: Sequence[WatchConfig],
    connectors: tuple[CrmPort, PsaPort, ErpPort],
    checkpoints: CheckpointStore,
    bus: EventPublisher,
    legal_entity: str,
    clock: Clock = utc_now,
) -> CaptureRun:
    """capture() for each configured watch; one failing does not stop the others."""
    run = CaptureRun([], [])
    for config in configs:
        try:
            watch = watch_for(config.system, config.record_type, config.source, connectors, legal_entity, clock)
            run.reports.append(capture(watch, checkpoints, bus, clock()))
        except WatchNotServed as error:
            run.not_served.append(WatchFailure(config.key, error))
        except Exception as error:  # noqa: BLE001 - one system down must not blind the other watches
            run.failures.append(WatchFailure(config.key, error))
    return run


def watch_for(
    system: str,
    record_type: str,
    source: str,
    connectors: tuple[CrmPort, PsaPort, ErpPort],
    legal_entity: str,
    clock: Clock = utc_now,
) -> Watch:
    """Which system's records of which type are announced how: polling and enrichment (a push
    that names records without their content) share this table, so both give a change the
    same event ids. `source` is the webhook source whose push ids the events take."""
    crm, psa, erp = connectors
    key = f"{system}:{record_type}"
    match key:
        case "crm:opportunity":
            announce = announce_won_opportunities(crm, source, legal_entity, clock)
            return Watch(key, record_type, crm, announce, legal_entity)
        case "crm:customer":
            announce = announce_account_changes(crm, source, legal_entity, clock)
            return Watch(key, record_type, crm, announce, legal_entity)
        case "psa:time_entry":
            announce = announce_approved_time(psa, source, legal_entity, clock)
            pages = approved_time_pages(psa, source, legal_entity, clock)
            return Watch(key, record_type, psa, announce, legal_entity, pages)
        case "erp:invoice":
            announce = announce_once_per_record(InvoicePostedEvent, erp.posted_invoice, source, legal_entity, clock)
            return Watch(key, record_type, erp, announce, legal_entity)
        case "erp:payment":
            announce = announce_once_per_record(PaymentReceivedEvent, erp.received_payment, source, legal_entity, clock)
            return Watch(key, record_type, erp, announce, legal_entity)
        case "erp:service_item":
            if not erp.capabilities.service_items:
                raise WatchNotServed(f"no change capture for {key}: the ERP declares no service items")
            items = capability(erp, ServiceItemSource)
            if items is None:
                raise ConfigurationError("the ERP declares service items but cannot read them")
            announce = announce_service_item_changes(items, source, legal_entity, clock)
            return Watch(key, record_type, erp, announce, legal_entity)
    raise ValidationFailed(f"no change capture for {key}")


def capture(
    watch: Watch,
    checkpoints: CheckpointStore,
    bus: EventPublisher,
    now: dt.datetime,
    page_size: int = 100,
    max_pages: int = 20,
) -> CaptureReport:
    saved = checkpoints.load(watch.key)
    if saved is None:
        cursor = watch.source.start_cursor(watch.record_type, now)
        checkpoints.save(watch.key, cursor)
        return CaptureReport(watch.key, 0, 0, cursor, started=True)
    cursor = watch.source.resume_cursor(watch.record_type, saved)
    seen = announced = refused = 0
    for _ in range(max_pages):
        page = watch.source.changes_since(watch.record_type, cursor, page_size)
        events: list[Envelope] = []
        announce = watch.announcer_for(page.changes) if page.changes else watch.announce
        for change in page.changes:
            try:
                events += announce(change)
            except PermanentError as error:
                # A record no event can be made of (a deal without an account, say) is reported
                # for a person and passed: it must not hold back every later change of the watch.
                events.append(unannounceable(watch, change, error, now))
                refused += 1
        if events:
            bus.publish(events)
        if page.cursor != cursor:
            checkpoints.save(watch.key, page.cursor)
        cursor = page.cursor
        seen, announced = seen + len(page.changes), announced + len(events)
        if not page.more:
            break
    return CaptureReport(watch.key, seen, announced - refused, cursor, started=False, refused=refused)


def unannounceable(watch: Watch, change: RecordChange, error: PermanentError, now: dt.datetime) -> Envelope:
    """The sync exception for a change no event could be made of: one per record and write, so
    re-reading an overlap reports it once."""
    system = watch.key.split(":", 1)[0]
    return new_event(
        SyncExceptionRaisedEvent,
        {
            "flow": catalog.CHANGE_CAPTURE.name,
            "step": watch.key,
            "severity": Severity.WARNING,
            "error_class": error.error_class,
            "reason": f"{change.record_type} {change.record_id} changed but cannot be announced: {error}"[:4000],
            "records": [
                RecordRef(
                    system=System(system), record_type=change.record_type, record_id=change.record_id
                ).model_dump()
            ],
        },
        legal_entity=watch.legal_entity,
        occurred_at=now,
        event_id=derived_event_id("unannounceable", watch.key, change.record_id, change.written_at.isoformat()),
    )


def once_per_record_delivery_id(event_type: str, change: RecordChange, record_id: str | None = None) -> str:
    """The delivery id a system's push gives an event that happens once per record:
    `<type>:<record id>:<creation time of the changed record, naive UTC ISO-8601>`, where the
    record is the changed one unless it holds several (a timecard's days: `record_id`).

    Push must send the same (Concord's Tryton module, for example, does in concord_sync/events.py).
    """
    if change.created_at is None:
        raise ValueError(f"{change.record_type} {change.record_id}: the source gives no creation time")
    created = change.created_at.astimezone(dt.UTC).replace(tzinfo=None)
    return f"{event_type}:{record_id or change.record_id}:{created.isoformat()}"


def announce_won_opportunities(crm: CrmPort, source: str, legal_entity: str, clock: Clock = utc_now) -> Announcer:
    """CRM opportunity changes → OpportunityClosedWon for those that are won."""

    def announce(change: RecordChange) -> list[Envelope]:
        opportunity = crm.get_opportunity(change.record_id)
        if not opportunity.won or not opportunity.lines:
            return []
        data = {
            "opportunity_id": opportunity.opportunity_id,
            "account_id": opportunity.account_id,
            "name": opportunity.name,
            "amount": opportunity.amount,
            "closed_on": opportunity.closed_on or change.written_at.date(),
            "lines": opportunity.lines,
            # A CRM without a contract type field: the default, as push states it.
            "contract_type": opportunity.contract_type or DEFAULT_CONTRACT_TYPE,
            "billing_owner": opportunity.billing_owner,
        }
        delivery_id = once_per_record_delivery_id("OpportunityClosedWon", change)
        return [_event(OpportunityClosedWonEvent, data, change, source, delivery_id, legal_entity, clock)]

    return announce


def announce_account_changes(crm: CrmPort, source: str, legal_entity: str, clock: Clock = utc_now) -> Announcer:
    """CRM customer changes → AccountChanged, one per (account, write time).

    Push gives each AccountChanged its own delivery id, so an account announced by both is
    two events: the customer flow reads the CRM and finds nothing left to write the second time.
    """

    def announce(change: RecordChange) -> list[Envelope]:
        customer = crm.get_customer(change.record_id)
        data = customer.model_dump(include={"account_id", "name", "billing_address", "tax_id", "currency"})
        delivery_id = f"AccountChanged:{change.record_id}:{change.written_at.astimezone(dt.UTC).isoformat()}"
        return [_event(AccountChangedEvent, data, change, source, delivery_id, legal_entity, clock)]

    return announce


def announce_service_item_changes(
    erp: ServiceItemSource, source: str, legal_entity: str, clock: Clock = utc_now
) -> Announcer:
    """ERP product changes → ServiceItemChanged, one per (product, write time), for those that
    are service items (a goods product is none)."""

    def announce(change: RecordChange) -> list[Envelope]:
        item = erp.service_item(change.record_id)
        if item is None:
            return []
        data = {"item_id": change.record_id, **item.model_dump()}
        delivery_id = f"ServiceItemChanged:{change.record_id}:{change.written_at.astimezone(dt.UTC).isoformat()}"
        return [_event(ServiceItemChangedEvent, data, change, source, delivery_id, legal_entity, clock)]

    return announce


def announce_approved_time(psa: PsaPort, source: str, legal_entity: str, clock: Clock = utc_now) -> Announcer:
    """PSA changes of approvable records → one TimeApproved per approved entry they hold."""

    def announce(change: RecordChange) -> list[Envelope]:
        return [
            _event(
                TimeApprovedEvent,
                entry,
                change,
                source,
                once_per_record_delivery_id("TimeApproved", change, entry.time_entry_id),
                legal_entity,
                clock,
            )
            for entry in psa.approved_entries(change.record_id)
        ]

    return announce


def approved_time_pages(psa: PsaPort, source: str, legal_entity: str, clock: Clock = utc_now) -> PageAnnouncer | None:
    """announce_approved_time over a page of changes read in one batch, for a PSA that can."""
    batch = capability(psa, ApprovedTimeInBatches)
    if batch is None:
        return None

    def read_page(changes: Sequence[RecordChange]) -> Announcer:
        entries = batch.approved_entries_of([change.record_id for change in changes])

        def announce(change: RecordChange) -> list[Envelope]:
            return [
                _event(
                    TimeApprovedEvent,
                    entry,
                    change,
                    source,
                    once_per_record_delivery_id("TimeApproved", change, entry.time_entry_id),
                    legal_entity,
                    clock,
                )
                for entry in entries.get(change.record_id, [])
            ]

        return announce

    return read_page


def announce_once_per_record(
    model: type[Envelope],
    read: Callable[[str], BaseModel | None],
    source: str,
    legal_entity: str,
    clock: Clock = utc_now,
) -> Announcer:
    """Changes of records whose event happens once per record (an approval, a posting, a
    payment) → that event, with the id the system's push gives it; nothing while `read`
    finds the record not (yet) in that state."""
    event_type = model.model_fields["type"].default

    def announce(change: RecordChange) -> list[Envelope]:
        data = read(change.record_id)
        if data is None:
            return []
        delivery_id = once_per_record_delivery_id(event_type, change)
        return [_event(model, data, change, source, delivery_id, legal_entity, clock)]

    return announce


def _event(
    model: type[Envelope],
    data: BaseModel | dict[str, Any],
    change: RecordChange,
    source: str,
    delivery_id: str,
    legal_entity: str,
    clock: Clock,
) -> Envelope:
    return new_event(
        model,
        data.model_dump() if isinstance(data, BaseModel) else data,
        legal_entity=legal_entity,
        occurred_at=change.written_at,
        event_id=event_id_for_delivery(source, delivery_id),
        ingested_at=clock(),
    )
