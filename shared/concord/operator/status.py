"""`concord status`: consumer queues and DLQs, saga runs and their unresolved failures."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from ..events.types import Severity
from ..naming import DLQ_SUFFIX, Names
from .executions import FAILED_STATUSES, executions, state_machine_arns, trigger_of_execution
from .queues import flow_and_severity, peek_messages, queue_attributes, stage_queues


@dataclass(frozen=True)
class QueueStatus:
    name: str
    kind: Literal["queue", "dlq"]
    flow: str
    severity: Severity
    visible: int
    in_flight: int
    delayed: int
    oldest_age_seconds: int | None  # DLQs only (from the oldest message's SentTimestamp)

    @property
    def alarming(self) -> bool:
        return self.kind == "dlq" and self.visible + self.in_flight > 0

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "flow": self.flow,
            "severity": self.severity.value,
            "visible": self.visible,
            "in_flight": self.in_flight,
            "delayed": self.delayed,
            "oldest_age_seconds": self.oldest_age_seconds,
            "alarm": self.alarming,
        }


def queue_statuses(sqs: Any, names: Names, now: dt.datetime) -> list[QueueStatus]:
    """Consumer queues (those with a redrive policy) and DLQs; never peeks a consumer queue."""
    statuses = []
    for queue in stage_queues(sqs, names):
        attributes = queue_attributes(sqs, queue)
        is_dlq = queue.name.endswith(DLQ_SUFFIX)
        if not is_dlq and "RedrivePolicy" not in attributes:
            continue  # not a consumer queue (e.g. the local bus tap)
        flow, severity = flow_and_severity(names, queue.name)
        oldest = None
        if is_dlq and int(attributes.get("ApproximateNumberOfMessages", 0)):
            sent = [m.sent_at for m in peek_messages(sqs, queue) if m.sent_at]
            oldest = round((now - min(sent)).total_seconds()) if sent else None
        statuses.append(
            QueueStatus(
                queue.name,
                "dlq" if is_dlq else "queue",
                flow,
                severity,
                int(attributes.get("ApproximateNumberOfMessages", 0)),
                int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
                int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
                oldest,
            )
        )
    return statuses


@dataclass(frozen=True)
class SagaStatus:
    state_machine: str
    running: int
    oldest_running_since: dt.datetime | None
    succeeded: int
    failed: int  # FAILED, TIMED_OUT and ABORTED executions
    unresolved: list[dict[str, Any]]  # failed, and no later run of the same trigger succeeded

    def as_json(self) -> dict[str, Any]:
        return {
            "state_machine": self.state_machine,
            "running": self.running,
            "oldest_running_since": self.oldest_running_since.isoformat() if self.oldest_running_since else None,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "unresolved_failures": [
                {**u, "started_at": u["started_at"].isoformat() if u.get("started_at") else None}
                for u in self.unresolved
            ],
        }


def _unresolved(succeeded: list[dict[str, Any]], failed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Failed executions no later run of their trigger fixed (by name), oldest first."""
    last_success: dict[str, dt.datetime] = {}
    for execution in succeeded:
        trigger = trigger_of_execution(execution["name"])
        if trigger not in last_success or execution["startDate"] > last_success[trigger]:
            last_success[trigger] = execution["startDate"]
    return [
        {
            "execution": e["name"],
            "status": e["status"],
            "started_at": e["startDate"],
            "trigger_event_id": trigger_of_execution(e["name"]),
        }
        for e in sorted(failed, key=lambda e: e["startDate"])
        if trigger_of_execution(e["name"]) not in last_success
        or last_success[trigger_of_execution(e["name"])] < e["startDate"]
    ]


def saga_statuses(sfn: Any, names: Names) -> list[SagaStatus]:
    """Per state machine: running, failed, and failures no later run of their trigger fixed."""
    statuses = []
    for name, arn in sorted(state_machine_arns(sfn, names).items()):
        everything = executions(sfn, arn)
        running = [e for e in everything if e["status"] == "RUNNING"]
        succeeded = [e for e in everything if e["status"] == "SUCCEEDED"]
        failed = [e for e in everything if e["status"] in FAILED_STATUSES]
        statuses.append(
            SagaStatus(
                name,
                len(running),
                min((e["startDate"] for e in running), default=None),
                len(succeeded),
                len(failed),
                _unresolved(succeeded, failed),
            )
        )
    return statuses
