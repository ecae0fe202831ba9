"""`concord replay`: the canonical events of a time window sent over the stage's bus again.

Two ways of doing it; the command takes the one that honours what the operator asked for:

- **EventBridge's replay** (`method = "archive"`): `StartReplay` from the stage's archive
  (`concord-<stage>-events`, every canonical event) with `EventStartTime`/`EventEndTime` = the
  window and `Destination` = the bus, then `DescribeReplay` polled until it completes. Used on
  AWS when only a window is asked for. EventBridge selects by the time an event reached the
  bus; it cannot select by event type or entity: `Destination.FilterArns` picks *rules* (i.e.
  consumers), not events — the audit-trail rule matches every type — so `--type` and
  `--entity` cannot be honoured this way, and FilterArns is not used (every consumer sees the
  replay, as after an outage).
- **Selected re-publication** (`method = "bus"`): the events are selected from the audit
  trail, which records every canonical event once with its type and times, and put on the
  bus again with PutEvents exactly as first published (the same canonical event: same id,
  source and detail-type from it), naming the replay in the envelope's `resources`
  (`arn:…:replay/<replay name>`, the `REPLAY#` record's name; the canonical event itself is
  untouched). Used on AWS with `--type` or `--entity`, and always on the local stack, whose
  emulator (moto 5.2.5) has an archive but a StartReplay that ignores the window (and
  FilterArns): it sends *every* archived event to every rule of the bus. Re-published events
  are archived again (the archive's pattern matches them); a later replay of that later
  window sends them once more, which is as harmless as the first replay.

**The window** is when an event was published on the bus, as EventBridge's replay reads it.
In the audit trail that is `RecordedEvent.published_at` (concord.stores.audit_items), by which
the audit trail's by_kind index sorts each event type: the selection is one Query per type.
Both ends are inclusive.

**Why a replay has no second effect**: consumers are idempotent on the canonical event id,
which both ways keep (EventBridge gives the envelope a new `id` and a `replay-name`; the
canonical event inside is the same). The audit trail records an event once (a conditional
put), a quote-to-cash saga is started once per trigger (the execution is named after the
event id, so a replayed OpportunityClosedWon starts nothing — a failed saga is fixed by
`concord saga redrive`, not by a replay), and saga steps run once per key (Powertools
Idempotency).

**The record**: every replay is written to the audit trail *before* anything is sent
(`ReplayRecord`, concord.stores.audit): who, when, the window, the filters, the method, how many
events and which (ids), then the outcome. If that write is refused, nothing is replayed.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from ..clock import Clock, utc_now
from ..naming import Names
from ..stores.audit_items import RecordedEvent, ReplayKey, ReplayRecord
from .actor import Actor
from .calls import OperationsError, aws_call
from .stores import StageStores
from .trace import EntityReference, trace_entity

ReplayMethod = Literal["archive", "bus"]

PUT_EVENTS_MAX_ENTRIES = 10
# The record keeps the ids of this many events (a DynamoDB item is at most 400 KB).
MAX_RECORDED_IDS = 2000
REPLAY_FINISHED_STATES = ("COMPLETED", "FAILED", "CANCELLED")
REPLAY_POLL_SECONDS = 5.0


@dataclass(frozen=True)
class ReplaySelection:
    """What the operator asked for: a window (inclusive), event types (any of), an entity."""

    start: dt.datetime
    end: dt.datetime
    types: tuple[str, ...] = ()
    entity: str | None = None  # as the operator wrote it (a canonical id or system:type:id)
    entity_reference: EntityReference | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "types": list(self.types),
            "entity": self.entity,
        }

    def describe(self) -> str:
        what = " or ".join(self.types) if self.types else "canonical event"
        start, end = self.start.isoformat(timespec="seconds"), self.end.isoformat(timespec="seconds")
        text = f"{what} published between {start} and {end}"
        return text + (f" about {self.entity}" if self.entity else "")


def choose_method(local: bool, selection: ReplaySelection) -> ReplayMethod:
    """EventBridge's replay where it honours the whole selection (AWS, window only); else re-publish."""
    if local or selection.types or selection.entity:
        return "bus"
    return "archive"


@dataclass(frozen=True)
class ReplayEvent:
    """A canonical event as the audit trail recorded it, a candidate for replay."""

    event_id: str
    event_type: str
    source_system: str
    published_at: dt.datetime
    occurred_at: dt.datetime | None
    correlation_id: str | None
    detail: str  # the canonical event, JSON, as recorded (and first published)

    @property
    def bus_source(self) -> str:
        return f"concord.{self.source_system}"

    def as_json(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "type": self.event_type,
            "source_system": self.source_system,
            "published_at": self.published_at.isoformat(),
            "occurred_at": self.occurred_at.isoformat() if self.occurred_at else None,
            "correlation_id": self.correlation_id,
        }


