"""What an operator needs from AWS: open exceptions, DLQ messages, selective redrive, lineage, status.

Plain functions over boto3 clients (SQS, DynamoDB, Step Functions, STS), so the same code
runs against a deployed stage and against the local stack; `concord.cli.ops` renders them.

Resource names follow the CDK app's convention, `concord-<stage>-<name>` (`Names`).

Every AWS call goes through `aws_call(resource, permission)`, which turns botocore's errors
into an `OperationsError` naming the resource and the IAM action that was refused or failed,
so "access denied" never reaches an operator without saying to what.

Decisions (see docs/operations.md):
  - A sync exception (a SyncExceptionRaised event in the audit trail) is *open* until a run
    of the same saga trigger SUCCEEDED after it was raised: a SUCCEEDED execution of the
    flow's state machine whose input event id is the exception's `caused_by_event_id` and
    which stopped at or after the exception's `occurred_at`. Executions are named after
    their trigger (`<event id>` or `<event id>-redrive-<n>`), so candidates are found by
    name and confirmed by their input (one DescribeExecution per candidate).
  - DLQ messages are peeked with VisibilityTimeout=0 and never deleted; a queue holding more
    than one receive's sampling can show is swept (received hidden, then released at once).
  - A redrive claims each message (hides it), writes a `REDRIVE#<run id>` item to the audit
    trail *before* sending, sends it to the source queue, and only then deletes it from the
    DLQ; the item's status follows each step, so a redrive is never unrecorded and a message
    is never lost.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    ConnectTimeoutError,
    ReadTimeoutError,
)
from pydantic import ValidationError

from ..events import parse_event
from ..events.types import Severity
from ..sync.ids import canonical_id
from .sagas import REDRIVE_SEPARATOR

# --------------------------------------------------------------------------- names


@dataclass(frozen=True)
class Names:
    """Physical names of one stage's resources (infra/concord_infra: `concord-<stage>-<name>`)."""

    stage: str

    @property
    def prefix(self) -> str:
        return f"concord-{self.stage}"

    def queue(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    def dlq(self, name: str) -> str:
        return f"{self.queue(name)}-dlq"

    @property
    def audit_table(self) -> str:
        return f"{self.prefix}-audit"

    @property
    def xref_table(self) -> str:
        return f"{self.prefix}-xref"

    @property
    def checkpoints_table(self) -> str:
        return f"{self.prefix}-checkpoints"

    @property
    def idempotency_table(self) -> str:
        return f"{self.prefix}-idempotency"

    def function(self, folder: str) -> str:
        """A function by its folder under functions/ (infra names it concord-<stage>-<folder>)."""
        return f"{self.prefix}-{folder.replace('_', '-')}"

    def state_machine(self, flow: str) -> str:
        return f"{self.prefix}-{flow.replace('_', '-')}"

    @property
    def bus(self) -> str:
        return self.prefix

    @property
    def archive(self) -> str:
        return f"{self.prefix}-events"

    def short(self, queue_name: str) -> str:
        """`concord-dev-audit-trail-dlq` → `audit-trail-dlq`."""
        return queue_name.removeprefix(f"{self.prefix}-")

    def resolve_dlq(self, given: str) -> str:
        """A DLQ named by the operator in any of its forms: full name, `audit-trail-dlq`, `audit-trail`."""
        name = given if given.startswith(f"{self.prefix}-") else self.queue(given)
        return name if name.endswith(DLQ_SUFFIX) else f"{name}{DLQ_SUFFIX}"


DLQ_SUFFIX = "-dlq"
DLQ_SEVERITY_DEFAULT = Severity.WARNING
# The flow behind each consumer queue and the business severity of its DLQ alarm
# (infra/concord_infra: EventConsumer(severity=...) and ChangeCapture's DLQ alarm).
# The severity each queue's DLQ alarm has in infra (tests/infra checks they agree).
QUEUE_FLOWS: dict[str, tuple[str, Severity]] = {
    "audit-trail": ("audit_trail", Severity.WARNING),
    "q2c-start": ("quote_to_cash", Severity.WARNING),
    "poll-changes": ("change_capture", Severity.WARNING),
    "post-billable": ("billing", Severity.HIGH),
    "propagate-financials": ("financial_status", Severity.HIGH),
    "sync-customer": ("customer_master", Severity.WARNING),
    "sync-project-terms": ("project_terms", Severity.WARNING),
    "enrich-changes": ("enrichment", Severity.WARNING),
    "reconcile": ("reconciliation", Severity.WARNING),
}
SEVERITY_RANK = {Severity.CRITICAL: 0, Severity.HIGH: 1, Severity.WARNING: 2, Severity.INFO: 3}


def source_queue_of(dlq_name: str) -> str:
    """The queue a DLQ belongs to: its name without `-dlq`."""
    return dlq_name.removesuffix(DLQ_SUFFIX)


def flow_of_queue(names: Names, queue_name: str) -> tuple[str, Severity]:
    base = names.short(source_queue_of(queue_name))
    return QUEUE_FLOWS.get(base, (base.replace("-", "_"), DLQ_SEVERITY_DEFAULT))


# --------------------------------------------------------------------------- errors


class OperationsError(RuntimeError):
    """An AWS call failed; the message names the resource and the permission or problem."""


_ACCESS_DENIED = {
    "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError",
    "AuthorizationErrorException", "UnauthorizedAccess", "KMS.AccessDeniedException",
    "AWS.SimpleQueueService.AccessDenied",
}
_BAD_CREDENTIALS = {
    "ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException",
    "SignatureDoesNotMatch", "InvalidSignatureException", "MissingAuthenticationToken",
    "IncompleteSignature", "InvalidAccessKeyId",
}
_NOT_FOUND = {
    "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", "ResourceNotFoundException",
    "StateMachineDoesNotExist", "ExecutionDoesNotExist",
}


@contextmanager
def aws_call(resource: str, permission: str) -> Iterator[None]:
    """Translate botocore errors raised inside into an OperationsError naming what failed."""
    try:
        yield
    except ClientError as error:
        details = error.response.get("Error", {})
        code, message = str(details.get("Code", "")), str(details.get("Message", ""))
        if code in _ACCESS_DENIED or "not authorized" in message.lower():
            raise OperationsError(
                f"access denied to {resource}: the caller lacks {permission} ({code}: {message})"
            ) from error
        if code in _BAD_CREDENTIALS:
            raise OperationsError(
                f"AWS refused the credentials for {permission} on {resource} ({code}): "
                "refresh them or choose another --profile"
            ) from error
        if code in _NOT_FOUND:
            raise OperationsError(
                f"{resource} does not exist ({code}); is the stage deployed in this account and region?"
            ) from error
        raise OperationsError(f"{permission} on {resource} failed: {code}: {message}") from error
    except NoCredentialsError as error:
        raise OperationsError(
            f"no AWS credentials for {permission} on {resource}: pass --profile or configure credentials"
        ) from error
    except (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError) as error:
        endpoint = getattr(error, "kwargs", {}).get("endpoint_url", "the endpoint")
        raise OperationsError(
            f"cannot reach {endpoint} for {permission} on {resource}: network down, wrong region, "
            "or (with --local) the local stack is not running"
        ) from error
    except BotoCoreError as error:
        raise OperationsError(f"{permission} on {resource} failed: {error}") from error


# --------------------------------------------------------------------------- DynamoDB helpers

_DESERIALIZER = TypeDeserializer()
_SERIALIZER = TypeSerializer()


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _DESERIALIZER.deserialize(value) for key, value in item.items()}


