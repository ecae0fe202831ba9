"""A stage's queues and dead-letter queues: finding them, peeking at what they hold, the flow behind each.

DLQ messages are peeked with VisibilityTimeout=0 and never deleted; a queue holding more than
one receive's sampling can show is swept (received hidden, then released at once).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from .. import catalog
from ..events.envelope import validate_event, version_tag
from ..events.types import Severity
from ..events.versions import retired_reason
from ..naming import DLQ_SUFFIX, Names, source_queue_of
from .calls import aws_call

PEEK_QUIET_ROUNDS = 2
SWEEP_VISIBILITY_SECONDS = 30
DLQ_SEVERITY_DEFAULT = Severity.WARNING


def flow_and_severity(names: Names, queue_name: str) -> tuple[str, Severity]:
    """(flow, DLQ severity) of a stage's queue or DLQ, from concord.catalog; a queue no flow owns
    (the local bus tap): its own name, and the default severity."""
    short = names.short(queue_name)
    owner = catalog.flow_of_queue(short)
    if owner is not None:
        return owner.name, owner.severity
    return source_queue_of(short).replace("-", "_"), DLQ_SEVERITY_DEFAULT


@dataclass(frozen=True)
class QueueRef:
    name: str
    url: str


def queue_ref(sqs: Any, name: str) -> QueueRef:
    with aws_call(f"queue {name}", "sqs:GetQueueUrl"):
        return QueueRef(name, sqs.get_queue_url(QueueName=name)["QueueUrl"])


def stage_queues(sqs: Any, names: Names) -> list[QueueRef]:
    """Every queue of the stage, by name."""
    found: list[QueueRef] = []
    with aws_call(f"queues {names.prefix}-*", "sqs:ListQueues"):
        for page in sqs.get_paginator("list_queues").paginate(QueueNamePrefix=f"{names.prefix}-"):
            for url in page.get("QueueUrls", []):
                found.append(QueueRef(url.rsplit("/", 1)[-1], url))
    return sorted(found, key=lambda q: q.name)


def stage_dlqs(sqs: Any, names: Names) -> list[QueueRef]:
    return [q for q in stage_queues(sqs, names) if q.name.endswith(DLQ_SUFFIX)]


def queue_attributes(sqs: Any, queue: QueueRef) -> dict[str, str]:
    with aws_call(f"queue {queue.name}", "sqs:GetQueueAttributes"):
        attributes = sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["All"])["Attributes"]
    return {str(name): str(value) for name, value in attributes.items()}


def visible_count(sqs: Any, queue: QueueRef) -> int:
    return int(queue_attributes(sqs, queue).get("ApproximateNumberOfMessages", 0))


# --------------------------------------------------------------------------- messages


def split_body(body: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(EventBridge envelope, canonical event) of a message body; either may be None."""
    try:
        parsed = json.loads(body)
    except (json.JSONDecodeError, TypeError):
        return None, None
    if not isinstance(parsed, dict):
        return None, None
    if isinstance(parsed.get("detail"), dict) and "detail-type" in parsed:
        return parsed, parsed["detail"]
    if "type" in parsed:
        return None, parsed
    return None, None


def event_validation_errors(event: dict[str, Any]) -> list[str]:
    """The canonical event's schema violations, one `where: what` line each ([] when valid)."""
    try:
        parsed = validate_event(event)
    except ValidationError as error:
        problems = []
        for problem in error.errors(include_url=False):
            location = list(problem["loc"])
            if location and location[0] == version_tag(event.get("type"), event.get("version", 1)):
                location = location[1:]  # the discriminated union's tag
            where = ".".join(str(part) for part in location) or "(event)"
            message = "unknown event type or version" if problem["type"] == "union_tag_invalid" else problem["msg"]
            problems.append(f"{where}: {message}")
        return problems
    reason = retired_reason(parsed)
    return [f"version: {reason}"] if reason else []


