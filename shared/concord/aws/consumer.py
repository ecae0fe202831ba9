"""SQS consumers of bus events: partial batch failures that leave a reason and back off.

Built on Powertools' BatchProcessor. On top of it, every failed record
  - is written to the audit trail with its error class and reason (what `concord dlq show`
    reads once the message is parked in the DLQ), and
  - gets an exponential back-off with jitter through its visibility timeout, so a failing
    dependency is not hammered while maxReceiveCount counts towards the DLQ.
"""

from __future__ import annotations

import math
import random
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import classify
from ..events import Envelope
from ..events.versions import Accepts, parse_event
from ..observability import logger, metrics
from ..settings import Settings
from ..stores.audit import AuditTrail
from ..stores.audit_items import DeliveryTimings, FailedAttempt
from .clients import client


class ConsumerSettings(Settings):
    audit_table_name: str = Field(alias="AUDIT_TABLE_NAME")
    retry_base_seconds: int = Field(default=10, ge=0, le=3600, alias="RETRY_BASE_SECONDS")
    retry_max_seconds: int = Field(default=900, ge=0, le=43200, alias="RETRY_MAX_SECONDS")


class BusEvent(BaseModel):
    """The EventBridge envelope around a canonical event, as a rule delivers it to SQS.

    Only the fields Concord reads: the emulator leaves out some AWS sets (e.g. `account`).
    """

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    id: str
    source: str
    detail_type: str = Field(alias="detail-type")
    detail: dict[str, Any]
    replay_name: str | None = Field(default=None, alias="replay-name")


def parse_bus_record(record: SQSRecord, accepts: Accepts | None = None) -> Envelope:
    """An SQS message delivered by an EventBridge rule → the canonical event inside it, at a
    version the consumer accepts (`accepts`; by default each type's current version)."""
    return parse_event(BusEvent.model_validate_json(record.body).detail, accepts)


def describe_error(error: BaseException) -> str:
    """A failure reason fit for the audit trail: what and where, never the payload's values."""
    if isinstance(error, ValidationError):
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: "
            # pydantic's message for an unknown union tag quotes the tag itself
            + ("unknown event type or version" if e["type"] == "union_tag_invalid" else e["msg"])
            for e in error.errors(include_url=False, include_input=False)[:10]
        )
        return f"ValidationError: {problems}"
    return f"{type(error).__name__}: {error}"


def delivery_timings(record: SQSRecord) -> DeliveryTimings:
    attributes = record.attributes
    return DeliveryTimings(
        enqueued_at_ms=int(attributes.sent_timestamp) if attributes.sent_timestamp else None,
        first_received_at_ms=(
            int(attributes.approximate_first_receive_timestamp)
            if attributes.approximate_first_receive_timestamp
            else None
        ),
    )


def backoff_seconds(receive_count: int, base: int, cap: int) -> int:
    """Exponential back-off with "equal jitter": a whole number of seconds in [delay/2, delay]."""
    delay = min(cap, base * 2 ** max(receive_count - 1, 0))
    # Round up: truncating would fall below delay/2 for odd delays (and to 0 for a delay of 1).
    return math.ceil(random.uniform(delay / 2, delay))


@cache
def _queue_url(queue_arn: str) -> str:
    *_, account, name = queue_arn.split(":")
    return client("sqs").get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]


class RecordingBatchProcessor(BatchProcessor):
    def __init__(self, consumer: str, audit: AuditTrail, settings: ConsumerSettings) -> None:
        super().__init__(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        self._consumer = consumer
        self._audit = audit
        self._settings = settings

    def failure_handler(self, record: SQSRecord, exception: Any) -> Any:
        entry = super().failure_handler(record, exception)
        error = exception[1]
        receive_count = int(record.attributes.approximate_receive_count or 1)
        attempt = FailedAttempt(
            message_id=record.message_id,
            consumer=self._consumer,
            receive_count=receive_count,
            error_class=classify(error),
            reason=describe_error(error),
            event_id=_event_id_or_none(record),
        )
        logger.warning(
            "record failed",
            message_id=attempt.message_id,
            receive_count=receive_count,
            error_class=attempt.error_class.value,
            reason=attempt.reason,
        )
        metrics.add_metric(name="RecordsFailed", unit=MetricUnit.Count, value=1)
        # Leaving a reason and backing off are best effort: the record stays failed either way.
        try:
            self._audit.record_failure(attempt)
            delay = backoff_seconds(receive_count, self._settings.retry_base_seconds, self._settings.retry_max_seconds)
            client("sqs").change_message_visibility(
                QueueUrl=_queue_url(record.event_source_arn),
                ReceiptHandle=record.receipt_handle,
                VisibilityTimeout=delay,
            )
        except (BotoCoreError, ClientError) as error:
            logger.warning("could not record failure or back off", error=str(error))
        return entry

    def success_handler(self, record: SQSRecord, result: Any) -> Any:
        metrics.add_metric(name="RecordsApplied", unit=MetricUnit.Count, value=1)
        return super().success_handler(record, result)


def _event_id_or_none(record: SQSRecord) -> str | None:
    try:
        event_id = BusEvent.model_validate_json(record.body).detail.get("id")
    except ValidationError:
        return None
    return str(event_id) if event_id is not None else None
