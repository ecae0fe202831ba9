"""Change capture by polling: what push (webhooks) missed is found and announced.

Each watch asks one system for records of one type changed after its checkpoint (the last
write time seen and the ids written at that instant, so records sharing a timestamp are
never skipped nor announced twice). An announcer turns a change into canonical events with
the SAME ids the system's push would give them, so a fact announced by both is one event
to every consumer. The checkpoint moves only after the events are on the bus: a crash
re-announces (harmless, same ids), never loses.

Each run re-reads an `overlap` before its checkpoint: a transaction that started before the
last change seen but committed after it (its timestamp is its start), or a source clock a
little behind, would otherwise slip behind the checkpoint forever. What the overlap
announces again has the same event ids, so consumers apply it once.

A watch without a checkpoint starts at "now": deploying Concord does not replay history
(set one explicitly to backfill).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel

from ..domain import ChangeCursor, RecordChange
from ..events import Envelope, event_id_for_delivery, new_event
from ..events.envelope import AccountChangedEvent, OpportunityClosedWonEvent
from ..ports import ChangeSource, CrmPort, EventPublisher

Announcer = Callable[[RecordChange], Sequence[Envelope]]


class CheckpointStore(Protocol):
    def load(self, key: str) -> ChangeCursor | None: ...

    def save(self, key: str, cursor: ChangeCursor) -> None: ...


@dataclass(frozen=True)
class Watch:
    key: str  # e.g. "crm:opportunity"
    record_type: str
    source: ChangeSource
    announce: Announcer


@dataclass(frozen=True)
class CaptureReport:
    key: str
    changes: int
    events: int
    cursor: ChangeCursor
    started: bool  # no checkpoint existed: this poll only set one


def next_cursor(changes: Sequence[RecordChange], cursor: ChangeCursor) -> ChangeCursor:
    """Where the next poll resumes after `changes`, a page (oldest first) returned from `cursor`."""
    if not changes:
        return cursor
    last = changes[-1].written_at
    ids = {c.record_id for c in changes if c.written_at == last}
    if last == cursor.written_at:
        ids |= set(cursor.ids_at_written_at)
    return ChangeCursor(written_at=last, ids_at_written_at=frozenset(ids))


def capture(
    watch: Watch,
    checkpoints: CheckpointStore,
    bus: EventPublisher,
    now: dt.datetime,
    page_size: int = 100,
    max_pages: int = 20,
    overlap: dt.timedelta = dt.timedelta(seconds=60),
) -> CaptureReport:
    saved = checkpoints.load(watch.key)
    if saved is None:
        saved = ChangeCursor(written_at=now)
        checkpoints.save(watch.key, saved)
        return CaptureReport(watch.key, 0, 0, saved, started=True)
    cursor = ChangeCursor(written_at=saved.written_at - overlap)
    seen = announced = 0
    for _ in range(max_pages):
        changes = watch.source.changes_since(watch.record_type, cursor, page_size)
        if not changes:
            break
        events = [event for change in changes for event in watch.announce(change)]
        if events:
            bus.publish(events)
        cursor = next_cursor(changes, cursor)
        if cursor.written_at >= saved.written_at:  # never move the checkpoint back
            checkpoints.save(watch.key, cursor)
        seen, announced = seen + len(changes), announced + len(events)
        if len(changes) < page_size:
            break
    return CaptureReport(watch.key, seen, announced, cursor, started=False)


def once_per_record_delivery_id(event_type: str, change: RecordChange) -> str:
    """The delivery id a system's push gives an event that happens once per record.

    Must equal what Concord's Tryton module (concord_sync/events.py, _once_delivery_id)
    sends: `<type>:<record id>:<creation time, naive UTC ISO-8601>`.
    """
    if change.created_at is None:
        raise ValueError(f"{change.record_type} {change.record_id}: the source gives no creation time")
    created = change.created_at.astimezone(dt.UTC).replace(tzinfo=None)
    return f"{event_type}:{change.record_id}:{created.isoformat()}"


def announce_won_opportunities(crm: CrmPort, source: str, legal_entity: str, now: Callable[[], dt.datetime]) -> Announcer:
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
        }
        delivery_id = once_per_record_delivery_id("OpportunityClosedWon", change)
        return [_event(OpportunityClosedWonEvent, data, change, source, delivery_id, legal_entity, now)]

    return announce


def announce_account_changes(crm: CrmPort, source: str, legal_entity: str, now: Callable[[], dt.datetime]) -> Announcer:
    """CRM customer changes → AccountChanged, one per (account, write time).

    Push gives each AccountChanged its own delivery id, so an account announced by both is
    two events: the customer flow reads the CRM and finds nothing left to write the second time.
    """

    def announce(change: RecordChange) -> list[Envelope]:
        customer = crm.get_customer(change.record_id)
        data = customer.model_dump(include={"account_id", "name", "billing_address", "tax_id", "currency"})
        delivery_id = f"AccountChanged:{change.record_id}:{change.written_at.astimezone(dt.UTC).isoformat()}"
        return [_event(AccountChangedEvent, data, change, source, delivery_id, legal_entity, now)]

    return announce


def announce_once_per_record(
    model: type[Envelope],
    read: Callable[[str], BaseModel | None],
    source: str,
    legal_entity: str,
    now: Callable[[], dt.datetime],
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
        return [_event(model, data, change, source, delivery_id, legal_entity, now)]

    return announce


def _event(
    model: type[Envelope],
    data: BaseModel | dict[str, Any],
    change: RecordChange,
    source: str,
    delivery_id: str,
    legal_entity: str,
    now: Callable[[], dt.datetime],
) -> Envelope:
    return new_event(
        model,
        data,
        legal_entity=legal_entity,
        occurred_at=change.written_at,
        event_id=event_id_for_delivery(source, delivery_id),
        ingested_at=now(),
    )
