"""Ingest dedupe in one write: what the ledger costs per delivery, and the properties it keeps
(a delivery published once, nothing acknowledged that is not on the bus, conflicts refused)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from concord.aws.clients import client
from concord.aws.delivery_ledger import DeliveryContentConflict, DeliveryLedger, LedgerUnavailable
from concord.clock import utc_now
from concord.events import event_id_for_delivery

from .test_webhook_ingest_handler import IDEMPOTENCY_TABLE, IngestStack, _delivery_body, _signed, stack  # noqa: F401
from .vendors.harness import body_of

NOW = 1_750_000_000


def _dynamodb_calls() -> Counter[str]:
    """Counts the DynamoDB operations the cached client makes from now on."""
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    client("dynamodb").meta.events.register("before-call.dynamodb", count)
    return calls


def test_a_new_delivery_costs_one_read_and_one_write_and_a_replay_no_write(stack: IngestStack, sample_data) -> None:
    body = _delivery_body(sample_data)
    calls = _dynamodb_calls()

    assert stack.post("crm", body, _signed(body, "msg_1"))["statusCode"] == 202
    assert calls == {"GetItem": 1, "PutItem": 1}

    calls.clear()
    assert stack.post("crm", body, _signed(body, "msg_1"))["statusCode"] == 202
    assert calls == {"GetItem": 1}
    assert stack.bus_count() == 1


def test_the_ledger_record_keeps_no_response_and_expires(stack: IngestStack, sample_data) -> None:
    body = _delivery_body(sample_data)
    before = int(utc_now().timestamp())
    stack.post("crm", body, _signed(body, "msg_1"))

    [record] = stack.dynamodb.scan(TableName=IDEMPOTENCY_TABLE)["Items"]

    assert set(record) == {"id", "body_sha256", "expiration"}
    remembered = int(record["expiration"]["N"]) - before
    assert 7 * 86400 <= remembered <= 7 * 86400 + 60  # REMEMBER_DELIVERIES_SECONDS' default


def test_a_failed_ledger_write_defers_and_the_retry_republishes_the_same_event(
    stack: IngestStack, sample_data, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Published but not remembered: the vendor is asked to retry rather than told "accepted"
    without a record, and the retry puts the same event id on the bus again (consumers dedupe)."""
    real_put_item = client("dynamodb").put_item
    attempts: list[str] = []

    def put_item_once_throttled(**kwargs: Any) -> Any:
        attempts.append(kwargs["TableName"])
        if len(attempts) == 1:
            raise client("dynamodb").exceptions.ProvisionedThroughputExceededException(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}, "PutItem"
            )
        return real_put_item(**kwargs)

    monkeypatch.setattr(client("dynamodb"), "put_item", put_item_once_throttled)
    body = _delivery_body(sample_data)

    deferred = stack.post("crm", body, _signed(body, "msg_1"))
    retried = stack.post("crm", body, _signed(body, "msg_1"))
    again = stack.post("crm", body, _signed(body, "msg_1"))

    assert deferred["statusCode"] == 503
    assert retried["statusCode"] == again["statusCode"] == 202
    assert {m["detail"]["id"] for m in stack.messages_on_bus()} == {event_id_for_delivery("crm", "msg_1")}
    assert stack.bus_count() == 2  # the deferred attempt's and the retry's; the third published nothing
    assert stack.idempotency_records() == 1


def test_a_record_past_its_expiry_is_not_a_replay(
    stack: IngestStack, sample_data, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = _delivery_body(sample_data)
    stack.post("crm", body, _signed(body, "msg_1"))
    later = utc_now() + dt.timedelta(days=8)  # TTL deletion lags: the record may still be there
    monkeypatch.setattr("concord.ingress.publishing.utc_now", lambda: later)

    response = stack.post("crm", body, _signed(body, "msg_1"))

    assert response["statusCode"] == 202
    assert body_of(response)["event_id"] == event_id_for_delivery("crm", "msg_1")
    assert stack.bus_count() == 2


# --------------------------------------------------------------------------- the ledger alone


@pytest.fixture
def ledger() -> Iterator[DeliveryLedger]:
    with mock_aws():
        boto3.client("dynamodb").create_table(
            TableName="ledger",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield DeliveryLedger("ledger", remember_seconds=3600)


def test_a_concurrent_copy_with_the_same_body_is_remembered_again(ledger: DeliveryLedger) -> None:
    ledger.remember("crm", "msg_1", "sha-a", now=NOW)
    ledger.remember("crm", "msg_1", "sha-a", now=NOW + 1)

    assert ledger.published("crm", "msg_1", "sha-a", now=NOW + 2)


def test_a_concurrent_delivery_with_another_body_is_a_conflict(ledger: DeliveryLedger) -> None:
    ledger.remember("crm", "msg_1", "sha-a", now=NOW)

    with pytest.raises(DeliveryContentConflict):
        ledger.remember("crm", "msg_1", "sha-b", now=NOW + 1)
    with pytest.raises(DeliveryContentConflict):
        ledger.published("crm", "msg_1", "sha-b", now=NOW + 1)


def test_another_body_after_expiry_is_a_new_delivery(ledger: DeliveryLedger) -> None:
    ledger.remember("crm", "msg_1", "sha-a", now=NOW)

    assert not ledger.published("crm", "msg_1", "sha-b", now=NOW + 3600)
    ledger.remember("crm", "msg_1", "sha-b", now=NOW + 3600)
    assert ledger.published("crm", "msg_1", "sha-b", now=NOW + 3601)


def test_deliveries_are_kept_apart_by_source_and_id(ledger: DeliveryLedger) -> None:
    ledger.remember("crm", "msg_1", "sha-a", now=NOW)

    assert not ledger.published("psa", "msg_1", "sha-a", now=NOW)
    assert not ledger.published("crm", "msg_2", "sha-a", now=NOW)


def test_an_unreachable_table_is_transient() -> None:
    with mock_aws():  # no table: DynamoDB answers ResourceNotFoundException
        ledger = DeliveryLedger("missing", remember_seconds=60)
        with pytest.raises(LedgerUnavailable):
            ledger.published("crm", "msg_1", "sha-a", now=NOW)
        with pytest.raises(LedgerUnavailable):
            ledger.remember("crm", "msg_1", "sha-a", now=NOW)
