"""`concord exceptions`: open sync exceptions and parked DLQ messages, grouped by flow and severity.

A sync exception (a SyncExceptionRaised event in the audit trail) is *open* until a run of the
same saga trigger SUCCEEDED after it was raised: a SUCCEEDED execution of the flow's state
machine whose input event id is the exception's `caused_by_event_id` and which stopped at or
after the exception's `occurred_at`. Candidates are found by name and confirmed by their input
(one DescribeExecution per candidate).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from ..events.types import Severity
from ..stores.audit_items import RecordedEvent
from .executions import SuccessfulRun, state_machine_arns, successful_runs
from .queues import DLQ_SEVERITY_DEFAULT, QueueRef, flow_and_severity, peek_messages, stage_dlqs
from .stores import StageStores

SEVERITY_RANK = {Severity.CRITICAL: 0, Severity.HIGH: 1, Severity.WARNING: 2, Severity.INFO: 3}


@dataclass(frozen=True)
class SyncException:
    event_id: str
    flow: str
    step: str
    severity: Severity
    error_class: str
    reason: str
    caused_by_event_id: str | None
    occurred_at: dt.datetime
    correlation_id: str | None
    legal_entity: str | None
    records: tuple[tuple[str, str, str], ...] = ()

    @classmethod
    def from_recorded(cls, event: RecordedEvent) -> SyncException:
        data = event.data
        try:
            severity = Severity(data.get("severity", DLQ_SEVERITY_DEFAULT))
        except ValueError:
            severity = DLQ_SEVERITY_DEFAULT
        return cls(
            event_id=event.event_id,
            flow=str(data.get("flow", "unknown")),
            step=str(data.get("step", "unknown")),
            severity=severity,
            error_class=str(data.get("error_class", "unknown")),
            reason=str(data.get("reason", "")),
            caused_by_event_id=data.get("caused_by_event_id"),
            occurred_at=event.occurred_at or dt.datetime.min.replace(tzinfo=dt.UTC),
            correlation_id=event.correlation_id,
            legal_entity=event.legal_entity,
            records=tuple(
                (str(r.get("system")), str(r.get("record_type")), str(r.get("record_id")))
                for r in data.get("records", [])
            ),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "flow": self.flow,
            "step": self.step,
            "severity": self.severity.value,
            "error_class": self.error_class,
            "reason": self.reason,
            "caused_by_event_id": self.caused_by_event_id,
            "occurred_at": self.occurred_at.isoformat(),
            "correlation_id": self.correlation_id,
            "legal_entity": self.legal_entity,
            "records": [{"system": s, "record_type": t, "record_id": i} for s, t, i in self.records],
        }


def split_open_exceptions(
    exceptions: Iterable[SyncException], successes: Iterable[SuccessfulRun]
) -> tuple[list[SyncException], dict[str, SuccessfulRun]]:
    """(open exceptions oldest first, {closed exception id: the run that closed it}).

    Closed: a run of the same trigger succeeded and stopped at or after the exception was
    raised. An exception without a trigger (caused_by_event_id) stays open.
    """
    by_trigger: dict[str, list[SuccessfulRun]] = defaultdict(list)
    for run in successes:
        by_trigger[run.trigger_event_id].append(run)
    still_open, closed = [], {}
    for exception in exceptions:
        closing = [
            run
            for run in by_trigger.get(exception.caused_by_event_id or "", [])
            if run.stopped_at is None or run.stopped_at >= exception.occurred_at
        ]
        if closing:
            closed[exception.event_id] = min(closing, key=lambda r: r.stopped_at or exception.occurred_at)
        else:
            still_open.append(exception)
    return sorted(still_open, key=lambda e: e.occurred_at), closed


def open_sync_exceptions(
    stores: StageStores, sfn: Any
) -> tuple[list[SyncException], dict[str, SuccessfulRun], list[str]]:
    """(open exceptions, closed ones and the run that closed each, notes for the operator)."""
    names = stores.names
    with stores.audit_call("dynamodb:Query"):
        recorded = stores.audit.sync_exceptions()
    exceptions = [SyncException.from_recorded(event) for event in recorded]
    if not exceptions:
        return [], {}, []
    machines = state_machine_arns(sfn, names)
    successes: list[SuccessfulRun] = []
    notes = []
    by_flow: dict[str, set[str]] = defaultdict(set)
    for exception in exceptions:
        if exception.caused_by_event_id:
            by_flow[exception.flow].add(exception.caused_by_event_id)
    for flow, triggers in sorted(by_flow.items()):
        arn = machines.get(names.state_machine(flow))
        if arn is None:
            notes.append(
                f"no state machine {names.state_machine(flow)}: exceptions of flow {flow} cannot be "
                "seen resolved and are listed as open"
            )
            continue
        successes.extend(successful_runs(sfn, arn, triggers))
    still_open, closed = split_open_exceptions(exceptions, successes)
    return still_open, closed, notes


# --------------------------------------------------------------------------- open items


@dataclass(frozen=True)
class OpenItem:
    """One line of `concord exceptions`: an open sync exception or a parked DLQ message."""

    kind: Literal["sync_exception", "dlq_message"]
    flow: str
    severity: Severity
    since: dt.datetime | None
    id: str
    what: str  # the failed step, or the event type
    error_class: str
    reason: str
    details: dict[str, Any] = field(default_factory=dict)

    def as_json(self, now: dt.datetime) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "flow": self.flow,
            "severity": self.severity.value,
            "since": self.since.isoformat() if self.since else None,
            "age_seconds": round((now - self.since).total_seconds()) if self.since else None,
            "id": self.id,
            "what": self.what,
            "error_class": self.error_class,
            "reason": self.reason,
            **self.details,
        }


def exception_items(exceptions: Iterable[SyncException]) -> list[OpenItem]:
    return [
        OpenItem(
            "sync_exception",
            e.flow,
            e.severity,
            e.occurred_at,
            e.event_id,
            e.step,
            e.error_class,
            e.reason,
            {
                "caused_by_event_id": e.caused_by_event_id,
                "correlation_id": e.correlation_id,
                "records": [f"{s}:{t}:{i}" for s, t, i in e.records],
            },
        )
        for e in exceptions
    ]


def dlq_items(sqs: Any, stores: StageStores, queues: Iterable[QueueRef] | None = None) -> list[OpenItem]:
    """The messages parked in the stage's DLQs (or `queues`), with the last failure recorded for each."""
    items = []
    for queue in queues if queues is not None else stage_dlqs(sqs, stores.names):
        flow, severity = flow_and_severity(stores.names, queue.name)
        for message in peek_messages(sqs, queue):
            with stores.audit_call("dynamodb:Query"):
                failures = stores.audit.failures_of(message.message_id)
            last = failures[-1] if failures else None
            fallback = message.message_attributes.get("ERROR_MESSAGE", {}).get("StringValue", "")
            items.append(
                OpenItem(
                    "dlq_message",
                    flow,
                    severity,
                    message.sent_at,
                    message.message_id,
                    message.event_type or "(not an event)",
                    last.error_class.value if last else "unknown",
                    last.reason if last else fallback or "no failure recorded in the audit trail",
                    {"queue": queue.name, "event_id": message.event_id, "failed_attempts": len(failures)},
                )
            )
    return items


def group_items(items: Iterable[OpenItem]) -> list[tuple[tuple[str, Severity], list[OpenItem]]]:
    """Grouped by (flow, severity): most severe first, then by flow; each group oldest first."""
    groups: dict[tuple[str, Severity], list[OpenItem]] = defaultdict(list)
    for item in items:
        groups[(item.flow, item.severity)].append(item)
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    return [
        (key, sorted(group, key=lambda i: i.since or epoch))
        for key, group in sorted(groups.items(), key=lambda kv: (SEVERITY_RANK[kv[0][1]], kv[0][0]))
    ]
