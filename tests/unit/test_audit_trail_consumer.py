"""The audit trail consumer against moto: partial batch failures, reasons, back-off, once-only."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType, SimpleNamespace
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws
from pydantic import ValidationError

from concord.aws import consumer
from concord.aws.bus import BusUnavailable
from concord.errors import (
    ConcordError,
    ConfigurationError,
    OwnershipConflict,
    PermanentError,
    TransientError,
    ValidationFailed,
    classify,
)
from concord.events import new_event
from concord.events.envelope import InvoicePostedEvent, OpportunityClosedWonEvent, TimeApprovedEvent
from concord.events.types import ErrorClass, Money
from concord.ingress.errors import InvalidEvent, SignatureInvalid
from concord.stores.audit import AuditTrail
from concord.stores.audit_items import DeliveryTimings, FailedAttempt

from .tables import create_audit_table

AUDIT_TABLE = "concord-test-audit"
QUEUE = "concord-test-audit-trail"
OCCURRED_AT = dt.datetime(2025, 3, 14, 9, 30, tzinfo=dt.UTC)


@dataclass
class AuditStack:
    handler: ModuleType
    context: Any
    sqs: Any
    queue_url: str
    queue_arn: str
    trail: AuditTrail

    def deliver(self, bodies: list[str]) -> list[dict[str, Any]]:
        """Send bodies through the real (moto) queue; return them as Lambda's SQS records."""
        sent = [self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=body)["MessageId"] for body in bodies]
        received: dict[str, dict[str, Any]] = {}
        while len(received) < len(sent):
            batch = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=0,  # stay visible: the test looks again afterwards
                AttributeNames=["All"],
            ).get("Messages", [])
            assert batch, "moto did not return the messages just sent"
            received.update({m["MessageId"]: m for m in batch if m["MessageId"] in sent})
        return [self._as_lambda_record(received[message_id]) for message_id in sent]

    def _as_lambda_record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": {
                "ApproximateReceiveCount": message["Attributes"]["ApproximateReceiveCount"],
                "SentTimestamp": message["Attributes"]["SentTimestamp"],
                "SenderId": message["Attributes"].get("SenderId", "AIDAEXAMPLE"),
                "ApproximateFirstReceiveTimestamp": message["Attributes"]["ApproximateFirstReceiveTimestamp"],
            },
            "messageAttributes": {},
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": "us-east-1",
        }

    def invoke(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        return self.handler.handler({"Records": records}, self.context)

    def visible_message_ids(self) -> set[str]:
        messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
            "Messages", []
        )
        return {m["MessageId"] for m in messages}


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch, load_handler, lambda_context) -> Iterator[AuditStack]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        create_audit_table(dynamodb, AUDIT_TABLE)
        sqs = boto3.client("sqs")
        queue_url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        monkeypatch.setenv("AUDIT_TABLE_NAME", AUDIT_TABLE)
        # A long first back-off, so a backed-off message is certainly still invisible when we look.
        monkeypatch.setenv("RETRY_BASE_SECONDS", "120")
        monkeypatch.setenv("RETRY_MAX_SECONDS", "900")
        yield AuditStack(
            load_handler("audit_trail"), lambda_context, sqs, queue_url, queue_arn, AuditTrail(dynamodb, AUDIT_TABLE)
        )


def _bus_body(detail: dict[str, Any], **overrides: Any) -> str:
    """What an EventBridge rule puts on the queue around a canonical event."""
    return json.dumps(
        {
            "version": "0",
            "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
            "detail-type": detail.get("type", "Unknown"),
            "source": f"concord.{detail.get('source_system', 'crm')}",
            "account": "123456789012",
            "time": "2025-03-14T09:30:05Z",
            "region": "us-east-1",
            "resources": [],
            "detail": detail,
            **overrides,
        }
    )


@pytest.fixture
def good_events(sample_data) -> list[Any]:
    common = {"legal_entity": "acme-us", "occurred_at": OCCURRED_AT}
    return [
        new_event(OpportunityClosedWonEvent, sample_data("OpportunityClosedWon"), **common),
        new_event(TimeApprovedEvent, sample_data("TimeApproved"), **common),
        new_event(
            InvoicePostedEvent,
            sample_data("InvoicePosted"),
            ingested_at=OCCURRED_AT + dt.timedelta(seconds=2),
            **common,
        ),
    ]