def _replay_event(recorded: RecordedEvent, published_at: dt.datetime) -> ReplayEvent:
    return ReplayEvent(
        event_id=recorded.event_id,
        event_type=recorded.event_type,
        source_system=recorded.source_system,
        published_at=published_at,
        occurred_at=recorded.occurred_at,
        correlation_id=recorded.correlation_id,
        detail=json.dumps(recorded.detail, separators=(",", ":")),
    )


def entity_event_ids(stores: StageStores, selection: ReplaySelection) -> set[str] | None:
    """The ids of the events `concord trace ENTITY` lists (None when no --entity was given)."""
    if selection.entity_reference is None:
        return None
    found = trace_entity(stores, selection.entity_reference, selection.entity or "")
    return {str(event["event_id"]) for event in found.events}


def select_events(stores: StageStores, selection: ReplaySelection) -> list[ReplayEvent]:
    """The recorded canonical events the selection picks, in the order they were published."""
    about = entity_event_ids(stores, selection)
    if about is not None and not about:
        return []
    with stores.audit_call("dynamodb:Query"):
        recorded = stores.audit.events_published(selection.start, selection.end, selection.types or None)
    return [
        _replay_event(event, event.published_at)
        for event in recorded
        if event.published_at is not None and (about is None or event.event_id in about)
    ]


# --------------------------------------------------------------------------- the replay


@dataclass
class ReplayOutcome:
    method: ReplayMethod
    record: str  # the REPLAY item's pk
    replay_name: str
    status: Literal["completed", "partial", "failed"]
    selected: int
    sent: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)  # event id, error code, message
    replay_arn: str | None = None
    state: str | None = None  # EventBridge's replay state (archive method)
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "record": self.record,
            "replay_name": self.replay_name,
            "status": self.status,
            "selected": self.selected,
            "sent": self.sent,
            "failed": self.failed,
            "replay_arn": self.replay_arn,
            "state": self.state,
            "error": self.error,
        }


Progress = Callable[[int, int, str], None]  # (done, total, what is happening)


def _no_progress(done: int, total: int, note: str) -> None:
    return None