def _typed(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _SERIALIZER.serialize(value) for key, value in item.items() if value is not None}


def scan_items(dynamodb: Any, table: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    with aws_call(f"table {table}", "dynamodb:Scan"):
        for page in dynamodb.get_paginator("scan").paginate(TableName=table, **kwargs):
            for item in page["Items"]:
                yield _plain(item)


def query_items(dynamodb: Any, table: str, pk: str, sk_prefix: str | None = None) -> list[dict[str, Any]]:
    condition, values = "pk = :pk", {":pk": {"S": pk}}
    if sk_prefix:
        condition += " AND begins_with(sk, :sk)"
        values[":sk"] = {"S": sk_prefix}
    items: list[dict[str, Any]] = []
    with aws_call(f"table {table}", "dynamodb:Query"):
        for page in dynamodb.get_paginator("query").paginate(
            TableName=table, KeyConditionExpression=condition, ExpressionAttributeValues=values
        ):
            items.extend(_plain(item) for item in page["Items"])
    return items


def _parse_time(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


# --------------------------------------------------------------------------- queues


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
        return sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["All"])["Attributes"]


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


PEEK_QUIET_ROUNDS = 2
SWEEP_VISIBILITY_SECONDS = 30
CLAIM_VISIBILITY_SECONDS = 300
EDIT_VISIBILITY_SECONDS = 3600


def _receive(sqs: Any, queue: QueueRef, visibility: int) -> list[dict[str, Any]]:
    with aws_call(f"queue {queue.name}", "sqs:ReceiveMessage"):
        return sqs.receive_message(
            QueueUrl=queue.url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            VisibilityTimeout=visibility,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])


def release(sqs: Any, queue: QueueRef, handles: Iterable[str]) -> None:
    """Make claimed messages visible again at once (best effort: they reappear anyway)."""
    handles = list(handles)
    for start in range(0, len(handles), 10):
        entries = [
            {"Id": str(n), "ReceiptHandle": handle, "VisibilityTimeout": 0}
            for n, handle in enumerate(handles[start : start + 10])
        ]
        try:
            sqs.change_message_visibility_batch(QueueUrl=queue.url, Entries=entries)
        except (BotoCoreError, ClientError):
            pass


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
        new = [m for m in _receive(sqs, queue, 0) if m["MessageId"] not in seen]
        for message in new:
            seen[message["MessageId"]] = DlqMessage.from_sqs(queue.name, message)
        quiet = 0 if new else quiet + 1
    visible = int(queue_attributes(sqs, queue).get("ApproximateNumberOfMessages", 0))
    if len(seen) < visible and (limit is None or len(seen) < limit):
        swept: list[str] = []
        try:
            while batch := _receive(sqs, queue, SWEEP_VISIBILITY_SECONDS):
                swept.extend(m["ReceiptHandle"] for m in batch)
                for message in batch:
                    seen.setdefault(message["MessageId"], DlqMessage.from_sqs(queue.name, message))
                if limit is not None and len(seen) >= limit:
                    break
        finally:
            release(sqs, queue, swept)
    messages = sorted(seen.values(), key=lambda m: (m.sent_at or dt.datetime.max.replace(tzinfo=dt.UTC)))
    return messages[:limit] if limit is not None else messages


def find_dlq_message(sqs: Any, queues: Iterable[QueueRef], wanted: str) -> DlqMessage | None:
    """A DLQ message by its message id, or by the id of the canonical event it carries."""
    for queue in queues:
        for message in peek_messages(sqs, queue):
            if wanted in (message.message_id, message.event_id):
                return message
    return None


# --------------------------------------------------------------------------- audit trail


def failures_of(dynamodb: Any, audit_table: str, message_id: str) -> list[dict[str, Any]]:
    """The failed attempts the consumers recorded for one queue message, first first."""
    items = query_items(dynamodb, audit_table, f"MESSAGE#{message_id}", "FAILURE#")
    return sorted(items, key=lambda i: (str(i.get("failed_at", "")), str(i["sk"])))


def _event_record(item: dict[str, Any]) -> dict[str, Any]:
    detail = item.get("detail")
    try:
        parsed = json.loads(detail) if isinstance(detail, str) else (detail or {})
    except json.JSONDecodeError:
        parsed = {}
    return {**item, "detail": parsed}


def audit_events(
    dynamodb: Any, audit_table: str, *, event_types: Iterable[str] | None = None, correlation_id: str | None = None
) -> list[dict[str, Any]]:
    """Canonical events recorded in the audit trail (a filtered scan), oldest first."""
    conditions, values = ["begins_with(pk, :event)"], {":event": {"S": "EVENT#"}}
    if event_types is not None:
        types = sorted(set(event_types))
        placeholders = [f":t{n}" for n in range(len(types))]
        conditions.append(f"event_type IN ({', '.join(placeholders)})")
        values |= {p: {"S": t} for p, t in zip(placeholders, types, strict=True)}
    if correlation_id is not None:
        conditions.append("correlation_id = :c")
        values[":c"] = {"S": correlation_id}
    items = scan_items(
        dynamodb, audit_table, FilterExpression=" AND ".join(conditions), ExpressionAttributeValues=values
    )
    return sorted((_event_record(i) for i in items), key=lambda r: str(r.get("occurred_at", "")))


def redrive_records(
    dynamodb: Any, audit_table: str, *, event_id: str | None = None, message_id: str | None = None
) -> list[dict[str, Any]]:
    """REDRIVE items of one event or one DLQ message (or all), oldest first."""
    conditions, values = ["begins_with(pk, :r)"], {":r": {"S": "REDRIVE#"}}
    if event_id is not None and message_id is not None:
        conditions.append("(event_id = :e OR dlq_message_id = :m)")
        values |= {":e": {"S": event_id}, ":m": {"S": message_id}}
    elif event_id is not None:
        conditions.append("event_id = :e")
        values[":e"] = {"S": event_id}
    elif message_id is not None:
        conditions.append("dlq_message_id = :m")
        values[":m"] = {"S": message_id}
    items = scan_items(
        dynamodb, audit_table, FilterExpression=" AND ".join(conditions), ExpressionAttributeValues=values
    )
    return sorted(items, key=lambda i: str(i.get("started_at", "")))


