"""POST /webhooks/{source} end to end against moto: answers, and what reaches the bus."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from moto import mock_aws

from concord.aws.clients import client
from concord.events import event_id_for_delivery
from concord.ingress.standard_webhooks import sign_headers

from .vendors.harness import body_of, header_of

BUS = "concord-test"
IDEMPOTENCY_TABLE = "concord-test-idempotency"
SECRET_PREFIX = "concord/test/webhooks"
SECRET = "whsec_" + base64.b64encode(b"crm-signing-secret-32-bytes-long").decode()
OLD_SECRET = "whsec_" + base64.b64encode(b"the-previous-crm-secret-32-bytes").decode()
SOURCES = {
    "crm": {"system": "crm", "legal_entity": "acme-us"},
    # Configured, but nobody created its secret.
    "psa": {"system": "psa", "legal_entity": "acme-us"},
}


@dataclass
class IngestStack:
    handler: ModuleType
    context: Any
    sqs: Any
    dynamodb: Any
    tap_url: str

    def post(self, source: str, body: bytes | str, headers: dict[str, str]) -> dict[str, Any]:
        text = body.decode() if isinstance(body, bytes) else body
        return self.handler.handler(_api_event(source, text, headers), self.context)

    def messages_on_bus(self) -> list[dict[str, Any]]:
        """Every event the bus routed to the tap queue (left visible for the next look)."""
        received = self.sqs.receive_message(QueueUrl=self.tap_url, MaxNumberOfMessages=10, VisibilityTimeout=0)
        return [json.loads(message["Body"]) for message in received.get("Messages", [])]

    def bus_count(self) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.tap_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def idempotency_records(self) -> int:
        return self.dynamodb.scan(TableName=IDEMPOTENCY_TABLE, Select="COUNT")["Count"]


def _api_event(source: str, body: str, headers: dict[str, str]) -> dict[str, Any]:
    """An API Gateway REST (v1) proxy event for POST /webhooks/{source}."""
    return {
        "resource": "/webhooks/{source}",
        "path": f"/webhooks/{source}",
        "httpMethod": "POST",
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"source": source},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/webhooks/{source}",
            "httpMethod": "POST",
            "path": f"/prod/webhooks/{source}",
            "stage": "prod",
            "requestId": "req-1",
            "accountId": "123456789012",
            "apiId": "api1234567",
            "identity": {"sourceIp": "203.0.113.10"},
        },
        "body": body,
        "isBase64Encoded": False,
    }


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch, load_handler, lambda_context) -> Iterator[IngestStack]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        dynamodb.create_table(
            TableName=IDEMPOTENCY_TABLE,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        sqs = boto3.client("sqs")
        tap_url = sqs.create_queue(QueueName="bus-tap")["QueueUrl"]
        tap_arn = sqs.get_queue_attributes(QueueUrl=tap_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events = boto3.client("events")
        events.create_event_bus(Name=BUS)
        events.put_rule(
            Name="everything",
            EventBusName=BUS,
            EventPattern=json.dumps({"source": ["concord.crm", "concord.psa", "concord.erp", "concord.concord"]}),
        )
        events.put_targets(Rule="everything", EventBusName=BUS, Targets=[{"Id": "tap", "Arn": tap_arn}])
        boto3.client("secretsmanager").create_secret(
            Name=f"{SECRET_PREFIX}/crm", SecretString=json.dumps({"signing_secrets": [SECRET, OLD_SECRET]})
        )
        for name, value in {
            "EVENT_BUS_NAME": BUS,
            "IDEMPOTENCY_TABLE_NAME": IDEMPOTENCY_TABLE,
            "WEBHOOK_SOURCES": json.dumps(SOURCES),
            "WEBHOOK_SECRET_PREFIX": SECRET_PREFIX,
        }.items():
            monkeypatch.setenv(name, value)
        yield IngestStack(load_handler("webhook_ingest"), lambda_context, sqs, dynamodb, tap_url)


def _delivery_body(sample_data, event_type: str = "AccountChanged", **changes: Any) -> bytes:
    data = {**sample_data(event_type), **changes}
    return json.dumps({"type": event_type, "timestamp": "2025-03-14T11:59:00+00:00", "data": data}).encode()


def _signed(body: bytes, delivery_id: str = "msg_1", secret: str = SECRET, **extra: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        **{name.title(): value for name, value in sign_headers(secret, delivery_id, int(time.time()), body).items()},
        **extra,
    }


def _assert_refused(response: dict[str, Any], status: int, error: str, stack: IngestStack) -> None:
    assert response["statusCode"] == status, response
    assert header_of(response, "Content-Type") == "application/json"
    body = body_of(response)
    assert body["error"] == error
    assert body["message"]
    assert stack.bus_count() == 0
    assert stack.idempotency_records() == 0


# --------------------------------------------------------------------------- accepted deliveries


def test_a_genuine_delivery_is_accepted_and_published_once(stack: IngestStack, sample_data) -> None:
    body = _delivery_body(sample_data)

    response = stack.post("crm", body, _signed(body, "msg_1"))

    assert response["statusCode"] == 202
    answer = body_of(response)
    assert answer == {
        "status": "accepted",
        "event_id": event_id_for_delivery("crm", "msg_1"),
        "event_type": "AccountChanged",
    }
    [routed] = stack.messages_on_bus()
    assert routed["source"] == "concord.crm"
    assert routed["detail-type"] == "AccountChanged"
    assert routed["detail"]["id"] == answer["event_id"]
    assert routed["detail"]["legal_entity"] == "acme-us"
    assert routed["detail"]["data"]["account_id"] == sample_data("AccountChanged")["account_id"]


def test_a_redelivery_gets_the_same_answer_and_publishes_nothing_more(stack: IngestStack, sample_data) -> None:
    body = _delivery_body(sample_data)
    first = stack.post("crm", body, _signed(body, "msg_1"))

    again = stack.post("crm", body, _signed(body, "msg_1"))

    assert again["statusCode"] == 202
    assert body_of(again)["event_id"] == body_of(first)["event_id"]
    assert stack.bus_count() == 1


def test_distinct_deliveries_are_each_published(stack: IngestStack, sample_data) -> None:
    body = _delivery_body(sample_data)
    stack.post("crm", body, _signed(body, "msg_1"))
    stack.post("crm", body, _signed(body, "msg_2"))

    assert stack.bus_count() == 2
    assert {m["detail"]["id"] for m in stack.messages_on_bus()} == {
        event_id_for_delivery("crm", "msg_1"),
        event_id_for_delivery("crm", "msg_2"),
    }


def test_a_delivery_signed_with_the_previous_secret_is_accepted_while_rotating(stack: IngestStack, sample_data) -> None:
    body = _delivery_body(sample_data)
    response = stack.post("crm", body, _signed(body, secret=OLD_SECRET))
    assert response["statusCode"] == 202
    assert stack.bus_count() == 1


def _rotate_crm_secret(*signing_secrets: str) -> None:
    boto3.client("secretsmanager").put_secret_value(
        SecretId=f"{SECRET_PREFIX}/crm", SecretString=json.dumps({"signing_secrets": list(signing_secrets)})
    )


def test_a_rotated_secret_is_used_once_the_cache_period_is_over(stack: IngestStack, sample_data, monkeypatch) -> None:
    monkeypatch.setenv("SECRET_CACHE_SECONDS", "0")
    new_secret = "whsec_" + base64.b64encode(b"the-next-crm-signing-secret-32b!").decode()
    body = _delivery_body(sample_data)
    assert stack.post("crm", body, _signed(body, "msg_1", secret=new_secret))["statusCode"] == 401

    _rotate_crm_secret(new_secret, SECRET)

    assert stack.post("crm", body, _signed(body, "msg_2", secret=new_secret))["statusCode"] == 202
    assert stack.post("crm", body, _signed(body, "msg_3", secret=SECRET))["statusCode"] == 202
    _rotate_crm_secret(new_secret)
    assert stack.post("crm", body, _signed(body, "msg_4", secret=SECRET))["statusCode"] == 401


def test_signing_secrets_are_cached_between_deliveries(stack: IngestStack, sample_data) -> None:
    body = _delivery_body(sample_data)
    assert stack.post("crm", body, _signed(body, "msg_1"))["statusCode"] == 202

    _rotate_crm_secret(OLD_SECRET)  # SECRET is retired, but the cached copy still has it

    assert stack.post("crm", body, _signed(body, "msg_2"))["statusCode"] == 202


def test_the_same_delivery_id_with_a_different_body_is_a_conflict(stack: IngestStack, sample_data) -> None:
    body = _delivery_body(sample_data)
    stack.post("crm", body, _signed(body, "msg_1"))
    changed = _delivery_body(sample_data, name="Acme Holding GmbH")

    response = stack.post("crm", changed, _signed(changed, "msg_1"))

    assert response["statusCode"] == 409
    assert body_of(response)["error"] == "delivery_conflict"
    assert stack.bus_count() == 1


# --------------------------------------------------------------------------- refusals


def test_an_unknown_source_is_not_found(stack: IngestStack, sample_data) -> None:
    body = _delivery_body(sample_data)
    _assert_refused(stack.post("hr", body, _signed(body)), 404, "unknown_source", stack)


def test_a_bad_signature_is_unauthorized(stack: IngestStack, sample_data) -> None:
    body = _delivery_body(sample_data)
    forged = "whsec_" + base64.b64encode(b"an-attacker-guess-32-bytes-long!").decode()
    _assert_refused(stack.post("crm", body, _signed(body, secret=forged)), 401, "signature_invalid", stack)


def _emitted_metrics(output: str) -> list[tuple[set[str], dict[str, Any]]]:
    """(metric names, dimensions) of each EMF blob Powertools printed."""
    blobs = [json.loads(line) for line in output.splitlines() if line.startswith("{") and '"_aws"' in line]
    return [
        (
            {m["Name"] for d in blob["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]},
            {k: blob[k] for d in blob["_aws"]["CloudWatchMetrics"] for dims in d["Dimensions"] for k in dims},
        )
        for blob in blobs
    ]


def test_signature_failures_are_counted_per_source_for_the_alarm(
    stack: IngestStack, sample_data, capsys: pytest.CaptureFixture[str]
) -> None:
    body = _delivery_body(sample_data)
    stack.post("crm", body, {"Content-Type": "application/json"})
    stack.post("crm", b"[1", _signed(b"[1"))  # signed but malformed: refused, not a signature failure

    unsigned, malformed = _emitted_metrics(capsys.readouterr().out)
    assert "SignatureFailures" in unsigned[0] and unsigned[1]["source"] == "crm"
    assert "SignatureFailures" not in malformed[0] and "WebhooksRejected" in malformed[0]


def test_a_delivery_without_signature_headers_is_unauthorized(stack: IngestStack, sample_data) -> None:
    body = _delivery_body(sample_data)
    response = stack.post("crm", body, {"Content-Type": "application/json"})
    _assert_refused(response, 401, "signature_missing", stack)


def test_a_replayed_old_delivery_is_unauthorized(stack: IngestStack, sample_data) -> None:
    body = _delivery_body(sample_data)
    headers = {
        "content-type": "application/json",
        **sign_headers(SECRET, "msg_1", int(time.time()) - 3600, body),
    }
    _assert_refused(stack.post("crm", body, headers), 401, "timestamp_out_of_tolerance", stack)


def test_an_oversized_body_is_too_large(stack: IngestStack) -> None:
    body = b'{"pad": "' + b"x" * (256 * 1024) + b'"}'
    _assert_refused(stack.post("crm", body, _signed(body)), 413, "payload_too_large", stack)


def test_a_configured_smaller_body_limit_applies(stack: IngestStack, sample_data, monkeypatch) -> None:
    monkeypatch.setenv("MAX_BODY_BYTES", "100")
    body = _delivery_body(sample_data)
    assert len(body) > 100
    _assert_refused(stack.post("crm", body, _signed(body)), 413, "payload_too_large", stack)


def test_a_non_json_content_type_is_unsupported(stack: IngestStack, sample_data) -> None:
    body = _delivery_body(sample_data)
    response = stack.post("crm", body, _signed(body, **{"Content-Type": "text/plain"}))
    _assert_refused(response, 415, "unsupported_media_type", stack)


def test_a_signed_body_that_is_not_json_is_a_bad_request(stack: IngestStack) -> None:
    body = b'{"type": "AccountChanged",'
    _assert_refused(stack.post("crm", body, _signed(body)), 400, "malformed_payload", stack)


def test_an_invalid_event_is_unprocessable_with_details(stack: IngestStack, sample_data) -> None:
    body = _delivery_body(sample_data, currency="euro-not-iso")

    response = stack.post("crm", body, _signed(body))

    _assert_refused(response, 422, "invalid_event", stack)
    details = body_of(response)["details"]
    assert {"field": "data.currency", "problem": details[0]["problem"]} in details
    assert "euro-not-iso" not in response["body"]


def test_an_event_the_source_is_not_authority_for_is_forbidden(stack: IngestStack, sample_data) -> None:
    body = _delivery_body(sample_data, "InvoicePosted")
    _assert_refused(stack.post("crm", body, _signed(body)), 403, "producer_not_allowed", stack)


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_an_unknown_route_is_a_json_not_found(stack: IngestStack) -> None:
    event = _api_event("crm", "{}", {"content-type": "application/json"})
    event.update(path="/elsewhere", resource="/elsewhere", httpMethod="GET")
    response = stack.handler.handler(event, stack.context)
    assert response["statusCode"] == 404
    assert body_of(response)["error"] == "not_found"


# --------------------------------------------------------------------------- deferrals and failures


def test_a_missing_secret_defers_the_delivery(stack: IngestStack, sample_data) -> None:
    body = _delivery_body(sample_data, "TimeApproved")

    response = stack.post("psa", body, _signed(body))

    assert response["statusCode"] == 503
    assert body_of(response)["error"] == "temporarily_unavailable"
    assert int(header_of(response, "Retry-After")) > 0
    assert stack.bus_count() == 0


@pytest.mark.parametrize("signing_secrets", [[], ["not-a-whsec-secret"]], ids=["empty", "not-whsec"])
def test_a_secret_of_the_wrong_form_defers_the_delivery(stack: IngestStack, sample_data, signing_secrets) -> None:
    boto3.client("secretsmanager").create_secret(
        Name=f"{SECRET_PREFIX}/psa", SecretString=json.dumps({"signing_secrets": signing_secrets})
    )
    body = _delivery_body(sample_data, "TimeApproved")

    response = stack.post("psa", body, _signed(body))

    assert response["statusCode"] == 503
    assert stack.bus_count() == 0


def test_invalid_source_configuration_defers_the_delivery(stack: IngestStack, sample_data, monkeypatch) -> None:
    monkeypatch.setenv("WEBHOOK_SOURCES", json.dumps({"crm": {"system": "nosuch", "legal_entity": "us-01"}}))
    body = _delivery_body(sample_data)

    response = stack.post("crm", body, _signed(body))

    assert response["statusCode"] == 503
    assert int(header_of(response, "Retry-After")) > 0
    assert stack.bus_count() == 0


def test_an_unreachable_bus_defers_and_the_retry_is_published(stack: IngestStack, sample_data, monkeypatch) -> None:
    events = client("events")  # the cached client the publisher will use
    real_put_events = events.put_events
    attempts: list[int] = []

    def put_events_once_unreachable(**kwargs: Any) -> Any:
        attempts.append(len(kwargs["Entries"]))
        if len(attempts) == 1:
            raise EndpointConnectionError(endpoint_url="https://events.us-east-1.amazonaws.com")
        return real_put_events(**kwargs)

    monkeypatch.setattr(events, "put_events", put_events_once_unreachable)
    body = _delivery_body(sample_data)

    deferred = stack.post("crm", body, _signed(body, "msg_1"))

    assert deferred["statusCode"] == 503
    assert int(header_of(deferred, "Retry-After")) > 0
    assert stack.bus_count() == 0
    assert stack.idempotency_records() == 0  # released, so the retry is processed afresh

    retried = stack.post("crm", body, _signed(body, "msg_1"))

    assert retried["statusCode"] == 202
    assert body_of(retried)["event_id"] == event_id_for_delivery("crm", "msg_1")
    assert attempts == [1, 1]
    assert stack.bus_count() == 1


def test_a_bus_that_rejects_the_entry_defers_the_delivery(stack: IngestStack, sample_data, monkeypatch) -> None:
    monkeypatch.setattr(
        client("events"),
        "put_events",
        lambda **_: {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "ThrottlingException"}]},
    )
    body = _delivery_body(sample_data)

    response = stack.post("crm", body, _signed(body))

    assert response["statusCode"] == 503
    assert stack.idempotency_records() == 0


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_an_unexpected_error_is_a_500_without_internals(stack: IngestStack, sample_data, monkeypatch) -> None:
    def explode(*_: Any, **__: Any) -> None:
        raise RuntimeError("connection string postgres://admin:hunter2@db")

    monkeypatch.setattr(stack.handler, "accept_delivery", explode)
    body = _delivery_body(sample_data)

    response = stack.post("crm", body, _signed(body))

    assert response["statusCode"] == 500
    assert body_of(response)["error"] == "internal_error"
    for leak in ("Traceback", "RuntimeError", "hunter2", 'File "', "handler.py"):
        assert leak not in response["body"]
    assert stack.bus_count() == 0


def test_a_huge_timestamp_is_refused_not_a_server_error(stack: IngestStack, sample_data) -> None:
    body = _delivery_body(sample_data)
    headers = _signed(body)
    headers["Webhook-Timestamp"] = "999999999999"
    _assert_refused(stack.post("crm", body, headers), 401, "timestamp_out_of_tolerance", stack)