@dataclass
class ReplayRun:
    """One `concord replay`: who, which window and filters, how, and what it sent."""

    events: Any  # boto3 EventBridge client
    stores: StageStores
    actor: Actor
    selection: ReplaySelection
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    clock: Clock = utc_now
    sleep: Callable[[float], None] = time.sleep

    @property
    def names(self) -> Names:
        return self.stores.names

    @property
    def record_pk(self) -> str:
        return ReplayKey(self.run_id).pk

    @property
    def replay_name(self) -> str:
        # EventBridge replay names: at most 64 characters of [.-_A-Za-z0-9].
        return f"{self.names.prefix}-replay-{self.run_id}"[:64]

    # -- the audit record ---------------------------------------------------------------

    def _start_record(
        self,
        method: ReplayMethod,
        chosen: list[ReplayEvent],
        *,
        bus: str,
        marker: str | None = None,
        archive: str | None = None,
    ) -> None:
        ids = [e.event_id for e in chosen]
        record = ReplayRecord(
            run_id=self.run_id,
            replay_name=self.replay_name,
            stage=self.names.stage,
            who=self.actor.who,
            os_user=self.actor.os_user,
            started_at=self.clock(),
            method=method,
            window_from=self.selection.start,
            window_to=self.selection.end,
            types=list(self.selection.types),
            entity=self.selection.entity,
            count=len(chosen),
            event_ids=ids[:MAX_RECORDED_IDS],
            event_ids_truncated=len(ids) > MAX_RECORDED_IDS,
            event_types=sorted({e.event_type for e in chosen}),
            status="sending" if method == "bus" else "starting",
            bus=bus,
            marker=marker,
            archive=archive,
        )
        with self.stores.audit_call("dynamodb:PutItem"):
            written = self.stores.audit.start_replay(record)
        if not written:
            raise OperationsError(f"replay {self.run_id} is already recorded; nothing replayed")

    def _update_record(self, **values: Any) -> None:
        """A status update after the first write; failing it must not stop the replay."""
        try:
            with self.stores.audit_call("dynamodb:UpdateItem"):
                self.stores.audit.update_replay(self.run_id, **values)
        except OperationsError:
            pass

    # -- AWS resources ------------------------------------------------------------------

    def bus_arn(self) -> str:
        with aws_call(f"event bus {self.names.bus}", "events:DescribeEventBus"):
            return str(self.events.describe_event_bus(Name=self.names.bus)["Arn"])

    def archive_arn(self) -> str:
        with aws_call(f"archive {self.names.archive}", "events:DescribeArchive"):
            return str(self.events.describe_archive(ArchiveName=self.names.archive)["ArchiveArn"])

    def marker(self, bus_arn: str) -> str:
        """The replay as the envelope's `resources` names it: `arn:…:events:<region>:<account>:replay/<name>`."""
        return bus_arn.split(":event-bus/", 1)[0] + f":replay/{self.replay_name}"

    # -- re-publication -----------------------------------------------------------------

    def republish(self, chosen: list[ReplayEvent], progress: Progress = _no_progress) -> ReplayOutcome:
        """Put exactly `chosen` on the bus again, recorded first; each keeps its canonical id."""
        bus_arn = self.bus_arn()
        marker = self.marker(bus_arn)
        self._start_record("bus", chosen, bus=self.names.bus, marker=marker)  # no replay without its record
        sent, failed = 0, []
        progress(0, len(chosen), f"putting {len(chosen)} event(s) on {self.names.bus}")
        try:
            for start in range(0, len(chosen), PUT_EVENTS_MAX_ENTRIES):
                batch = chosen[start : start + PUT_EVENTS_MAX_ENTRIES]
                entries = [
                    {
                        "EventBusName": self.names.bus,
                        "Source": e.bus_source,
                        "DetailType": e.event_type,
                        "Detail": e.detail,
                        "Resources": [marker],
                    }
                    for e in batch
                ]
                try:
                    with aws_call(f"event bus {self.names.bus}", "events:PutEvents"):
                        response = self.events.put_events(Entries=entries)
                except OperationsError as error:
                    failed += [{"event_id": e.event_id, "error": str(error)} for e in batch]
                    continue
                for event, result in zip(batch, response.get("Entries", []), strict=False):
                    if result.get("ErrorCode"):
                        failed.append(
                            {
                                "event_id": event.event_id,
                                "error": f"{result['ErrorCode']}: {result.get('ErrorMessage', '')}",
                            }
                        )
                    else:
                        sent += 1
                progress(min(start + len(batch), len(chosen)), len(chosen), "putting events on the bus")
        except BaseException as error:
            self._update_record(
                status="interrupted", sent=sent, error=repr(error)[:1000], finished_at=self.clock().isoformat()
            )
            raise
        status: Literal["completed", "partial", "failed"] = (
            "completed" if not failed else "partial" if sent else "failed"
        )
        self._update_record(
            status=status,
            sent=sent,
            failed_event_ids=[f["event_id"] for f in failed][:MAX_RECORDED_IDS] or None,
            error=failed[0]["error"][:1000] if failed else None,
            finished_at=self.clock().isoformat(),
        )
        return ReplayOutcome("bus", self.record_pk, self.replay_name, status, len(chosen), sent, failed)

    # -- EventBridge's replay -----------------------------------------------------------

    def from_archive(
        self, expected: list[ReplayEvent], progress: Progress = _no_progress, poll_seconds: float = REPLAY_POLL_SECONDS
    ) -> ReplayOutcome:
        """StartReplay of the window from the stage's archive to its bus, polled until it finishes.

        `expected`: what the audit trail recorded in the window (recorded with the replay, as
        its count; the archive also holds events the audit trail refused as invalid).
        """
        archive_arn, bus_arn = self.archive_arn(), self.bus_arn()
        end = min(self.selection.end, self.clock())  # EventBridge refuses an end in the future
        self._start_record("archive", expected, archive=self.names.archive, bus=self.names.bus)
        try:
            with aws_call(f"archive {self.names.archive}", "events:StartReplay"):
                started = self.events.start_replay(
                    ReplayName=self.replay_name,
                    Description=f"concord replay by {self.actor.os_user}"[:512],
                    EventSourceArn=archive_arn,
                    EventStartTime=self.selection.start,
                    EventEndTime=end,
                    Destination={"Arn": bus_arn},
                )
        except OperationsError as error:
            self._update_record(status="failed", error=str(error)[:1000], finished_at=self.clock().isoformat())
            raise
        replay_arn = str(started.get("ReplayArn", ""))
        self._update_record(status="running", replay_arn=replay_arn, state=started.get("State"))
        total = max(1.0, (end - self.selection.start).total_seconds())
        state, described = str(started.get("State", "STARTING")), dict(started)
        while True:
            with aws_call(f"replay {self.replay_name}", "events:DescribeReplay"):
                described = self.events.describe_replay(ReplayName=self.replay_name)
            state = str(described.get("State", state))
            last = described.get("EventLastReplayedTime")
            done = (last - self.selection.start).total_seconds() if isinstance(last, dt.datetime) else 0.0
            progress(int(min(done, total)), int(total), f"EventBridge replay {state.lower()}")
            if state in REPLAY_FINISHED_STATES:
                break
            self.sleep(poll_seconds)
        status: Literal["completed", "failed"] = "completed" if state == "COMPLETED" else "failed"
        reason = described.get("StateReason")
        self._update_record(status=status, state=state, error=reason, finished_at=self.clock().isoformat())
        return ReplayOutcome(
            "archive",
            self.record_pk,
            self.replay_name,
            status,
            len(expected),
            len(expected) if status == "completed" else 0,
            [],
            replay_arn,
            state,
            reason,
        )


def known_event_types() -> list[str]:
    from ..events import EVENT_MODEL_BY_TYPE

    return sorted(EVENT_MODEL_BY_TYPE)


def unknown_types(types: Iterable[str]) -> list[str]:
    known = set(known_event_types())
    return [t for t in types if t not in known]