# --------------------------------------------------------------------------- sync exceptions


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
    def from_audit(cls, record: dict[str, Any]) -> SyncException:
        detail = record["detail"]
        data = detail.get("data", {})
        occurred = _parse_time(detail.get("occurred_at") or record.get("occurred_at"))
        try:
            severity = Severity(data.get("severity", DLQ_SEVERITY_DEFAULT))
        except ValueError:
            severity = DLQ_SEVERITY_DEFAULT
        return cls(
            event_id=str(detail.get("id") or record["pk"].removeprefix("EVENT#")),
            flow=str(data.get("flow", "unknown")),
            step=str(data.get("step", "unknown")),
            severity=severity,
            error_class=str(data.get("error_class", "unknown")),
            reason=str(data.get("reason", "")),
            caused_by_event_id=data.get("caused_by_event_id"),
            occurred_at=occurred or dt.datetime.min.replace(tzinfo=dt.UTC),
            correlation_id=detail.get("correlation_id"),
            legal_entity=detail.get("legal_entity"),
            records=tuple(
                (str(r.get("system")), str(r.get("record_type")), str(r.get("record_id")))
                for r in data.get("records", [])
            ),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id, "flow": self.flow, "step": self.step, "severity": self.severity.value,
            "error_class": self.error_class, "reason": self.reason, "caused_by_event_id": self.caused_by_event_id,
            "occurred_at": self.occurred_at.isoformat(), "correlation_id": self.correlation_id,
            "legal_entity": self.legal_entity,
            "records": [{"system": s, "record_type": t, "record_id": i} for s, t, i in self.records],
        }


@dataclass(frozen=True)
class SuccessfulRun:
    """A SUCCEEDED saga execution and the trigger event id its input carries."""

    trigger_event_id: str
    execution_name: str
    execution_arn: str
    stopped_at: dt.datetime | None


def trigger_of_execution(name: str) -> str:
    """`<event id>` or `<event id>-redrive-<n>` → `<event id>` (concord.aws.sagas)."""
    return name.split(REDRIVE_SEPARATOR)[0]


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
            run for run in by_trigger.get(exception.caused_by_event_id or "", [])
            if run.stopped_at is None or run.stopped_at >= exception.occurred_at
        ]
        if closing:
            closed[exception.event_id] = min(closing, key=lambda r: r.stopped_at or exception.occurred_at)
        else:
            still_open.append(exception)
    return sorted(still_open, key=lambda e: e.occurred_at), closed


def state_machine_arns(sfn: Any, names: Names) -> dict[str, str]:
    """The stage's state machines, name → ARN."""
    found = {}
    with aws_call("state machines", "states:ListStateMachines"):
        for page in sfn.get_paginator("list_state_machines").paginate():
            for machine in page["stateMachines"]:
                if machine["name"].startswith(f"{names.prefix}-"):
                    found[machine["name"]] = machine["stateMachineArn"]
    return found


def executions(sfn: Any, state_machine_arn: str, status: str | None = None) -> list[dict[str, Any]]:
    kwargs: dict[str, Any] = {"stateMachineArn": state_machine_arn}
    if status:
        kwargs["statusFilter"] = status
    found: list[dict[str, Any]] = []
    with aws_call(f"state machine {state_machine_arn.rsplit(':', 1)[-1]}", "states:ListExecutions"):
        for page in sfn.get_paginator("list_executions").paginate(**kwargs):
            found.extend(page["executions"])
    return found


def successful_runs(sfn: Any, state_machine_arn: str, trigger_ids: set[str]) -> list[SuccessfulRun]:
    """SUCCEEDED executions whose input event id is one of `trigger_ids`.

    Candidates by name (executions are named after their trigger), confirmed by their input.
    """
    runs = []
    machine = state_machine_arn.rsplit(":", 1)[-1]
    for execution in executions(sfn, state_machine_arn, "SUCCEEDED"):
        if trigger_of_execution(execution["name"]) not in trigger_ids:
            continue
        with aws_call(f"execution {execution['name']} of {machine}", "states:DescribeExecution"):
            described = sfn.describe_execution(executionArn=execution["executionArn"])
        try:
            trigger = json.loads(described.get("input") or "{}").get("event", {}).get("id")
        except (json.JSONDecodeError, AttributeError):
            trigger = None
        if trigger in trigger_ids:
            runs.append(SuccessfulRun(
                trigger, execution["name"], execution["executionArn"],
                described.get("stopDate") or execution.get("stopDate"),
            ))
    return runs


def sync_exceptions(dynamodb: Any, audit_table: str) -> list[SyncException]:
    records = audit_events(dynamodb, audit_table, event_types=["SyncExceptionRaised"])
    return [SyncException.from_audit(r) for r in records]


def open_sync_exceptions(
    dynamodb: Any, sfn: Any, names: Names
) -> tuple[list[SyncException], dict[str, SuccessfulRun], list[str]]:
    """(open exceptions, closed ones and the run that closed each, notes for the operator)."""
    exceptions = sync_exceptions(dynamodb, names.audit_table)
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
            notes.append(f"no state machine {names.state_machine(flow)}: exceptions of flow {flow} cannot be "
                         "seen resolved and are listed as open")
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
            "kind": self.kind, "flow": self.flow, "severity": self.severity.value,
            "since": self.since.isoformat() if self.since else None,
            "age_seconds": round((now - self.since).total_seconds()) if self.since else None,
            "id": self.id, "what": self.what, "error_class": self.error_class, "reason": self.reason,
            **self.details,
        }


def exception_items(exceptions: Iterable[SyncException]) -> list[OpenItem]:
    return [
        OpenItem(
            "sync_exception", e.flow, e.severity, e.occurred_at, e.event_id, e.step, e.error_class, e.reason,
            {"caused_by_event_id": e.caused_by_event_id, "correlation_id": e.correlation_id,
             "records": [f"{s}:{t}:{i}" for s, t, i in e.records]},
        )
        for e in exceptions
    ]


def dlq_items(sqs: Any, dynamodb: Any, names: Names, queues: Iterable[QueueRef] | None = None) -> list[OpenItem]:
    items = []
    for queue in queues if queues is not None else stage_dlqs(sqs, names):
        flow, severity = flow_of_queue(names, queue.name)
        for message in peek_messages(sqs, queue):
            failures = failures_of(dynamodb, names.audit_table, message.message_id)
            last = failures[-1] if failures else {}
            items.append(OpenItem(
                "dlq_message", flow, severity, message.sent_at, message.message_id,
                message.event_type or "(not an event)", str(last.get("error_class", "unknown")),
                str(last.get("reason", message.message_attributes.get("ERROR_MESSAGE", {}).get("StringValue", "")
                              or "no failure recorded in the audit trail")),
                {"queue": queue.name, "event_id": message.event_id, "failed_attempts": len(failures)},
            ))
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