@pytest.fixture
def poison(sample_data) -> dict[str, Any]:
    """A well-formed bus message whose event breaks its schema in one field."""
    data = sample_data("OpportunityClosedWon")
    data["name"] = "Project Nightingale (confidential)"
    data["amount"]["currency"] = "Dollars-4711"
    event = new_event(
        OpportunityClosedWonEvent,
        sample_data("OpportunityClosedWon"),
        legal_entity="acme-us",
        occurred_at=OCCURRED_AT,
    )
    return {**json.loads(event.model_dump_json()), "data": data}


# --------------------------------------------------------------------------- the handler


def test_a_poison_record_fails_alone_and_leaves_a_reason(stack: AuditStack, good_events, poison) -> None:
    bodies = [_bus_body(json.loads(event.model_dump_json())) for event in good_events]
    records = stack.deliver([bodies[0], bodies[1], _bus_body(poison), bodies[2]])
    poison_id = records[2]["messageId"]

    response = stack.invoke(records)

    assert response == {"batchItemFailures": [{"itemIdentifier": poison_id}]}
    for event in good_events:
        item = stack.trail.event(event.id)
        assert item is not None, event.type
        assert item.detail == json.loads(event.model_dump_json())
        assert item.event_type == event.type
    assert stack.trail.event(poison["id"]) is None

    [failure] = stack.trail.failures_of(poison_id)
    assert failure.consumer == "audit_trail"
    assert failure.error_class == ErrorClass.VALIDATION
    assert failure.receive_count == 1
    assert failure.event_id == poison["id"]
    assert "data.amount.currency" in failure.reason
    for value in ("Dollars-4711", "Project Nightingale", "OPP-1001", "ACC-2002", "120000"):
        assert value not in failure.reason
    for good in (records[0], records[1], records[3]):
        assert stack.trail.failures_of(good["messageId"]) == []


def test_a_failed_record_is_backed_off_through_its_visibility(stack: AuditStack, good_events, poison) -> None:
    records = stack.deliver([_bus_body(json.loads(good_events[0].model_dump_json())), _bus_body(poison)])

    stack.invoke(records)

    # The good one is untouched (Lambda deletes it); the poison is hidden for its back-off.
    assert stack.visible_message_ids() == {records[0]["messageId"]}


def test_the_same_event_delivered_twice_is_recorded_once(stack: AuditStack, good_events, capsys) -> None:
    body = _bus_body(json.loads(good_events[0].model_dump_json()))
    first, second = stack.deliver([body, body])

    assert stack.invoke([first]) == {"batchItemFailures": []}
    recorded_at = stack.trail.event(good_events[0].id).recorded_at
    assert "DuplicateEventsSkipped" not in capsys.readouterr().out
    assert stack.invoke([second]) == {"batchItemFailures": []}

    assert stack.trail.event(good_events[0].id).recorded_at == recorded_at
    assert "DuplicateEventsSkipped" in capsys.readouterr().out  # the EMF metrics line


def test_record_event_reports_a_duplicate(stack: AuditStack, good_events) -> None:
    body = _bus_body(json.loads(good_events[1].model_dump_json()))
    first, second = (SQSRecord(record) for record in stack.deliver([body, body]))

    assert stack.handler.record_event(first, stack.trail) is True
    assert stack.handler.record_event(second, stack.trail) is False


def test_delivery_timings_are_recorded(stack: AuditStack, good_events) -> None:
    event = good_events[2]
    [record] = stack.deliver([_bus_body(json.loads(event.model_dump_json()))])

    stack.invoke([record])

    item = stack.trail.event(event.id)
    sent_ms = int(record["attributes"]["SentTimestamp"])
    assert item.enqueued_at == dt.datetime.fromtimestamp(sent_ms / 1000, tz=dt.UTC)
    assert item.occurred_at == OCCURRED_AT
    assert item.ingested_at == OCCURRED_AT + dt.timedelta(seconds=2)
    assert item.causation_id is None


@pytest.mark.parametrize(
    "body",
    ["not json at all", json.dumps({"id": "x", "source": "concord.crm"}), json.dumps([1, 2])],
    ids=["not-json", "no-detail", "not-an-object"],
)
def test_a_message_that_is_not_a_bus_event_fails_as_validation(stack: AuditStack, body: str) -> None:
    [record] = stack.deliver([body])

    response = stack.invoke([record])

    assert response == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
    [failure] = stack.trail.failures_of(record["messageId"])
    assert failure.error_class == ErrorClass.VALIDATION
    assert failure.event_id is None


