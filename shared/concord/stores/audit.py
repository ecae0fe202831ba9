"""The sync audit trail (DynamoDB): the events Concord received, why deliveries failed, and what
operators did about it. The store every flow, consumer and operator command reads it through.

Items (string keys `pk` / `sk`; key builders and item models in concord.stores.audit_items):
  EVENT#<event id>       / EVENT                   RecordedEvent: the canonical event, with timings
  ENTITY#<type>#<ref>    / EVENT#<occurred>#<id>   entity index: one per entity an event names
                                                   (ref `<system>:<record id>` or a canonical id,
                                                   concord.stores.entities), written with the event
  CAUSE#<trigger id>     / EVENT#<occurred>#<id>   a sync exception, filed under the event whose
                                                   flow raised it (its caused_by_event_id)
  MESSAGE#<message id>   / FAILURE#<consumer>#<n>  FailedAttempt: the n-th failed attempt of a
                                                   queue message (expires after 30 days)
  DELIVERY#<source>#<id> / UNPROCESSED             UnprocessedDelivery: an authentic webhook
                                                   delivery that produced no canonical event
  REDRIVE#<run id>       / MESSAGE#<id> | MOVE_TASK | EXECUTION#<name>   RedriveRecord
  REPLAY#<run id>        / RUN                     ReplayRecord

Index `by_kind` (GSI, sparse: only items with a `kind`; all attributes projected):
  kind = EVENT#<event type> | FAILURE | UNPROCESSED | REDRIVE | REPLAY, at = sortable ISO time
  (an event's: when it was published on the bus; a failure's: when it failed; a delivery's: when
  received; a redrive's or replay's: when started). Listing sync exceptions, the events of a
  type or a window, failures, redrives and replays are Queries on it; tracing an entity is a
  Query per record id on its ENTITY# partition; nothing here scans the table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from ..clock import utc_now
from ..events import EVENT_MODEL_BY_TYPE, Envelope
from .audit_items import (
    FAILURE_KIND,
    REDRIVE_KIND,
    REPLAY_KIND,
    UNPROCESSED_KIND,
    CauseKey,
    DeliveryKey,
    DeliveryTimings,
    EventKey,
    FailedAttempt,
    FailureKey,
    MentionKey,
    RecordedEvent,
    RedriveKey,
    RedriveRecord,
    ReplayKey,
    ReplayRecord,
    UnprocessedDelivery,
    UnprocessedEntry,
    compressed_rendering,
    event_kind,
)
from .dynamo import Table, sortable
from .entities import EntityRef, entity_refs

BY_KIND_INDEX = "by_kind"
FAILURE_RETENTION_DAYS = 30
# Items of one unprocessed delivery kept in its record (the count of all is kept too).
MAX_UNPROCESSED_ITEMS = 200
MAX_REASON_LENGTH = 4000
SYNC_EXCEPTION = "SyncExceptionRaised"


def _ms_to_datetime(epoch_ms: int | None) -> dt.datetime | None:
    return None if epoch_ms is None else dt.datetime.fromtimestamp(epoch_ms / 1000, tz=dt.UTC)


def _stored(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


class AuditTrail:
    def __init__(self, client: Any, table_name: str) -> None:
        self._table = Table(client, table_name)

    @property
    def table_name(self) -> str:
        return self._table.name

    # -- events ---------------------------------------------------------------------------

    def record_event(self, event: Envelope, timings: DeliveryTimings, rendered_requests: str | None = None) -> bool:
        """Store the event once, with its entity-index items; False when it was already recorded.
        `rendered_requests`: what the mappings render for it (concord.mappings.render.rendering)."""
        recorded = RecordedEvent(
            event_id=event.id,
            event_type=event.type,
            source_system=event.source_system.value,
            legal_entity=event.legal_entity,
            correlation_id=event.correlation_id,
            causation_id=event.causation_id,
            occurred_at=event.occurred_at,
            ingested_at=event.ingested_at,
            enqueued_at=_ms_to_datetime(timings.enqueued_at_ms),
            first_received_at=_ms_to_datetime(timings.first_received_at_ms),
            recorded_at=utc_now(),
            detail=event.model_dump(mode="json"),
            rendered_requests=rendered_requests,
        )
        item = {
            **recorded.model_dump(mode="json", exclude_none=True, exclude={"rendered_requests"}),
            "detail": event.model_dump_json(),
            "rendered_requests": compressed_rendering(rendered_requests),
            **EventKey.of(event.id).key(),
            "kind": event_kind(event.type),
            "at": sortable(recorded.published_at or recorded.recorded_at or utc_now()),
        }
        # Not one transaction: a transactional write costs twice the write units of a plain one.
        # The index items go first and are written again as they were by a redelivery, so an
        # event is never recorded without them; the event's own put decides "once".
        self._table.batch_put(self._index_items(recorded))
        return self._table.put(item, if_absent=True)

    @staticmethod
    def _index_items(event: RecordedEvent) -> list[dict[str, Any]]:
        occurred = sortable(event.occurred_at or event.recorded_at or utc_now())
        summary = {"event_id": event.event_id, "event_type": event.event_type}
        items = [
            {"pk": key.pk, "sk": key.sk, **summary}
            for key in (
                MentionKey(entity, occurred, event.event_id) for entity in entity_refs(event.event_type, event.data)
            )
        ]
        caused_by = event.data.get("caused_by_event_id") if event.event_type == SYNC_EXCEPTION else None
        if caused_by:
            cause = CauseKey(str(caused_by), occurred, event.event_id)
            items.append({"pk": cause.pk, "sk": cause.sk, **summary})
        return items

    def event(self, event_id: str) -> RecordedEvent | None:
        item = self._table.get(EventKey.of(event_id).pk, EventKey.SK)
        return RecordedEvent.model_validate(item) if item else None

    def events(self, event_ids: Iterable[str]) -> list[RecordedEvent]:
        """The recorded events among these ids (unknown ids left out), oldest first."""
        keys = [EventKey.of(i).key() for i in sorted(set(event_ids))]
        return _oldest_first(RecordedEvent.model_validate(i) for i in self._table.batch_get(keys))

    def events_of_type(
        self, event_type: str, *, published_from: dt.datetime | None = None, published_to: dt.datetime | None = None
    ) -> list[RecordedEvent]:
        """Events of one type, optionally published within [from, to], in publication order."""
        items = self._by_kind(event_kind(event_type), published_from, published_to)
        return [RecordedEvent.model_validate(i) for i in items]

    def events_published(
        self, start: dt.datetime, end: dt.datetime, types: Sequence[str] | None = None
    ) -> list[RecordedEvent]:
        """Events published within [start, end] (of `types`, else of every known type): one Query
        per type, in publication order."""
        found = [
            e
            for t in (types or sorted(EVENT_MODEL_BY_TYPE))
            for e in self.events_of_type(t, published_from=start, published_to=end)
        ]
        return sorted(found, key=lambda e: (e.published_at or dt.datetime.min.replace(tzinfo=dt.UTC), e.event_id))

    def sync_exceptions(self) -> list[RecordedEvent]:
        """Every recorded SyncExceptionRaised event, oldest first."""
        return _oldest_first(self.events_of_type(SYNC_EXCEPTION))

    def events_mentioning(self, entities: Iterable[EntityRef]) -> list[RecordedEvent]:
        """Events whose payload names any of these entities (concord.stores.entities), oldest first."""
        ids = {
            MentionKey.parse(i["pk"], i["sk"]).event_id
            for entity in set(entities)
            for i in self._table.query_prefix(MentionKey.partition(entity), "EVENT#")
        }
        return self.events(ids)

    def exceptions_caused_by(self, event_ids: Iterable[str]) -> list[RecordedEvent]:
        """Sync exceptions raised by the flows these events triggered, oldest first."""
        ids = {
            i["event_id"]
            for cause in set(event_ids)
            for i in self._table.query_prefix(CauseKey.partition(cause), "EVENT#")
        }
        return self.events(ids)

    # -- failed attempts ------------------------------------------------------------------

    def record_failure(self, attempt: FailedAttempt) -> None:
        key = FailureKey(attempt.message_id, attempt.consumer, attempt.receive_count)
        stored = attempt.model_copy(update={"reason": attempt.reason[:MAX_REASON_LENGTH]})
        self._table.put(
            {
                **stored.model_dump(mode="json", exclude_none=True),
                "pk": key.pk,
                "sk": key.sk,
                "kind": FAILURE_KIND,
                "at": sortable(attempt.failed_at),
                "expires_at": int(utc_now().timestamp()) + FAILURE_RETENTION_DAYS * 86400,
            }
        )

    def failures_of(self, message_id: str) -> list[FailedAttempt]:
        """The failed attempts the consumers recorded for one queue message, first first."""
        items = self._table.query_prefix(FailureKey.partition(message_id), FailureKey.SK_PREFIX)
        attempts = [FailedAttempt.model_validate({"message_id": message_id, **i}) for i in items]
        return sorted(attempts, key=lambda a: (a.failed_at, a.consumer, a.receive_count))

    def failures_since(self, since: dt.datetime) -> list[FailedAttempt]:
        """Every failed attempt recorded since `since` (any message), oldest first."""
        return [FailedAttempt.model_validate(i) for i in self._by_kind(FAILURE_KIND, since, None)]

    # -- unprocessed webhook deliveries ---------------------------------------------------

    def record_unprocessed_delivery(
        self,
        source: str,
        delivery_id: str,
        items: Sequence[UnprocessedEntry],
        *,
        body_sha256: str,
        scheme: str,
        received_at: dt.datetime,
    ) -> None:
        """Record why a delivery's items produced no event. Idempotent: the same delivery writes
        the same item, so a retried write changes nothing."""
        kept = list(items[:MAX_UNPROCESSED_ITEMS])
        delivery = UnprocessedDelivery(
            source=source,
            delivery_id=delivery_id,
            scheme=scheme,
            vendor_event_types=sorted({i.vendor_event_type for i in items})[:100],
            reasons=sorted({i.reason for i in items}),
            item_count=len(items),
            items=kept,
            truncated=len(items) > len(kept),
            body_sha256=body_sha256,
            received_at=received_at,
        )
        stored = delivery.model_dump(mode="json", exclude_none=True)
        stored["items"] = [{k: v for k, v in i.items() if v not in (None, [])} for i in stored["items"]]
        self._table.put(
            {**stored, **DeliveryKey(source, delivery_id).key(), "kind": UNPROCESSED_KIND, "at": sortable(received_at)}
        )

    def unprocessed_delivery(self, source: str, delivery_id: str) -> UnprocessedDelivery | None:
        item = self._table.get(DeliveryKey(source, delivery_id).pk, DeliveryKey.SK)
        return UnprocessedDelivery.model_validate(item) if item else None

    def unprocessed_deliveries(self, since: dt.datetime | None = None) -> list[UnprocessedDelivery]:
        """Deliveries that produced no event (received since `since`), oldest first."""
        return [UnprocessedDelivery.model_validate(i) for i in self._by_kind(UNPROCESSED_KIND, since, None)]

    # -- operators' redrives --------------------------------------------------------------

    def start_redrive(self, record: RedriveRecord) -> bool:
        """Write the record before the redrive runs; False (nothing written) when its key exists."""
        key = record.key
        item = {
            **record.model_dump(mode="json", exclude_none=True, exclude={"target"}),
            "pk": key.pk,
            "sk": key.target,
            "kind": REDRIVE_KIND,
            "at": sortable(record.started_at),
        }
        return self._table.put(item, if_absent=True)

    def update_redrive(self, key: RedriveKey, **values: Any) -> None:
        """Set fields of a redrive record (status, error, finished_at, …); None values are skipped."""
        self._table.update(key.pk, key.target, {k: _stored(v) for k, v in values.items()})

    def redrive(self, key: RedriveKey) -> RedriveRecord | None:
        item = self._table.get(key.pk, key.target)
        return _redrive(item) if item else None

    def redrives(self, *, event_id: str | None = None, message_id: str | None = None) -> list[RedriveRecord]:
        """Redrive records of one event or one DLQ message (either matches; no filter: all), oldest first."""
        records = [_redrive(i) for i in self._by_kind(REDRIVE_KIND, None, None)]
        if event_id is None and message_id is None:
            return records
        return [
            r
            for r in records
            if (event_id is not None and r.event_id == event_id)
            or (message_id is not None and r.dlq_message_id == message_id)
        ]

    # -- operators' replays ---------------------------------------------------------------

    def start_replay(self, record: ReplayRecord) -> bool:
        """Write the record before anything is replayed; False (nothing written) when it exists."""
        item = {
            **record.model_dump(mode="json", exclude_none=True),
            "pk": record.key.pk,
            "sk": ReplayKey.SK,
            "kind": REPLAY_KIND,
            "at": sortable(record.started_at),
        }
        return self._table.put(item, if_absent=True)

    def update_replay(self, run_id: str, **values: Any) -> None:
        self._table.update(ReplayKey(run_id).pk, ReplayKey.SK, {k: _stored(v) for k, v in values.items()})

    def replay(self, run_id: str) -> ReplayRecord | None:
        item = self._table.get(ReplayKey(run_id).pk, ReplayKey.SK)
        return ReplayRecord.model_validate(item) if item else None

    def replays(self) -> list[ReplayRecord]:
        """Every recorded replay, oldest first."""
        return [ReplayRecord.model_validate(i) for i in self._by_kind(REPLAY_KIND, None, None)]

    # -- the by_kind index ----------------------------------------------------------------

    def _by_kind(self, kind: str, start: dt.datetime | None, end: dt.datetime | None) -> list[dict[str, Any]]:
        condition, values = "#kind = :kind", {":kind": kind}
        if start:
            values[":start"] = sortable(start)
        if end:
            values[":end"] = sortable(end)
        if start and end:
            condition += " AND #at BETWEEN :start AND :end"
        elif start or end:
            condition += " AND #at >= :start" if start else " AND #at <= :end"
        return list(
            self._table.query(
                condition,
                values,
                index=BY_KIND_INDEX,
                names={"#kind": "kind", "#at": "at"} if start or end else {"#kind": "kind"},
            )
        )


def _redrive(item: dict[str, Any]) -> RedriveRecord:
    return RedriveRecord.model_validate({**item, "target": item["sk"]})


def _oldest_first(events: Iterable[RecordedEvent]) -> list[RecordedEvent]:
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    return sorted(events, key=lambda e: (e.occurred_at or epoch, e.event_id))
