"""SQS event source mappings: pollers that hand batches to a function as Lambda does."""

from __future__ import annotations

import json
import threading
import time
from typing import TYPE_CHECKING, Any

from ..template import REGION
from .pool import Runtime

if TYPE_CHECKING:
    from types_boto3_sqs import SQSClient
    from types_boto3_sqs.type_defs import MessageTypeDef


def sqs_record(message: MessageTypeDef, queue_arn: str) -> dict[str, Any]:
    """An SQS message as Lambda's event source mapping hands it to a function."""
    attributes = {
        "DataType": "dataType", "StringValue": "stringValue", "BinaryValue": "binaryValue",
    }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {
            name: {attributes[k]: v for k, v in value.items() if k in attributes}
            | {"stringListValues": [], "binaryListValues": []}
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


class QueuePoller(threading.Thread):
    def __init__(self, runtime: Runtime, mapping: Any, sqs: SQSClient, stopped: threading.Event) -> None:
        super().__init__(name=f"poller:{mapping.queue_name}", daemon=True)
        self.runtime = runtime
        self.mapping = mapping
        self.sqs = sqs
        self.stopped = stopped
        self.queue_url = sqs.get_queue_url(QueueName=mapping.queue_name)["QueueUrl"]
        self.queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.batches = 0

    def _receive(self, limit: int, wait_seconds: int) -> list[MessageTypeDef]:
        return self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(10, limit),
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])

    def _collect_batch(self) -> list[MessageTypeDef]:
        batch = self._receive(self.mapping.batch_size, wait_seconds=1)
        if not batch:
            return batch
        deadline = time.monotonic() + self.mapping.batching_window_seconds
        while len(batch) < self.mapping.batch_size and time.monotonic() < deadline:
            more = self._receive(self.mapping.batch_size - len(batch), wait_seconds=0)
            if more:
                batch.extend(more)
            else:
                time.sleep(0.05)
        return batch

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                self._poll_once()
            except Exception as error:  # keep polling through emulator hiccups, as Lambda does
                print(f"poller {self.mapping.queue_name}: {error!r}", flush=True)
                time.sleep(1)

    def _poll_once(self) -> None:
        messages = self._collect_batch()
        if not messages:
            return
        event = {"Records": [sqs_record(m, self.queue_arn) for m in messages]}
        result = self.runtime.invoke(self.mapping.function_name, event)
        self.batches += 1
        if result.errored:
            return  # nothing deleted: the whole batch comes back after its visibility timeout
        failed: set[str] = set()
        if self.mapping.report_batch_item_failures:
            response = json.loads(result.payload or "null") or {}
            failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(done[start : start + 10])
                ],
            )