def test_an_unreachable_table_is_a_transient_failure(
    stack: AuditStack, good_events, monkeypatch: pytest.MonkeyPatch
) -> None:
    [record] = stack.deliver([_bus_body(json.loads(good_events[0].model_dump_json()))])

    def unavailable(*_: Any, **__: Any) -> bool:
        raise ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}, "PutItem"
        )

    monkeypatch.setattr(AuditTrail, "record_event", lambda self, event, timings, rendered=None: unavailable())

    assert stack.invoke([record]) == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
    [failure] = stack.trail.failures_of(record["messageId"])
    assert failure.error_class == ErrorClass.TRANSIENT
    assert failure.event_id == good_events[0].id


def test_a_failure_that_cannot_be_recorded_still_fails_the_record(
    stack: AuditStack, poison, monkeypatch: pytest.MonkeyPatch
) -> None:
    [record] = stack.deliver([_bus_body(poison)])

    def table_down(self: AuditTrail, attempt: FailedAttempt) -> None:
        raise EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")

    monkeypatch.setattr(AuditTrail, "record_failure", table_down)

    assert stack.invoke([record]) == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_missing_configuration_names_the_variable(stack: AuditStack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUDIT_TABLE_NAME")
    with pytest.raises(ConfigurationError, match="AUDIT_TABLE_NAME"):
        stack.invoke([])


# --------------------------------------------------------------------------- the audit trail itself


def test_failures_are_kept_per_attempt(stack: AuditStack) -> None:
    for receive_count in (1, 2):
        stack.trail.record_failure(
            FailedAttempt(
                message_id="m-1",
                consumer="audit_trail",
                receive_count=receive_count,
                error_class=ErrorClass.TRANSIENT,
                reason="x" * 5000,
                event_id="e-1",
            )
        )

    failures = stack.trail.failures_of("m-1")

    assert [f.receive_count for f in failures] == [1, 2]
    assert all(len(f.reason) == 4000 for f in failures)
    raw = boto3.client("dynamodb").query(
        TableName=AUDIT_TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "MESSAGE#m-1"}},
    )["Items"]
    assert [i["sk"]["S"] for i in raw] == ["FAILURE#audit_trail#0001", "FAILURE#audit_trail#0002"]
    assert all(int(i["expires_at"]["N"]) > dt.datetime.now(dt.UTC).timestamp() + 29 * 86400 for i in raw)


def test_record_event_stores_once(stack: AuditStack, good_events) -> None:
    timings = DeliveryTimings(enqueued_at_ms=None, first_received_at_ms=None)
    assert stack.trail.record_event(good_events[0], timings) is True
    assert stack.trail.record_event(good_events[0], timings) is False
    assert stack.trail.event("no-such-event") is None


def test_a_rendering_is_stored_compressed_and_read_back_whole(stack: AuditStack, good_events) -> None:
    """DynamoDB bills writes per KB of item: the rendering is a zlib binary attribute."""
    event = good_events[1]
    rendering = json.dumps({"netsuite": {"requests": [{"body": {"memo": "line " * 400}}]}}, indent=2)
    assert stack.trail.record_event(event, DeliveryTimings(None, None), rendering) is True

    raw = boto3.client("dynamodb").get_item(
        TableName=AUDIT_TABLE, Key={"pk": {"S": f"EVENT#{event.id}"}, "sk": {"S": "EVENT"}}
    )["Item"]
    assert len(raw["rendered_requests"]["B"]) < len(rendering) / 10
    recorded = stack.trail.event(event.id)
    assert recorded is not None and recorded.rendered_requests == rendering


def test_an_event_is_recorded_with_its_entity_index_items(stack: AuditStack, good_events) -> None:
    """Written without a transaction (half the write units): the index items first, then the event."""
    event = good_events[1]
    assert stack.trail.record_event(event, DeliveryTimings(None, None)) is True
    assert stack.trail.record_event(event, DeliveryTimings(None, None)) is False

    items = boto3.client("dynamodb").scan(TableName=AUDIT_TABLE)["Items"]
    mentions = [i for i in items if i["pk"]["S"].startswith("ENTITY#")]
    assert mentions and all(i["event_id"]["S"] == event.id for i in mentions)
    assert [i["pk"]["S"] for i in items if i["sk"]["S"] == "EVENT"] == [f"EVENT#{event.id}"]


# --------------------------------------------------------------------------- back-off


@pytest.fixture
def rng_at(monkeypatch: pytest.MonkeyPatch):
    """Pin the jitter to the low or high end of its range."""

    def pin(end: str) -> None:
        pick = (lambda low, high: low) if end == "low" else (lambda low, high: high)
        monkeypatch.setattr(consumer, "random", SimpleNamespace(uniform=pick))

    return pin