# --------------------------------------------------------------------------- redrive


@dataclass(frozen=True)
class Actor:
    """Who acts: the AWS caller identity (or the local stack) and the OS user behind it."""

    who: str
    os_user: str


def caller_identity(sts: Any) -> str:
    with aws_call("the caller identity", "sts:GetCallerIdentity"):
        return str(sts.get_caller_identity()["Arn"])


def event_validation_errors(event: dict[str, Any]) -> list[str]:
    """The canonical event's schema violations, one `where: what` line each ([] when valid)."""
    try:
        parse_event(event)
    except ValidationError as error:
        problems = []
        for problem in error.errors(include_url=False):
            location = list(problem["loc"])
            if location and location[0] == event.get("type"):
                location = location[1:]  # the discriminated union's tag
            where = ".".join(str(part) for part in location) or "(event)"
            message = "unknown event type" if problem["type"] == "union_tag_invalid" else problem["msg"]
            problems.append(f"{where}: {message}")
        return problems
    return []


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


# Attributes EventBridge adds to messages it could not deliver: they describe the DLQ visit.
_DLQ_ONLY_ATTRIBUTES = {"ERROR_CODE", "ERROR_MESSAGE", "RULE_ARN", "TARGET_ARN"}


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


RedriveStatus = Literal["would_redrive", "redriven", "refused", "failed"]


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
    record: str | None = None  # the REDRIVE item's pk
    errors: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id, "queue": self.queue, "target": self.target,
            "event_id": self.event_id, "event_type": self.event_type, "status": self.status,
            "detail": self.detail, "edited": self.edited, "valid": self.valid,
            "new_message_id": self.new_message_id, "record": self.record, "errors": self.errors,
        }


Selector = Callable[[DlqMessage], bool]
Editor = Callable[[DlqMessage], EditOutcome]

# The audit item keeps bodies up to this size in full (DynamoDB items are at most 400 KB).
MAX_RECORDED_BODY = 150_000


def _recorded_body(body: str) -> str:
    return body if len(body) <= MAX_RECORDED_BODY else body[:MAX_RECORDED_BODY] + "…[truncated]"


@dataclass
class RedriveRun:
    """One `concord dlq redrive`: who, from which DLQ to which queue, selected how."""

    sqs: Any
    dynamodb: Any
    names: Names
    dlq: QueueRef
    target: QueueRef
    actor: Actor
    filter_text: str | None = None
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    now: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))

    @property
    def record_pk(self) -> str:
        return f"REDRIVE#{self.run_id}"

    def _outcome(self, message: DlqMessage, status: RedriveStatus, **kwargs: Any) -> RedriveOutcome:
        return RedriveOutcome(
            message.message_id, self.dlq.name, self.target.name, message.event_id, message.event_type,
            status, **kwargs,
        )

    # -- the audit record ---------------------------------------------------------------

    def _start_record(self, message: DlqMessage, after: str, edited: bool) -> None:
        item = {
            "pk": self.record_pk,
            "sk": f"MESSAGE#{message.message_id}",
            "record_type": "redrive",
            "run_id": self.run_id,
            "stage": self.names.stage,
            "who": self.actor.who,
            "os_user": self.actor.os_user,
            "started_at": self.now().isoformat(),
            "dlq": self.dlq.name,
            "target_queue": self.target.name,
            "dlq_message_id": message.message_id,
            "event_id": message.event_id,
            "event_type": message.event_type,
            "filter": self.filter_text,
            "edited": edited,
            "before": _recorded_body(message.body),
            "after": _recorded_body(after),
            "receive_count": message.receive_count,
            "status": "sending",
        }
        with aws_call(f"table {self.names.audit_table}", "dynamodb:PutItem"):
            self.dynamodb.put_item(
                TableName=self.names.audit_table,
                Item=_typed(item),
                ConditionExpression="attribute_not_exists(pk)",
            )

    def _update_record(self, message: DlqMessage, **values: Any) -> None:
        values = {k: v for k, v in values.items() if v is not None}
        names = {f"#{k}": k for k in values}
        with aws_call(f"table {self.names.audit_table}", "dynamodb:UpdateItem"):
            self.dynamodb.update_item(
                TableName=self.names.audit_table,
                Key={"pk": {"S": self.record_pk}, "sk": {"S": f"MESSAGE#{message.message_id}"}},
                UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in values),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={f":{k}": _SERIALIZER.serialize(v) for k, v in values.items()},
            )

    # -- selection ---------------------------------------------------------------------

    def claim(self, select: Selector, limit: int | None) -> tuple[list[DlqMessage], list[str]]:
        """(selected messages, hidden from others; handles of the others seen, to release)."""
        selected: list[DlqMessage] = []
        others: list[str] = []
        seen: set[str] = set()
        try:
            while limit is None or len(selected) < limit:
                batch = _receive(self.sqs, self.dlq, CLAIM_VISIBILITY_SECONDS)
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
        selected.sort(key=lambda m: m.sent_at or dt.datetime.max.replace(tzinfo=dt.UTC))
        return selected, others

    def plan(self, select: Selector, limit: int | None, edit: Editor | None = None) -> list[RedriveOutcome]:
        """--dry-run: what would be redriven, from a peek; nothing is sent, deleted or recorded."""
        outcomes = []
        for message in peek_messages(self.sqs, self.dlq):
            if limit is not None and len(outcomes) >= limit:
                break
            if not select(message):
                continue
            if edit is not None:
                result = edit(message)
                if result.errors:
                    outcomes.append(self._outcome(message, "refused", edited=True, valid=False, errors=result.errors,
                                                  detail="the edited event fails its schema"))
                    continue
                outcomes.append(self._outcome(message, "would_redrive", edited=True,
                                              detail=f"edited, would be sent to {self.target.name}"))
                continue
            errors = message.validation_errors()
            outcomes.append(self._outcome(
                message, "would_redrive", valid=not errors, errors=errors,
                detail=f"would be sent to {self.target.name}"
                + (" (the event fails its schema: it may fail again)" if errors else ""),
            ))
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
                return self._outcome(message, "refused", edited=True, valid=False, errors=result.errors,
                                     detail="the edited event fails its schema; the message stays in the DLQ")
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
            self._safe_update(message, status="send_failed", error=str(error), finished_at=self.now().isoformat())
            return self._outcome(message, "failed", edited=edited, valid=not errors, errors=errors,
                                 record=self.record_pk, detail=f"not sent, the message stays in the DLQ: {error}")
        new_id = sent["MessageId"]
        self._safe_update(message, status="sent", new_message_id=new_id, sent_at=self.now().isoformat())
        try:
            with aws_call(f"queue {self.dlq.name}", "sqs:DeleteMessage"):
                self.sqs.delete_message(QueueUrl=self.dlq.url, ReceiptHandle=message.receipt_handle)
        except OperationsError as error:
            self._safe_update(message, status="delete_failed", error=str(error), finished_at=self.now().isoformat())
            return self._outcome(
                message, "failed", edited=edited, valid=not errors, errors=errors, new_message_id=new_id,
                record=self.record_pk,
                detail=f"resent as {new_id} but still in the DLQ (consumers dedupe on the event id): {error}",
            )
        self._safe_update(message, status="completed", finished_at=self.now().isoformat())
        return self._outcome(message, "redriven", edited=edited, valid=not errors, errors=errors,
                             new_message_id=new_id, record=self.record_pk,
                             detail=f"sent to {self.target.name} as {new_id}")

    def _hide(self, message: DlqMessage, seconds: int) -> None:
        try:
            self.sqs.change_message_visibility(
                QueueUrl=self.dlq.url, ReceiptHandle=message.receipt_handle, VisibilityTimeout=seconds
            )
        except (BotoCoreError, ClientError):
            pass

    def _safe_update(self, message: DlqMessage, **values: Any) -> None:
        """A status update after the first write; failing it must not stop the redrive."""
        try:
            self._update_record(message, **values)
        except OperationsError:
            pass


