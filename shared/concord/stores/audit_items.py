"""The audit trail's key layout and item models (the table and its indexes: concord.stores.audit).

Keys are built and parsed here and nowhere else: `EventKey.of(event_id).pk`, `EventKey.parse(pk)`.
Items are validated on read: a record that no longer fits its model is a bug to see, not to skip.
"""

from __future__ import annotations

import datetime as dt
import json
import zlib
from dataclasses import dataclass
from typing import Any, Literal

from boto3.dynamodb.types import Binary
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..clock import utc_now
from ..events.types import ErrorClass
from .entities import EntityRef


def _strip(prefix: str, value: str) -> str:
    if not value.startswith(prefix):
        raise ValueError(f"{value!r} is not a {prefix}… key")
    return value[len(prefix) :]


# --------------------------------------------------------------------------- keys


@dataclass(frozen=True)
class EventKey:
    event_id: str
    SK = "EVENT"

    @classmethod
    def of(cls, event_id: str) -> EventKey:
        return cls(event_id)

    @classmethod
    def parse(cls, pk: str) -> EventKey:
        return cls(_strip("EVENT#", pk))

    @property
    def pk(self) -> str:
        return f"EVENT#{self.event_id}"

    def key(self) -> dict[str, str]:
        return {"pk": self.pk, "sk": self.SK}


@dataclass(frozen=True)
class FailureKey:
    message_id: str
    consumer: str
    receive_count: int
    SK_PREFIX = "FAILURE#"

    @staticmethod
    def partition(message_id: str) -> str:
        return f"MESSAGE#{message_id}"

    @property
    def pk(self) -> str:
        return self.partition(self.message_id)

    @property
    def sk(self) -> str:
        return f"{self.SK_PREFIX}{self.consumer}#{self.receive_count:04d}"


@dataclass(frozen=True)
class DeliveryKey:
    source: str
    delivery_id: str
    SK = "UNPROCESSED"

    @property
    def pk(self) -> str:
        return f"DELIVERY#{self.source}#{self.delivery_id}"

    def key(self) -> dict[str, str]:
        return {"pk": self.pk, "sk": self.SK}


@dataclass(frozen=True)
class RedriveKey:
    """One item of a redrive run: a DLQ message, a whole-queue move task, or a saga execution."""

    run_id: str
    target: str  # the sort key

    @classmethod
    def message(cls, run_id: str, message_id: str) -> RedriveKey:
        return cls(run_id, f"MESSAGE#{message_id}")

    @classmethod
    def move_task(cls, run_id: str) -> RedriveKey:
        return cls(run_id, "MOVE_TASK")

    @classmethod
    def execution(cls, run_id: str, execution_name: str) -> RedriveKey:
        return cls(run_id, f"EXECUTION#{execution_name}")

    @classmethod
    def parse(cls, pk: str, sk: str) -> RedriveKey:
        return cls(_strip("REDRIVE#", pk), sk)

    @property
    def pk(self) -> str:
        return f"REDRIVE#{self.run_id}"


@dataclass(frozen=True)
class ReplayKey:
    run_id: str
    SK = "RUN"

    @classmethod
    def parse(cls, pk: str) -> ReplayKey:
        return cls(_strip("REPLAY#", pk))

    @property
    def pk(self) -> str:
        return f"REPLAY#{self.run_id}"


@dataclass(frozen=True)
class MentionKey:
    """An entity-index item: the entity's partition, one sort key per event naming it."""

    entity: EntityRef
    occurred_at: str  # sortable ISO-8601 (concord.stores.dynamo.sortable)
    event_id: str

    @staticmethod
    def partition(entity: EntityRef) -> str:
        return f"ENTITY#{entity.object_type}#{entity.ref}"

    @classmethod
    def parse(cls, pk: str, sk: str) -> MentionKey:
        object_type, ref = _strip("ENTITY#", pk).split("#", 1)
        occurred_at, event_id = _strip("EVENT#", sk).rsplit("#", 1)
        return cls(EntityRef(object_type, ref), occurred_at, event_id)

    @property
    def pk(self) -> str:
        return self.partition(self.entity)

    @property
    def sk(self) -> str:
        return f"EVENT#{self.occurred_at}#{self.event_id}"


@dataclass(frozen=True)
class CauseKey:
    """A sync exception filed under the event whose flow raised it."""

    caused_by: str
    occurred_at: str
    exception_id: str

    @staticmethod
    def partition(caused_by: str) -> str:
        return f"CAUSE#{caused_by}"

    @property
    def pk(self) -> str:
        return self.partition(self.caused_by)

    @property
    def sk(self) -> str:
        return f"EVENT#{self.occurred_at}#{self.exception_id}"


# Values of the `kind` attribute (the by_kind index's partition key).
def event_kind(event_type: str) -> str:
    return f"EVENT#{event_type}"


FAILURE_KIND = "FAILURE"
UNPROCESSED_KIND = "UNPROCESSED"
REDRIVE_KIND = "REDRIVE"
REPLAY_KIND = "REPLAY"


# --------------------------------------------------------------------------- models


