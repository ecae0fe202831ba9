"""`concord dlq`: edit a parked message, and redrive DLQ messages to their source queue.

A redrive claims each message (hides it), writes a redrive record (`RedriveRecord`, concord.stores)
to the audit trail *before* sending, sends it to the source queue, and only then deletes it from the DLQ; the
record's status follows each step, so a redrive is never unrecorded and a message is never lost.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from ..clock import Clock, utc_now
from ..stores.audit_items import RedriveKey, RedriveRecord
from .actor import Actor
from .calls import OperationsError, aws_call
from .queues import (
    DlqMessage,
    QueueRef,
    event_validation_errors,
    oldest_first,
    peek_messages,
    queue_attributes,
    receive,
    release,
)
from .stores import StageStores

CLAIM_VISIBILITY_SECONDS = 300
EDIT_VISIBILITY_SECONDS = 3600
# The record keeps bodies up to this size in full (DynamoDB items are at most 400 KB).
MAX_RECORDED_BODY = 150_000
# Attributes EventBridge adds to messages it could not deliver: they describe the DLQ visit.
_DLQ_ONLY_ATTRIBUTES = {"ERROR_CODE", "ERROR_MESSAGE", "RULE_ARN", "TARGET_ARN"}


# --------------------------------------------------------------------------- edits


@dataclass(frozen=True)
class EditOutcome:
    body: str | None  # the new message body; None when refused
    event: dict[str, Any] | None
    errors: list[str]


def apply_edit(message: DlqMessage, edited_text: str) -> EditOutcome:
    """An operator's edit of the canonical event, validated, put back into the message body."""
    try:
        event = json.loads(edited_text)
    except json.JSONDecodeError as error:
        return EditOutcome(None, None, [f"not JSON: {error}"])
    if not isinstance(event, dict):
        return EditOutcome(None, None, ["the edited payload must be a JSON object (the canonical event)"])
    errors = event_validation_errors(event)
    if errors:
        return EditOutcome(None, event, errors)
    envelope = message.envelope
    if envelope is None:
        return EditOutcome(json.dumps(event), event, [])
    source_system = event.get("source_system")
    updated = {
        **envelope,
        "detail": event,
        "detail-type": event["type"],
        "source": f"concord.{source_system}" if source_system else envelope.get("source"),
    }
    return EditOutcome(json.dumps(updated), event, [])


def editable_text(message: DlqMessage) -> str:
    """What the operator edits: the canonical event, or the raw body when there is none."""
    event = message.event
    return json.dumps(event, indent=2, ensure_ascii=False) + "\n" if event is not None else message.body


# --------------------------------------------------------------------------- redrive


def _resend_attributes(message: DlqMessage) -> dict[str, Any]:
    kept = {}
    for name, value in message.message_attributes.items():
        if name in _DLQ_ONLY_ATTRIBUTES:
            continue
        attribute = {"DataType": value["DataType"]}
        if "StringValue" in value:
            attribute["StringValue"] = value["StringValue"]
        elif "BinaryValue" in value:
            attribute["BinaryValue"] = value["BinaryValue"]
        else:
            continue
        kept[name] = attribute
    return kept


def _recorded_body(body: str) -> str:
    return body if len(body) <= MAX_RECORDED_BODY else body[:MAX_RECORDED_BODY] + "…[truncated]"


RedriveStatus = Literal["would_redrive", "redriven", "refused", "failed"]
Selector = Callable[[DlqMessage], bool]
Editor = Callable[[DlqMessage], EditOutcome]


@dataclass
class RedriveOutcome:
    message_id: str
    queue: str
    target: str
    event_id: str | None
    event_type: str | None
    status: RedriveStatus
    detail: str = ""
    edited: bool = False
    valid: bool = True
    new_message_id: str | None = None
    record: str | None = None  # the redrive run's partition in the audit trail (`REDRIVE#<run id>`)
    errors: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "queue": self.queue,
            "target": self.target,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "status": self.status,
            "detail": self.detail,
            "edited": self.edited,
            "valid": self.valid,
            "new_message_id": self.new_message_id,
            "record": self.record,
            "errors": self.errors,
        }


