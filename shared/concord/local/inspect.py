"""Read-only views of the local stack for the demo and the end-to-end tests."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from ..operator.queues import peek_messages, queue_ref
from ..stores.audit import AuditTrail
from ..stores.audit_items import RecordedEvent
from .provision import BUS_TAP
from .stack import LocalStack, aws_client
from .state import StackState

if TYPE_CHECKING:
    from types_boto3_sqs import SQSClient


@dataclass
class LocalView:
    stack: LocalStack

    def __post_init__(self) -> None:
        self.state = StackState.load(self.stack.state_dir)
        self.topology = self.stack.topology()
        self.sqs: SQSClient = aws_client(self.state, "sqs")
        self.events = aws_client(self.state, "events")
        self.dynamodb = aws_client(self.state, "dynamodb")
        self.audit = AuditTrail(self.dynamodb, self.topology.setting("AUDIT_TABLE_NAME"))

    def audit_events_of_type(self, event_type: str) -> list[RecordedEvent]:
        """The recorded events of one type, in the order they were published."""
        return self.audit.events_of_type(event_type)

    def invoke(self, function_folder: str, event: dict[str, Any]) -> Any:
        """Invoke one of the stack's functions through the local Lambda service, as a trigger would."""
        name = next(f.name for f in self.topology.functions if f.source == f"functions/{function_folder}")
        response = httpx.post(
            f"{self.state.lambda_endpoint}/2015-03-31/functions/{name}/invocations", json=event, timeout=120
        )
        payload = response.json()
        if "x-amz-function-error" in response.headers:
            raise RuntimeError(f"{name} failed: {payload}")
        return payload

    def queue_url(self, name: str) -> str:
        return self.sqs.get_queue_url(QueueName=name)["QueueUrl"]

    def drain_tap(self) -> list[dict[str, Any]]:
        """Every canonical event put on the bus since the last drain (EventBridge envelopes)."""
        url = self.queue_url(BUS_TAP)
        seen: list[dict[str, Any]] = []
        while True:
            messages = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
                "Messages", []
            )
            if not messages:
                return seen
            seen.extend(json.loads(m["Body"]) for m in messages)
            self.sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )

    def dlq_messages(self, dlq_name: str) -> list[dict[str, Any]]:
        """Every message of a DLQ, left where it is (as `concord dlq` peeks: the emulator only
        ever returns the first ten to a plain receive), in the shape SQS returns them."""
        return [
            {"MessageId": m.message_id, "Body": m.body, "ReceiptHandle": m.receipt_handle, "Attributes": m.attributes}
            for m in peek_messages(self.sqs, queue_ref(self.sqs, dlq_name))
        ]

    def wait_for(self, probe: Any, timeout: float, interval: float = 0.05) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = probe()
            if result:
                return result
            time.sleep(interval)
        return None