def start_message_move_task(sqs: Any, dlq: QueueRef, target: QueueRef) -> str:
    """AWS only: let SQS move a whole DLQ back to its source queue; returns the task handle."""
    arns = {}
    for queue in (dlq, target):
        arns[queue.name] = queue_attributes(sqs, queue)["QueueArn"]
    with aws_call(f"queue {dlq.name}", "sqs:StartMessageMoveTask"):
        return str(sqs.start_message_move_task(SourceArn=arns[dlq.name], DestinationArn=arns[target.name])["TaskHandle"])


def record_move_task(dynamodb: Any, names: Names, actor: Actor, dlq: QueueRef, target: QueueRef, handle: str,
                     depth: int, now: dt.datetime) -> str:
    run_id = uuid.uuid4().hex
    item = {
        "pk": f"REDRIVE#{run_id}", "sk": "MOVE_TASK", "record_type": "redrive", "run_id": run_id,
        "stage": names.stage, "who": actor.who, "os_user": actor.os_user, "started_at": now.isoformat(),
        "dlq": dlq.name, "target_queue": target.name, "task_handle": handle, "messages": depth,
        "status": "move_task_started",
    }
    with aws_call(f"table {names.audit_table}", "dynamodb:PutItem"):
        dynamodb.put_item(TableName=names.audit_table, Item=_typed(item))
    return f"REDRIVE#{run_id}"


# --------------------------------------------------------------------------- lineage


@dataclass(frozen=True)
class XrefLink:
    system: str
    record_id: str
    linked_by: str | None
    linked_at: str | None


def canonical_of(dynamodb: Any, xref_table: str, system: str, object_type: str, record_id: str) -> str | None:
    with aws_call(f"table {xref_table}", "dynamodb:GetItem"):
        item = dynamodb.get_item(
            TableName=xref_table, Key={"pk": {"S": f"REC#{system}#{object_type}#{record_id}"}, "sk": {"S": "CANON"}}
        ).get("Item")
    return _plain(item)["canonical_id"] if item else None


def xref_links(dynamodb: Any, xref_table: str, object_type: str, canonical: str) -> list[XrefLink]:
    items = query_items(dynamodb, xref_table, f"CANON#{object_type}#{canonical}", "SYS#")
    return [
        XrefLink(i["sk"].removeprefix("SYS#"), str(i.get("record_id")), i.get("linked_by"), i.get("linked_at"))
        for i in items
    ]


def payload_entities(event: dict[str, Any] | None) -> list[tuple[str, str, str]]:
    """(object type, system, record id) of the CRM records a payload names (for the xref)."""
    data = (event or {}).get("data")
    if not isinstance(data, dict):
        return []
    found = []
    if data.get("opportunity_id"):
        found.append(("project", "crm", str(data["opportunity_id"])))
    if data.get("account_id"):
        found.append(("customer", "crm", str(data["account_id"])))
    if data.get("project_id"):
        found.append(("project", "psa", str(data["project_id"])))
    return found


# --------------------------------------------------------------------------- trace

# `system:type` as an operator writes it → (canonical object type, record type in the xref)
RECORD_KINDS: dict[tuple[str, str], str] = {
    ("crm", "opportunity"): "project",
    ("crm", "project"): "project",
    ("crm", "account"): "customer",
    ("crm", "customer"): "customer",
    ("crm", "party"): "customer",
    ("erp", "customer"): "customer",
    ("erp", "party"): "customer",
    ("psa", "project"): "project",
    ("psa", "work"): "project",
}
OBJECT_TYPES = ("customer", "project")
# The system of record of customers and projects (deals): canonical ids derive from its ids.
AUTHORITY = "crm"


@dataclass(frozen=True)
class EntityReference:
    object_type: str
    canonical_id: str | None = None
    system: str | None = None
    record_id: str | None = None


def parse_entity_reference(text: str) -> EntityReference:
    """`customer-<uuid>`, `project-<uuid>` or `system:type:record id` (ValueError otherwise)."""
    text = text.strip()
    if text.count(":") >= 2:
        system, kind, record_id = text.split(":", 2)
        object_type = RECORD_KINDS.get((system.lower(), kind.lower()))
        if object_type is None or not record_id:
            known = ", ".join(f"{s}:{k}:ID" for s, k in RECORD_KINDS)
            raise ValueError(f"unknown record {text!r}; known forms: {known}")
        return EntityReference(object_type, None, system.lower(), record_id)
    object_type = text.split("-", 1)[0]
    if object_type in OBJECT_TYPES and "-" in text:
        return EntityReference(object_type, text)
    raise ValueError(f"{text!r} is neither a canonical id (customer-…, project-…) nor system:type:record_id")


# Which payload field names each system's record of an object, per event type.
_MENTIONS: dict[str, dict[str, list[tuple[str, str]]]] = {
    "customer": {
        "crm": [("AccountChanged", "account_id"), ("OpportunityClosedWon", "account_id")],
        "erp": [("ProjectActivated", "erp_customer_id"), ("InvoicePosted", "customer_id")],
    },
    "project": {
        "crm": [("OpportunityClosedWon", "opportunity_id"), ("ProjectActivated", "opportunity_id")],
        "psa": [
            ("ProjectActivated", "project_id"), ("ContractChanged", "project_id"), ("StaffingChanged", "project_id"),
            ("TimeApproved", "project_id"), ("ExpenseApproved", "project_id"), ("InvoicePosted", "project_id"),
        ],
    },
}


