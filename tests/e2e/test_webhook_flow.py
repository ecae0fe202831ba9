"""A signed webhook travels ingest → bus → queue → audit trail on the local stack."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid

import httpx
import pytest

from concord.local.demo_secrets import demo_signing_secret
from concord.local.inspect import LocalView
from concord.local.sender import canonical_delivery, post

pytestmark = pytest.mark.e2e


def account_data(account_id: str | None = None) -> dict:
    return {"account_id": account_id or f"A-{uuid.uuid4().hex[:8]}", "name": "Acme Consulting"}


def test_signed_webhook_is_recorded_in_the_audit_trail_with_its_path(view: LocalView, http: httpx.Client) -> None:
    # Given a CRM account change signed with the CRM source's secret
    data = account_data()
    delivery = canonical_delivery(demo_signing_secret("crm"), "AccountChanged", data)

    # When it is posted to the webhook endpoint
    response = post(http, f"{view.state.webhook_url}/crm", delivery)

    # Then it is accepted and the audit trail records the canonical event with each hop's time
    assert response.status_code == 202, response.text
    event_id = response.json()["event_id"]
    record = view.wait_for(lambda: view.audit.event(event_id), timeout=30)
    assert record is not None
    assert record.data["account_id"] == data["account_id"]
    assert record.detail["source_system"] == "crm"
    assert record.legal_entity == "us-01"
    hops = [record.ingested_at, record.enqueued_at, record.first_received_at, record.recorded_at]
    assert all(hops), record
    assert hops == sorted(hops)


def test_a_delivery_retried_by_the_vendor_reaches_the_bus_once(quiet_bus: LocalView, http: httpx.Client) -> None:
    delivery = canonical_delivery(demo_signing_secret("crm"), "AccountChanged", account_data())
    url = f"{quiet_bus.state.webhook_url}/crm"

    answers = [post(http, url, delivery) for _ in range(3)]

    assert [a.status_code for a in answers] == [202, 202, 202]
    assert len({a.json()["event_id"] for a in answers}) == 1
    on_bus = quiet_bus.wait_for(quiet_bus.drain_tap, timeout=10)
    time.sleep(1)
    on_bus += quiet_bus.drain_tap()
    assert [e["detail"]["id"] for e in on_bus] == [answers[0].json()["event_id"]]


def test_a_vendor_retry_with_a_fresh_signature_and_timestamp_is_still_one_event(
    quiet_bus: LocalView, http: httpx.Client
) -> None:
    # Standard Webhooks retries keep webhook-id and re-sign with a new timestamp.
    secret, data, delivery_id = demo_signing_secret("crm"), account_data(), f"msg_{uuid.uuid4().hex}"
    occurred = dt.datetime.now(dt.UTC)
    first = canonical_delivery(secret, "AccountChanged", data, delivery_id=delivery_id, occurred_at=occurred)
    retry = canonical_delivery(
        secret, "AccountChanged", data, delivery_id=delivery_id, occurred_at=occurred, timestamp=int(time.time()) + 2
    )
    url = f"{quiet_bus.state.webhook_url}/crm"

    assert post(http, url, first).status_code == 202
    assert post(http, url, retry).status_code == 202

    on_bus = quiet_bus.wait_for(quiet_bus.drain_tap, timeout=10)
    time.sleep(1)
    assert len(on_bus + quiet_bus.drain_tap()) == 1


def test_same_delivery_id_with_another_body_is_a_conflict(quiet_bus: LocalView, http: httpx.Client) -> None:
    secret, delivery_id = demo_signing_secret("crm"), f"msg_{uuid.uuid4().hex}"
    url = f"{quiet_bus.state.webhook_url}/crm"
    assert (
        post(
            http, url, canonical_delivery(secret, "AccountChanged", account_data(), delivery_id=delivery_id)
        ).status_code
        == 202
    )
    quiet_bus.wait_for(quiet_bus.drain_tap, timeout=10)

    changed = post(http, url, canonical_delivery(secret, "AccountChanged", account_data(), delivery_id=delivery_id))

    assert changed.status_code == 409
    assert changed.json()["error"] == "delivery_conflict"
    time.sleep(1)
    assert quiet_bus.drain_tap() == []


def test_an_event_no_consumer_can_process_is_parked_in_the_dlq_with_its_reason(view: LocalView) -> None:
    # Given an event on the bus that is not a valid canonical event (a producer bug)
    event_id = str(uuid.uuid4())
    view.events.put_events(
        Entries=[
            {
                "EventBusName": view.topology.setting("EVENT_BUS_NAME"),
                "Source": "concord.crm",
                "DetailType": "AccountChanged",
                "Detail": json.dumps({"id": event_id, "type": "AccountChanged", "data": {"name": "no id"}}),
            }
        ]
    )

    # Then after maxReceiveCount failed attempts it sits in the consumer's DLQ
    parked = view.wait_for(
        lambda: [m for m in view.dlq_messages("concord-local-audit-trail-dlq") if event_id in m["Body"]],
        timeout=60,
        interval=0.5,
    )
    assert parked, "the poison event never reached the DLQ"
    # and each failed attempt left its reason, naming what is wrong without the payload's values
    attempts = view.audit.failures_of(parked[0]["MessageId"])
    max_receive = next(q.max_receive_count for q in view.topology.queues if q.name == "concord-local-audit-trail")
    assert len(attempts) == max_receive
    assert {a.error_class for a in attempts} == {"validation"}
    assert all("no id" not in a.reason for a in attempts)
    assert all(a.event_id == event_id for a in attempts)
    assert view.audit.event(event_id) is None