@dataclass
class DlqMessage:
    queue: str
    message_id: str
    body: str
    receipt_handle: str
    attributes: dict[str, str] = field(default_factory=dict)
    message_attributes: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_sqs(cls, queue: str, message: dict[str, Any]) -> DlqMessage:
        return cls(
            queue=queue,
            message_id=message["MessageId"],
            body=message.get("Body", ""),
            receipt_handle=message["ReceiptHandle"],
            attributes=dict(message.get("Attributes", {})),
            message_attributes=dict(message.get("MessageAttributes", {})),
        )

    @property
    def sent_at(self) -> dt.datetime | None:
        sent = self.attributes.get("SentTimestamp")
        return dt.datetime.fromtimestamp(int(sent) / 1000, tz=dt.UTC) if sent else None

    @property
    def receive_count(self) -> int:
        return int(self.attributes.get("ApproximateReceiveCount", 0))

    @property
    def envelope(self) -> dict[str, Any] | None:
        return split_body(self.body)[0]

    @property
    def event(self) -> dict[str, Any] | None:
        """The canonical event inside (as received, valid or not)."""
        return split_body(self.body)[1]

    @property
    def event_id(self) -> str | None:
        event = self.event or {}
        return str(event["id"]) if event.get("id") is not None else None

    @property
    def event_type(self) -> str | None:
        event, envelope = self.event or {}, self.envelope or {}
        value = event.get("type") or envelope.get("detail-type")
        return str(value) if value is not None else None

    def validation_errors(self) -> list[str]:
        """Why the canonical event inside fails its schema ([] when it is valid)."""
        event = self.event
        if event is None:
            return ["the message body is not a canonical event (nor an EventBridge event around one)"]
        return event_validation_errors(event)


def oldest_first(messages: Iterable[DlqMessage]) -> list[DlqMessage]:
    return sorted(messages, key=lambda m: m.sent_at or dt.datetime.max.replace(tzinfo=dt.UTC))


# --------------------------------------------------------------------------- receiving


def receive(sqs: Any, queue: QueueRef, visibility: int) -> list[dict[str, Any]]:
    """One receive of up to ten messages, hidden for `visibility` seconds (0: left visible)."""
    with aws_call(f"queue {queue.name}", "sqs:ReceiveMessage"):
        received = sqs.receive_message(
            QueueUrl=queue.url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            VisibilityTimeout=visibility,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
    return list(received.get("Messages", []))


def release(sqs: Any, queue: QueueRef, handles: Iterable[str]) -> None:
    """Make claimed messages visible again at once (best effort: they reappear anyway)."""
    handles = list(handles)
    for start in range(0, len(handles), 10):
        entries = [
            {"Id": str(n), "ReceiptHandle": handle, "VisibilityTimeout": 0}
            for n, handle in enumerate(handles[start : start + 10])
        ]
        with suppress(BotoCoreError, ClientError):
            sqs.change_message_visibility_batch(QueueUrl=queue.url, Entries=entries)


def peek_messages(sqs: Any, queue: QueueRef, *, limit: int | None = None) -> list[DlqMessage]:
    """Messages in a (dead-letter) queue, oldest first, left where they are.

    Receives with VisibilityTimeout=0 until a few rounds bring nothing new. When that saw fewer
    messages than the queue holds (SQS samples; the emulator always returns the first ten),
    the rest are swept: received hidden for a short while and released immediately.
    Never deletes. (Receiving counts towards a message's ApproximateReceiveCount.)
    """
    seen: dict[str, DlqMessage] = {}
    quiet = 0
    while quiet < PEEK_QUIET_ROUNDS and (limit is None or len(seen) < limit):
        new = [m for m in receive(sqs, queue, 0) if m["MessageId"] not in seen]
        for message in new:
            seen[message["MessageId"]] = DlqMessage.from_sqs(queue.name, message)
        quiet = 0 if new else quiet + 1
    if len(seen) < visible_count(sqs, queue) and (limit is None or len(seen) < limit):
        swept: list[str] = []
        try:
            while batch := receive(sqs, queue, SWEEP_VISIBILITY_SECONDS):
                swept.extend(m["ReceiptHandle"] for m in batch)
                for message in batch:
                    seen.setdefault(message["MessageId"], DlqMessage.from_sqs(queue.name, message))
                if limit is not None and len(seen) >= limit:
                    break
        finally:
            release(sqs, queue, swept)
    messages = oldest_first(seen.values())
    return messages[:limit] if limit is not None else messages


def find_dlq_message(sqs: Any, queues: Iterable[QueueRef], wanted: str) -> DlqMessage | None:
    """A DLQ message by its message id, or by the id of the canonical event it carries."""
    for queue in queues:
        for message in peek_messages(sqs, queue):
            if wanted in (message.message_id, message.event_id):
                return message
    return None