@dataclass
class Trace:
    reference: str
    object_type: str
    canonical_id: str | None
    links: list[XrefLink]
    events: list[dict[str, Any]]
    related: list[str]
    name: str | None
    derived: bool = False  # canonical id computed from the CRM id; the registry has no link yet
    # what the flows did to the entity's records, from the registry: at, system, record_id,
    # event_id, event_type, action
    lineage: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return json.loads(json.dumps({
            "reference": self.reference, "object_type": self.object_type, "canonical_id": self.canonical_id,
            "canonical_id_derived": self.derived, "name": self.name,
            "records": {link.system: {"record_id": link.record_id, "linked_by": link.linked_by,
                                      "linked_at": link.linked_at} for link in self.links},
            "events": self.events, "related": self.related, "lineage": self.lineage,
        }, default=_json_default))


def _mentions(record: dict[str, Any], object_type: str, ids: dict[str, str], canonical: str | None) -> list[str]:
    """How an audit-trail event concerns the entity: which of its records it names."""
    detail = record.get("detail") or {}
    data = detail.get("data") or {}
    event_type = detail.get("type") or record.get("event_type")
    found = []
    for system, fields in _MENTIONS.get(object_type, {}).items():
        for mentioned_type, field_name in fields:
            if event_type == mentioned_type and system in ids and str(data.get(field_name)) == ids[system]:
                found.append(f"{system}:{ids[system]}")
    if event_type == "SyncExceptionRaised":
        for ref in data.get("records", []):
            system = str(ref.get("system"))
            if ids.get(system) == str(ref.get("record_id")) and ref.get("record_type") in (object_type, "party", "work"):
                found.append(f"{system}:{ids[system]}")
    if event_type == "DriftDetected" and canonical and data.get("canonical_id") == canonical:
        found.append(canonical)
    return sorted(set(found))


def _summary(detail: dict[str, Any]) -> str:
    data = detail.get("data") or {}
    event_type = detail.get("type")
    if event_type == "SyncExceptionRaised":
        return f"{data.get('step')} {data.get('error_class')}/{data.get('severity')}: {str(data.get('reason', ''))[:160]}"
    if event_type == "DriftDetected":
        return f"{data.get('field')} differs (authority {data.get('authority')})"
    amount = data.get("amount") or data.get("budget") or data.get("total")
    parts = [str(data[k]) for k in ("name", "number") if data.get(k)]
    if isinstance(amount, dict):
        parts.append(f"{amount.get('amount')} {amount.get('currency')}")
    if data.get("changed_fields"):
        parts.append("changed " + ", ".join(map(str, data["changed_fields"])))
    return " · ".join(parts)


def trace_entity(dynamodb: Any, names: Names, reference: EntityReference, text: str) -> Trace:
    canonical, derived = canonical_of_reference(dynamodb, names, reference)
    links = xref_links(dynamodb, names.xref_table, reference.object_type, canonical) if canonical else []
    ids = {link.system: link.record_id for link in links}
    if reference.system and reference.record_id:
        ids.setdefault(reference.system, reference.record_id)

    linked_by: dict[str, list[str]] = defaultdict(list)
    for link in links:
        if link.linked_by:
            linked_by[link.linked_by].append(f"{link.system}:{link.record_id}")
    events = []
    matched: set[str] = set()
    name = None
    related: set[str] = set()
    records = audit_events(dynamodb, names.audit_table)
    for record in records:
        detail = record.get("detail") or {}
        event_id = str(detail.get("id") or record["pk"].removeprefix("EVENT#"))
        mentions = _mentions(record, reference.object_type, ids, canonical)
        if not mentions and event_id not in linked_by:
            continue
        matched.add(event_id)
        role = "created · linked " + ", ".join(sorted(linked_by[event_id])) if event_id in linked_by else "changed"
        if detail.get("type") == "SyncExceptionRaised":
            role = "exception"
        data = detail.get("data") or {}
        if reference.object_type == "customer" and detail.get("type") in ("AccountChanged", "OpportunityClosedWon"):
            name = data.get("name") if detail.get("type") == "AccountChanged" else name
            if detail.get("type") == "OpportunityClosedWon" and data.get("opportunity_id"):
                related.add(canonical_id("project", "crm", str(data["opportunity_id"])))
        if reference.object_type == "project" and detail.get("type") == "OpportunityClosedWon":
            name = data.get("name") or name
            if data.get("account_id"):
                related.add(canonical_id("customer", "crm", str(data["account_id"])))
        events.append({
            "occurred_at": detail.get("occurred_at") or record.get("occurred_at"),
            "type": detail.get("type") or record.get("event_type"),
            "source_system": detail.get("source_system") or record.get("source_system"),
            "event_id": event_id,
            "role": role,
            "records": mentions,
            "summary": _summary(detail),
            "correlation_id": detail.get("correlation_id"),
        })
    # Exceptions raised for a trigger that concerns the entity, even if they name no record.
    for record in records:
        detail = record.get("detail") or {}
        data = detail.get("data") or {}
        event_id = str(detail.get("id"))
        if detail.get("type") == "SyncExceptionRaised" and event_id not in matched and data.get("caused_by_event_id") in matched:
            events.append({
                "occurred_at": detail.get("occurred_at"), "type": "SyncExceptionRaised",
                "source_system": detail.get("source_system"), "event_id": event_id, "role": "exception",
                "records": [], "summary": _summary(detail), "correlation_id": detail.get("correlation_id"),
            })
    events.sort(key=lambda e: str(e.get("occurred_at") or ""))
    lineage = entity_lineage(dynamodb, names.xref_table, reference.object_type, canonical) if canonical else []
    return Trace(text, reference.object_type, canonical, links, events, sorted(related), name, derived, lineage)


def canonical_of_reference(dynamodb: Any, names: Names, reference: EntityReference) -> tuple[str | None, bool]:
    """The canonical id a reference names (None when the registry links no such record), and
    whether it was derived from the authority's id rather than found in the registry."""
    if reference.canonical_id or not (reference.system and reference.record_id):
        return reference.canonical_id, False
    canonical = canonical_of(dynamodb, names.xref_table, reference.system, reference.object_type, reference.record_id)
    if canonical is None and reference.system == AUTHORITY:
        # Canonical ids derive from the authority's id (concord.sync.ids): known before any link.
        return canonical_id(reference.object_type, AUTHORITY, reference.record_id), True
    return canonical, False