@dataclass
class RedriveRun:
    """One `concord dlq redrive`: who, from which DLQ to which queue, selected how."""

    sqs: Any
    stores: StageStores
    dlq: QueueRef
    target: QueueRef
    actor: Actor
    filter_text: str | None = None
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    clock: Clock = utc_now

    @property
    def record_pk(self) -> str:
        return RedriveKey.move_task(self.run_id).pk  # every item of the run shares it

    def _outcome(self, message: DlqMessage, status: RedriveStatus, **kwargs: Any) -> RedriveOutcome:
        return RedriveOutcome(
            message.message_id,
            self.dlq.name,
            self.target.name,
            message.event_id,
            message.event_type,
            status,
            **kwargs,
        )

    # -- the audit record ---------------------------------------------------------------

    def _start_record(self, message: DlqMessage, after: str, edited: bool) -> None:
        record = RedriveRecord(
            run_id=self.run_id,
            target=RedriveKey.message(self.run_id, message.message_id).target,
            record_type="redrive",
            stage=self.stores.names.stage,
            who=self.actor.who,
            os_user=self.actor.os_user,
            started_at=self.clock(),
            status="sending",
            dlq=self.dlq.name,
            target_queue=self.target.name,
            dlq_message_id=message.message_id,
            event_id=message.event_id,
            event_type=message.event_type,
            filter=self.filter_text,
            edited=edited,
            before=_recorded_body(message.body),
            after=_recorded_body(after),
            receive_count=message.receive_count,
        )
        start_redrive_record(self.stores, record)

    def _safe_update(self, message: DlqMessage, **values: Any) -> None:
        """A status update after the first write; failing it must not stop the redrive."""
        try:
            with self.stores.audit_call("dynamodb:UpdateItem"):
                self.stores.audit.update_redrive(RedriveKey.message(self.run_id, message.message_id), **values)
        except OperationsError:
            pass

    # -- selection ---------------------------------------------------------------------

    def claim(self, select: Selector, limit: int | None) -> tuple[list[DlqMessage], list[str]]:
        """(selected messages, hidden from others; handles of the others seen, to release)."""
        selected: list[DlqMessage] = []
        others: list[str] = []
        seen: set[str] = set()
        try:
            while limit is None or len(selected) < limit:
                batch = receive(self.sqs, self.dlq, CLAIM_VISIBILITY_SECONDS)
                if not batch:
                    break
                for raw in batch:
                    message = DlqMessage.from_sqs(self.dlq.name, raw)
                    if message.message_id in seen:  # SQS may deliver a message twice
                        others.append(message.receipt_handle)
                        continue
                    seen.add(message.message_id)
                    if (limit is None or len(selected) < limit) and select(message):
                        selected.append(message)
                    else:
                        others.append(message.receipt_handle)
        except BaseException:
            release(self.sqs, self.dlq, [m.receipt_handle for m in selected] + others)
            raise
        return oldest_first(selected), others

    def plan(self, select: Selector, limit: int | None, edit: Editor | None = None) -> list[RedriveOutcome]:
        """--dry-run: what would be redriven, from a peek; nothing is sent, deleted or recorded."""
        outcomes: list[RedriveOutcome] = []
        for message in peek_messages(self.sqs, self.dlq):
            if limit is not None and len(outcomes) >= limit:
                break
            if not select(message):
                continue
            if edit is not None:
                result = edit(message)
                if result.errors:
                    outcomes.append(
                        self._outcome(
                            message,
                            "refused",
                            edited=True,
                            valid=False,
                            errors=result.errors,
                            detail="the edited event fails its schema",
                        )
                    )
                    continue
                outcomes.append(
                    self._outcome(
                        message, "would_redrive", edited=True, detail=f"edited, would be sent to {self.target.name}"
                    )
                )
                continue
            errors = message.validation_errors()
            outcomes.append(
                self._outcome(
                    message,
                    "would_redrive",
                    valid=not errors,
                    errors=errors,
                    detail=f"would be sent to {self.target.name}"
                    + (" (the event fails its schema: it may fail again)" if errors else ""),
                )
            )
        return outcomes

    # -- the redrive -------------------------------------------------------------------

    def run(self, select: Selector, limit: int | None, edit: Editor | None = None) -> list[RedriveOutcome]:
        selected, others = self.claim(select, limit)
        release(self.sqs, self.dlq, others)
        outcomes: list[RedriveOutcome] = []
        pending = {m.message_id: m for m in selected}
        try:
            for message in selected:
                outcomes.append(self._redrive_one(message, edit))
                if outcomes[-1].status == "redriven":
                    pending.pop(message.message_id, None)
        finally:
            release(self.sqs, self.dlq, [m.receipt_handle for m in pending.values()])
        return outcomes

    def _redrive_one(self, message: DlqMessage, edit: Editor | None) -> RedriveOutcome:
        after, edited = message.body, False
        if edit is not None:
            self._hide(message, EDIT_VISIBILITY_SECONDS)
            result = edit(message)
            if result.errors or result.body is None:
                return self._outcome(
                    message,
                    "refused",
                    edited=True,
                    valid=False,
                    errors=result.errors,
                    detail="the edited event fails its schema; the message stays in the DLQ",
                )
            after, edited = result.body, True
        errors = [] if edited else message.validation_errors()

        # Recorded before it is sent: no redrive without its record.
        self._start_record(message, after, edited)
        try:
            with aws_call(f"queue {self.target.name}", "sqs:SendMessage"):
                sent = self.sqs.send_message(
                    QueueUrl=self.target.url, MessageBody=after, MessageAttributes=_resend_attributes(message)
                )
        except OperationsError as error:
            self._safe_update(message, status="send_failed", error=str(error), finished_at=self.clock())
            return self._outcome(
                message,
                "failed",
                edited=edited,
                valid=not errors,
                errors=errors,
                record=self.record_pk,
                detail=f"not sent, the message stays in the DLQ: {error}",
            )
        new_id = sent["MessageId"]
        self._safe_update(message, status="sent", new_message_id=new_id, sent_at=self.clock())
        try:
            with aws_call(f"queue {self.dlq.name}", "sqs:DeleteMessage"):
                self.sqs.delete_message(QueueUrl=self.dlq.url, ReceiptHandle=message.receipt_handle)
        except OperationsError as error:
            self._safe_update(message, status="delete_failed", error=str(error), finished_at=self.clock())
            return self._outcome(
                message,
                "failed",
                edited=edited,
                valid=not errors,
                errors=errors,
                new_message_id=new_id,
                record=self.record_pk,
                detail=f"resent as {new_id} but still in the DLQ (consumers dedupe on the event id): {error}",
            )
        self._safe_update(message, status="completed", finished_at=self.clock())
        return self._outcome(
            message,
            "redriven",
            edited=edited,
            valid=not errors,
            errors=errors,
            new_message_id=new_id,
            record=self.record_pk,
            detail=f"sent to {self.target.name} as {new_id}",
        )

    def _hide(self, message: DlqMessage, seconds: int) -> None:
        with suppress(BotoCoreError, ClientError):
            self.sqs.change_message_visibility(
                QueueUrl=self.dlq.url, ReceiptHandle=message.receipt_handle, VisibilityTimeout=seconds
            )