def test_backoff_doubles_with_each_receive_up_to_the_cap(rng_at) -> None:
    rng_at("high")
    delays = [consumer.backoff_seconds(n, base=10, cap=900) for n in range(1, 11)]
    assert delays == [10, 20, 40, 80, 160, 320, 640, 900, 900, 900]


def test_backoff_at_the_low_end_is_half_the_delay(rng_at) -> None:
    rng_at("low")
    delays = [consumer.backoff_seconds(n, base=10, cap=900) for n in range(1, 11)]
    assert delays == [5, 10, 20, 40, 80, 160, 320, 450, 450, 450]


@pytest.mark.parametrize("end", ["low", "high"])
@pytest.mark.parametrize(("receive_count", "base", "cap"), [(1, 1, 900), (1, 5, 900), (4, 10, 75), (1, 7, 3)])
def test_backoff_stays_within_half_delay_and_delay_for_odd_delays(
    rng_at, end: str, receive_count: int, base: int, cap: int
) -> None:
    rng_at(end)
    delay = min(cap, base * 2 ** (receive_count - 1))
    assert delay / 2 <= consumer.backoff_seconds(receive_count, base, cap) <= delay


def test_a_first_receive_is_never_retried_immediately(rng_at) -> None:
    rng_at("low")
    assert consumer.backoff_seconds(1, base=1, cap=900) >= 1


@settings(max_examples=300, deadline=None, database=None)
@given(
    receive_count=st.integers(min_value=0, max_value=10_000),
    base=st.integers(min_value=0, max_value=3600),
    cap=st.integers(min_value=0, max_value=43200),
)
def test_backoff_never_exceeds_the_cap_and_keeps_its_range(receive_count: int, base: int, cap: int) -> None:
    delay = min(cap, base * 2 ** max(receive_count - 1, 0))

    seconds = consumer.backoff_seconds(receive_count, base, cap)

    assert isinstance(seconds, int)
    assert seconds <= cap
    assert delay / 2 <= seconds <= delay


@settings(max_examples=100, deadline=None, database=None)
@given(receive_count=st.integers(min_value=1, max_value=12), base=st.integers(min_value=1, max_value=10))
def test_backoff_grows_with_the_receive_count(receive_count: int, base: int) -> None:
    # Below the cap, even the shortest next back-off is as long as the longest current one.
    longest_now = base * 2 ** (receive_count - 1)
    assert consumer.backoff_seconds(receive_count + 1, base, cap=43200) >= longest_now


# --------------------------------------------------------------------------- classification


def _validation_error() -> ValidationError:
    try:
        Money(amount="1", currency="usd")
    except ValidationError as error:
        return error
    raise AssertionError("Money accepted a lower-case currency")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (TransientError("later"), ErrorClass.TRANSIENT),
        (BusUnavailable("bus down"), ErrorClass.TRANSIENT),
        (PermanentError("never"), ErrorClass.PERMANENT),
        (ConcordError("base"), ErrorClass.PERMANENT),
        (ConfigurationError("no table"), ErrorClass.PERMANENT),
        (ValidationFailed("bad"), ErrorClass.VALIDATION),
        (OwnershipConflict("not yours"), ErrorClass.CONFLICT),
        (InvalidEvent("bad event"), ErrorClass.PERMANENT),
        (SignatureInvalid("forged"), ErrorClass.PERMANENT),
        (_validation_error(), ErrorClass.VALIDATION),
        (
            ClientError({"Error": {"Code": "ThrottlingException", "Message": "x"}}, "PutItem"),
            ErrorClass.TRANSIENT,
        ),
        (EndpointConnectionError(endpoint_url="https://sqs.us-east-1.amazonaws.com"), ErrorClass.TRANSIENT),
        (ReadTimeoutError(endpoint_url="https://events.us-east-1.amazonaws.com"), ErrorClass.TRANSIENT),
        (TimeoutError(), ErrorClass.TRANSIENT),
        (ConnectionResetError(), ErrorClass.TRANSIENT),
        (ValueError("no"), ErrorClass.PERMANENT),
        (KeyError("data"), ErrorClass.PERMANENT),
        (RuntimeError("?"), ErrorClass.PERMANENT),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else value.value,
)
def test_classify(error: BaseException, expected: ErrorClass) -> None:
    assert classify(error) is expected


def test_describe_error_names_fields_not_values() -> None:
    reason = consumer.describe_error(_validation_error())
    assert reason.startswith("ValidationError: currency: ")
    assert "usd" not in reason


def test_describe_error_of_other_errors_names_the_type() -> None:
    assert consumer.describe_error(BusUnavailable("event bus b unreachable")) == (
        "BusUnavailable: event bus b unreachable"
    )