def resolve_entity(dynamodb: Any, names: Names, text: str) -> tuple[str, str]:
    """(object type, canonical id) of an operator's reference (see parse_entity_reference)."""
    reference = parse_entity_reference(text)
    canonical, _ = canonical_of_reference(dynamodb, names, reference)
    if canonical is None:
        raise OperationsError(f"{text}: no canonical entity links {reference.system} record {reference.record_id}")
    return reference.object_type, canonical


def entity_lineage(dynamodb: Any, xref_table: str, object_type: str, canonical: str) -> list[dict[str, Any]]:
    """The lineage entries the flows wrote for an entity (concord.aws.xref), oldest first."""
    items = query_items(dynamodb, xref_table, f"CANON#{object_type}#{canonical}", "LINEAGE#")
    fields = ("at", "system", "record_id", "event_id", "event_type", "action")
    return sorted(({k: item.get(k) for k in fields} for item in items), key=lambda e: str(e["at"]))


# --------------------------------------------------------------------------- status


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
            "name": self.name, "kind": self.kind, "flow": self.flow, "severity": self.severity.value,
            "visible": self.visible, "in_flight": self.in_flight, "delayed": self.delayed,
            "oldest_age_seconds": self.oldest_age_seconds, "alarm": self.alarming,
        }


def queue_statuses(sqs: Any, names: Names, now: dt.datetime) -> list[QueueStatus]:
    """Consumer queues (those with a redrive policy) and DLQs; never peeks a consumer queue."""
    statuses = []
    for queue in stage_queues(sqs, names):
        attributes = queue_attributes(sqs, queue)
        is_dlq = queue.name.endswith(DLQ_SUFFIX)
        if not is_dlq and "RedrivePolicy" not in attributes:
            continue  # not a consumer queue (e.g. the local bus tap)
        flow, severity = flow_of_queue(names, queue.name)
        oldest = None
        if is_dlq and int(attributes.get("ApproximateNumberOfMessages", 0)):
            sent = [m.sent_at for m in peek_messages(sqs, queue) if m.sent_at]
            oldest = round((now - min(sent)).total_seconds()) if sent else None
        statuses.append(QueueStatus(
            queue.name, "dlq" if is_dlq else "queue", flow, severity,
            int(attributes.get("ApproximateNumberOfMessages", 0)),
            int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
            int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
            oldest,
        ))
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
            "state_machine": self.state_machine, "running": self.running,
            "oldest_running_since": self.oldest_running_since.isoformat() if self.oldest_running_since else None,
            "succeeded": self.succeeded, "failed": self.failed,
            "unresolved_failures": [
                {**u, "started_at": u["started_at"].isoformat() if u.get("started_at") else None} for u in self.unresolved
            ],
        }


FAILED_STATUSES = ("FAILED", "TIMED_OUT", "ABORTED")


def saga_statuses(sfn: Any, names: Names) -> list[SagaStatus]:
    """Per state machine: running, failed, and failures no later run of their trigger fixed (by name)."""
    statuses = []
    for name, arn in sorted(state_machine_arns(sfn, names).items()):
        everything = executions(sfn, arn)
        running = [e for e in everything if e["status"] == "RUNNING"]
        succeeded = [e for e in everything if e["status"] == "SUCCEEDED"]
        failed = [e for e in everything if e["status"] in FAILED_STATUSES]
        last_success: dict[str, dt.datetime] = {}
        for execution in succeeded:
            trigger = trigger_of_execution(execution["name"])
            started = execution["startDate"]
            if trigger not in last_success or started > last_success[trigger]:
                last_success[trigger] = started
        unresolved = [
            {"execution": e["name"], "status": e["status"], "started_at": e["startDate"],
             "trigger_event_id": trigger_of_execution(e["name"])}
            for e in sorted(failed, key=lambda e: e["startDate"])
            if not (trigger_of_execution(e["name"]) in last_success
                    and last_success[trigger_of_execution(e["name"])] >= e["startDate"])
        ]
        statuses.append(SagaStatus(
            name, len(running), min((e["startDate"] for e in running), default=None), len(succeeded),
            len(failed), unresolved,
        ))
    return statuses


def checkpoints(dynamodb: Any, names: Names) -> list[dict[str, Any]]:
    """The change-capture poller's last checkpoint per watch."""
    items = scan_items(dynamodb, names.checkpoints_table)
    return sorted(
        ({"watch": i.get("key"), "cursor": i.get("cursor"), "saved_at": i.get("saved_at")} for i in items),
        key=lambda c: str(c["watch"]),
    )


# --------------------------------------------------------------------------- saga redrive

SagaState = Literal["running", "succeeded", "failed"]


@dataclass(frozen=True)
class SagaAttempt:
    name: str
    arn: str
    status: str  # RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED
    started_at: dt.datetime | None
    stopped_at: dt.datetime | None

    @classmethod
    def from_listing(cls, execution: dict[str, Any]) -> SagaAttempt:
        return cls(execution["name"], execution["executionArn"], execution["status"], execution.get("startDate"),
                   execution.get("stopDate"))


@dataclass
class Saga:
    """Every run of one saga trigger: the first execution and its redrives, oldest first."""

    state_machine: str
    state_machine_arn: str
    trigger_event_id: str
    attempts: list[SagaAttempt]

    @property
    def latest(self) -> SagaAttempt:
        return self.attempts[-1]

    @property
    def state(self) -> SagaState:
        if any(a.status == "RUNNING" for a in self.attempts):
            return "running"
        if any(a.status == "SUCCEEDED" for a in self.attempts):
            return "succeeded"
        return "failed"

    def refusal(self) -> str | None:
        """Why this saga must not be redriven (None: its runs all failed, so it may be)."""
        running = [a for a in self.attempts if a.status == "RUNNING"]
        if running:
            return (f"saga {self.trigger_event_id} is running ({running[-1].name}, started "
                    f"{_iso(running[-1].started_at)}): let it finish, then redrive it if it fails")
        succeeded = [a for a in self.attempts if a.status == "SUCCEEDED"]
        if succeeded:
            return (f"saga {self.trigger_event_id} already succeeded ({succeeded[-1].name}, "
                    f"{_iso(succeeded[-1].stopped_at)}): nothing to redrive")
        return None

    def as_json(self) -> dict[str, Any]:
        return {
            "state_machine": self.state_machine, "trigger_event_id": self.trigger_event_id, "state": self.state,
            "latest_execution": self.latest.name, "latest_status": self.latest.status,
            "started_at": _iso(self.attempts[0].started_at), "latest_started_at": _iso(self.latest.started_at),
            "latest_stopped_at": _iso(self.latest.stopped_at),
            "attempts": [{"name": a.name, "status": a.status, "started_at": _iso(a.started_at),
                          "stopped_at": _iso(a.stopped_at), "execution_arn": a.arn} for a in self.attempts],
        }


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if isinstance(moment, dt.datetime) else None