class AuditItem(BaseModel):
    """Attributes as stored; key and index attributes (pk, sk, kind, at) are the store's."""

    model_config = ConfigDict(extra="ignore", frozen=True)


@dataclass(frozen=True)
class DeliveryTimings:
    """When the event entered the queue and was first handed to a consumer (epoch ms)."""

    enqueued_at_ms: int | None
    first_received_at_ms: int | None


class RecordedEvent(AuditItem):
    """A canonical event as the audit trail recorded it; `detail` is the event, parsed JSON."""

    event_id: str
    event_type: str
    source_system: str
    legal_entity: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    occurred_at: dt.datetime | None = None
    ingested_at: dt.datetime | None = None
    enqueued_at: dt.datetime | None = None
    first_received_at: dt.datetime | None = None
    recorded_at: dt.datetime | None = None
    detail: dict[str, Any]
    # What Concord's mappings rendered for the event when it was recorded (concord.mappings):
    # the baseline `concord mappings diff` compares the current mappings with. Stored compressed.
    rendered_requests: str | None = None

    @field_validator("detail", mode="before")
    @classmethod
    def _parse_detail(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    @field_validator("rendered_requests", mode="before")
    @classmethod
    def _decompress_rendering(cls, value: Any) -> Any:
        if isinstance(value, Binary):
            value = value.value  # type: ignore[attr-defined]  # boto3-stubs leave it out
        return zlib.decompress(value).decode() if isinstance(value, bytes) else value

    @property
    def published_at(self) -> dt.datetime | None:
        """When it was put on the bus, as EventBridge's archive reads it: when the audit-trail
        rule queued it, else when Concord ingested it, else when it occurred."""
        return self.enqueued_at or self.ingested_at or self.occurred_at

    @property
    def data(self) -> dict[str, Any]:
        data = self.detail.get("data")
        return data if isinstance(data, dict) else {}


def compressed_rendering(rendering: str | None) -> bytes | None:
    """A rendering as the audit trail stores it: zlib, a binary attribute. DynamoDB bills a write
    per KB of item; the text of eleven connectors' requests is 2-10 KB and compresses 4-6 times."""
    return None if rendering is None else zlib.compress(rendering.encode(), 6)


class FailedAttempt(AuditItem):
    """One failed attempt of a queue message by one consumer."""

    message_id: str
    consumer: str
    receive_count: int
    error_class: ErrorClass
    reason: str
    event_id: str | None = None
    failed_at: dt.datetime = Field(default_factory=utc_now)


class UnprocessedEntry(AuditItem):
    """One item of a webhook delivery that produced no canonical event, and why."""

    vendor_event_type: str
    reason: str  # needs_enrichment, not_mapped, ...
    detail: str = ""
    reference: str = ""
    canonical_types: list[str] = Field(default_factory=list)


class UnprocessedDelivery(AuditItem):
    source: str
    delivery_id: str
    scheme: str
    vendor_event_types: list[str]
    reasons: list[str]
    item_count: int
    items: list[UnprocessedEntry]
    truncated: bool
    body_sha256: str
    received_at: dt.datetime


class OperatorAction(AuditItem):
    """Who started an operator's redrive or replay, and how it went."""

    run_id: str
    stage: str
    who: str
    os_user: str
    started_at: dt.datetime
    status: str
    error: str | None = None
    finished_at: dt.datetime | None = None


class RedriveRecord(OperatorAction):
    """A redrive of one DLQ message (`MESSAGE#`), of a whole DLQ by SQS (`MOVE_TASK`), or of a
    failed saga (`EXECUTION#`, record_type saga_redrive). `target` is the item's sort key."""

    target: str
    record_type: Literal["redrive", "saga_redrive"]
    event_id: str | None = None
    # a DLQ message / a move task
    dlq: str | None = None
    target_queue: str | None = None
    dlq_message_id: str | None = None
    event_type: str | None = None
    filter: str | None = None
    edited: bool | None = None
    before: str | None = None
    after: str | None = None
    receive_count: int | None = None
    new_message_id: str | None = None
    sent_at: dt.datetime | None = None
    task_handle: str | None = None
    messages: int | None = None
    # a saga
    state_machine: str | None = None
    failed_execution: str | None = None
    failed_status: str | None = None
    attempts_before: int | None = None
    new_execution: str | None = None
    new_execution_arn: str | None = None

    @property
    def key(self) -> RedriveKey:
        return RedriveKey(self.run_id, self.target)


class ReplayRecord(OperatorAction):
    """One `concord replay`: the window, filters and method, what it selected and sent."""

    record_type: Literal["replay"] = "replay"
    replay_name: str
    method: Literal["archive", "bus"]
    window_from: dt.datetime
    window_to: dt.datetime
    types: list[str] = Field(default_factory=list)
    entity: str | None = None
    count: int
    event_ids: list[str] = Field(default_factory=list)
    event_ids_truncated: bool = False
    event_types: list[str] = Field(default_factory=list)
    bus: str | None = None
    marker: str | None = None
    archive: str | None = None
    sent: int | None = None
    failed_event_ids: list[str] | None = None
    replay_arn: str | None = None
    state: str | None = None

    @property
    def key(self) -> ReplayKey:
        return ReplayKey(self.run_id)