# --------------------------------------------------------------------------- whole-queue moves


def start_message_move_task(sqs: Any, dlq: QueueRef, target: QueueRef) -> str:
    """AWS only: let SQS move a whole DLQ back to its source queue; returns the task handle."""
    arns = {queue.name: queue_attributes(sqs, queue)["QueueArn"] for queue in (dlq, target)}
    with aws_call(f"queue {dlq.name}", "sqs:StartMessageMoveTask"):
        return str(
            sqs.start_message_move_task(SourceArn=arns[dlq.name], DestinationArn=arns[target.name])["TaskHandle"]
        )


def record_move_task(
    stores: StageStores, actor: Actor, dlq: QueueRef, target: QueueRef, handle: str, depth: int, now: dt.datetime
) -> str:
    """Record a started move task (`REDRIVE#<run id>` / `MOVE_TASK`); returns the run's partition."""
    key = RedriveKey.move_task(uuid.uuid4().hex)
    start_redrive_record(
        stores,
        RedriveRecord(
            run_id=key.run_id,
            target=key.target,
            record_type="redrive",
            stage=stores.names.stage,
            who=actor.who,
            os_user=actor.os_user,
            started_at=now,
            status="move_task_started",
            dlq=dlq.name,
            target_queue=target.name,
            task_handle=handle,
            messages=depth,
        ),
    )
    return key.pk


def start_redrive_record(stores: StageStores, record: RedriveRecord) -> None:
    """Write a redrive's record before it acts; refused (nothing done) when the key is taken."""
    with stores.audit_call("dynamodb:PutItem"):
        written = stores.audit.start_redrive(record)
    if not written:
        raise OperationsError(f"redrive {record.run_id} ({record.target}) is already recorded; nothing redriven")