def _sagas_of(machine: str, arn: str, listing: Iterable[dict[str, Any]]) -> list[Saga]:
    by_trigger: dict[str, list[SagaAttempt]] = defaultdict(list)
    for execution in listing:
        by_trigger[trigger_of_execution(execution["name"])].append(SagaAttempt.from_listing(execution))
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    return [
        Saga(machine, arn, trigger, sorted(attempts, key=lambda a: (a.started_at or epoch, a.name)))
        for trigger, attempts in by_trigger.items()
    ]


def list_sagas(sfn: Any, names: Names, state: SagaState | None = None) -> list[Saga]:
    """The stage's sagas (one per trigger, with all its runs), most recently started first."""
    sagas = []
    for machine, arn in sorted(state_machine_arns(sfn, names).items()):
        sagas += _sagas_of(machine, arn, executions(sfn, arn))
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    sagas.sort(key=lambda s: s.latest.started_at or epoch, reverse=True)
    return [s for s in sagas if state is None or s.state == state]


def find_saga(sfn: Any, names: Names, given: str) -> Saga:
    """A saga by an execution ARN, an execution name (`<event id>[-redrive-<n>]`) or its trigger event id."""
    if given.startswith("arn:") and ":execution:" in given:
        # arn:aws:states:<region>:<account>:execution:<machine>:<name>
        machine_name, name = given.split(":execution:", 1)[1].split(":", 1)
        machine_arn = given.split(":execution:", 1)[0] + f":stateMachine:{machine_name}"
        machines = {machine_name: machine_arn}
        trigger = trigger_of_execution(name)
    else:
        machines = state_machine_arns(sfn, names)
        trigger = trigger_of_execution(given.strip())
    found = []
    for machine, arn in sorted(machines.items()):
        runs = [e for e in executions(sfn, arn) if trigger_of_execution(e["name"]) == trigger]
        if runs:
            found += _sagas_of(machine, arn, runs)
    if not found:
        searched = ", ".join(sorted(machines)) or f"no state machine {names.prefix}-*"
        raise OperationsError(f"no saga execution {given} in {searched}")
    if len(found) > 1:
        raise OperationsError(f"{given} names runs of several state machines ({', '.join(s.state_machine for s in found)}):"
                              " pass the execution ARN")
    return found[0]


@dataclass
class SagaRedriveOutcome:
    saga: Saga
    status: Literal["would_redrive", "redriven", "refused", "failed"]
    detail: str
    new_execution: str | None = None
    new_execution_arn: str | None = None
    record: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status, "detail": self.detail, "trigger_event_id": self.saga.trigger_event_id,
            "state_machine": self.saga.state_machine, "failed_execution": self.saga.latest.name,
            "failed_status": self.saga.latest.status, "new_execution": self.new_execution,
            "new_execution_arn": self.new_execution_arn, "record": self.record, "saga": self.saga.as_json(),
        }


def redrive_failed_saga(
    sfn: Any, dynamodb: Any, names: Names, actor: Actor, saga: Saga, *, dry_run: bool = False,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> SagaRedriveOutcome:
    """A new run of a saga whose runs all failed (`<event id>-redrive-<n>`, the same input), recorded first.

    Refused when a run is going on or one succeeded. The record: `REDRIVE#<run id>` /
    `EXECUTION#<failed execution>`, record_type `saga_redrive`, written before the start.
    """
    from .sagas import plan_redrive, start_redrive

    refusal = saga.refusal()
    if refusal:
        return SagaRedriveOutcome(saga, "refused", refusal)
    failed = saga.latest
    with aws_call(f"execution {failed.name} of {saga.state_machine}", "states:DescribeExecution, states:ListExecutions"):
        plan = plan_redrive(sfn, failed.arn)
    if dry_run:
        return SagaRedriveOutcome(saga, "would_redrive", f"would start {plan.name} with the input of {failed.name}",
                                  new_execution=plan.name)
    run_id = uuid.uuid4().hex
    record = f"REDRIVE#{run_id}"
    item = {
        "pk": record, "sk": f"EXECUTION#{failed.name}", "record_type": "saga_redrive", "run_id": run_id,
        "stage": names.stage, "who": actor.who, "os_user": actor.os_user, "started_at": now().isoformat(),
        "state_machine": saga.state_machine, "event_id": saga.trigger_event_id, "failed_execution": failed.name,
        "failed_status": failed.status, "attempts_before": len(saga.attempts), "new_execution": plan.name,
        "status": "starting",
    }
    with aws_call(f"table {names.audit_table}", "dynamodb:PutItem"):
        dynamodb.put_item(TableName=names.audit_table, Item=_typed(item), ConditionExpression="attribute_not_exists(pk)")

    def update(**values: Any) -> None:
        values = {k: v for k, v in values.items() if v is not None}
        try:
            with aws_call(f"table {names.audit_table}", "dynamodb:UpdateItem"):
                dynamodb.update_item(
                    TableName=names.audit_table, Key={"pk": {"S": record}, "sk": {"S": f"EXECUTION#{failed.name}"}},
                    UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in values),
                    ExpressionAttributeNames={f"#{k}": k for k in values},
                    ExpressionAttributeValues={f":{k}": _SERIALIZER.serialize(v) for k, v in values.items()},
                )
        except OperationsError:
            pass

    try:
        with aws_call(f"state machine {saga.state_machine}", "states:StartExecution"):
            arn = start_redrive(sfn, plan)
    except OperationsError as error:
        update(status="start_failed", error=str(error)[:1000], finished_at=now().isoformat())
        return SagaRedriveOutcome(saga, "failed", f"{plan.name} not started: {error}", plan.name, record=record)
    update(status="started", new_execution_arn=arn, finished_at=now().isoformat())
    return SagaRedriveOutcome(saga, "redriven", f"started {plan.name}", plan.name, arn, record)


# --------------------------------------------------------------------------- reconcile


def invoke_reconcile(
    lambda_client: Any, names: Names, objects: list[str], repair: bool, entities: list[tuple[str, str]] | None = None
) -> dict[str, Any]:
    """Run the stage's reconcile function (it reaches the systems with its own role and network)
    and return its report: {"objects", "repair", "drift": [...]}. `entities` ((object type,
    canonical id)) limits it to those."""
    function = names.function("reconcile")
    request: dict[str, Any] = {"objects": objects, "repair": repair}
    if entities is not None:
        request["entities"] = [{"object_type": kind, "canonical_id": ref} for kind, ref in entities]
    with aws_call(f"function {function}", "lambda:InvokeFunction"):
        response = lambda_client.invoke(FunctionName=function, Payload=json.dumps(request).encode())
    payload = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        message = payload.get("errorMessage", payload) if isinstance(payload, dict) else payload
        raise OperationsError(f"function {function} failed: {message}")
    return payload
