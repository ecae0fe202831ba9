"""What the operator tests share: a stage's names, its audit-trail DLQ and source queue in moto,
canonical events as they arrive parked, and clients that refuse a call the way AWS does."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import boto3
from botocore.exceptions import ClientError

from concord.cli.ops.filters import parse_filter
from concord.naming import Names
from concord.operator.actor import Actor
from concord.operator.queues import DlqMessage, QueueRef
from concord.operator.stores import StageStores
from concord.stores.audit_items import RedriveRecord

from ..tables import create_audit_table

STAGE = "t"
NAMES = Names(STAGE)
NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
OPS = Actor("arn:aws:iam::123456789012:user/ops", "ops")
DENIED = "User: arn:aws:iam::1:user/ops is not authorized to perform this action"


def refuse(client: Any, operation: str, code: str = "AccessDeniedException") -> None:
    """Make a boto3 client refuse one API operation (e.g. `PutItem`) as AWS does when IAM denies it."""

    def denied(**_: Any) -> None:
        raise ClientError({"Error": {"Code": code, "Message": DENIED}}, operation)

    client.meta.events.register(f"before-call.{client.meta.service_model.service_name}.{operation}", denied)


class Refusing:
    """A client that refuses one operation the way AWS does, and passes the rest to moto."""

    def __init__(self, client: Any, operation: str, code: str = "AccessDenied") -> None:
        self._client, self._operation, self._code = client, operation, code

    def __getattr__(self, name: str) -> Any:
        if name == self._operation:

            def refuse_call(**_: Any) -> Any:
                raise ClientError({"Error": {"Code": self._code, "Message": DENIED}}, name)

            return refuse_call
        return getattr(self._client, name)


def bus_body(event: dict[str, Any]) -> str:
    return json.dumps(
        {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": event.get("type", "?"),
            "source": "concord.crm",
            "account": "123456789012",
            "time": "2026-03-01T09:30:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": event,
        }
    )


def account_changed(account_id: str, *, valid: bool = True) -> dict[str, Any]:
    event_id = str(uuid.uuid4())
    if not valid:
        return {"id": event_id, "type": "AccountChanged", "data": {"name": "no id"}}
    return {
        "id": event_id,
        "type": "AccountChanged",
        "version": 1,
        "source_system": "crm",
        "occurred_at": "2026-03-01T09:30:00Z",
        "correlation_id": event_id,
        "legal_entity": "us-01",
        "data": {"account_id": account_id, "name": "Acme"},
    }


def selector(expression: str | None) -> Callable[[DlqMessage], bool]:
    parsed = parse_filter(expression)
    return lambda message: parsed.matches(message.event)


class Stage:
    """A stage's audit trail, audit-trail DLQ and source queue in moto."""

    def __init__(self) -> None:
        self.sqs, self.dynamodb = boto3.client("sqs"), boto3.client("dynamodb")
        create_audit_table(self.dynamodb, NAMES.audit_table)
        self.stores = StageStores.of(self.dynamodb, NAMES)
        dlq_url = self.sqs.create_queue(QueueName=NAMES.dlq("audit-trail"))["QueueUrl"]
        dlq_arn = self.sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        source_url = self.sqs.create_queue(
            QueueName=NAMES.queue("audit-trail"),
            Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3})},
        )["QueueUrl"]
        self.dlq = QueueRef(NAMES.dlq("audit-trail"), dlq_url)
        self.source = QueueRef(NAMES.queue("audit-trail"), source_url)

    def park(self, event: dict[str, Any]) -> str:
        return self.sqs.send_message(QueueUrl=self.dlq.url, MessageBody=bus_body(event))["MessageId"]

    def depth(self, queue: QueueRef) -> int:
        attributes = self.sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["All"])["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def visible(self, queue: QueueRef) -> int:
        time.sleep(0.002)  # moto: visible strictly after the instant it was released
        attributes = self.sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["All"])["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    def received(self, queue: QueueRef) -> list[dict[str, Any]]:
        messages = self.sqs.receive_message(
            QueueUrl=queue.url, MaxNumberOfMessages=10, VisibilityTimeout=0, AttributeNames=["All"]
        ).get("Messages", [])
        return [json.loads(m["Body"]) for m in messages]

    def records(self) -> list[RedriveRecord]:
        return self.stores.audit.redrives()
