"""Ingress hardening (issue #18): what the bad-input catalog cannot say with a status alone.

A refused control character names its field; an accepted delivery always fits on EventBridge
(256 KB per PutEvents request, envelope included); deliveries of many events are put in
batches that each fit.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from concord.aws.bus import PUT_EVENTS_MAX_BYTES, EventBusPublisher, entry_size
from concord.events import EVENT_MODEL_BY_TYPE, new_event
from concord.events.types import Name

from .vendors import senders
from .vendors.harness import BC_STATE, CRM_SECRET, Ingest, body_of, ingest  # noqa: F401  (fixture)

MAX_BODY = 256 * 1024


def _account_of_size(size: int) -> bytes:
    """An AccountChanged body of exactly `size` bytes: its 100 changed_fields padded."""

    def body(width: int, pad: int = 0) -> bytes:
        data = {"account_id": "A-1", "name": "Acme", "changed_fields": ["f" * width] * 100}
        return (
            json.dumps(
                {"type": "AccountChanged", "timestamp": "2026-01-05T09:00:00+00:00", "data": data},
                separators=(",", ":"),
            ).encode()
            + b" " * pad
        )

    width, pad = divmod(size - len(body(0)), 100)
    return body(width, pad)


@pytest.mark.parametrize(("field", "value"), [("name", "Acme\x00"), ("account_id", "A\u202e1"), ("name", "\u2067Acme")])
def test_a_control_character_is_refused_with_422_naming_the_field(ingest: Ingest, field: str, value: str) -> None:
    body = senders.canonical_body(data={"account_id": "A-1", "name": "Acme", field: value})

    response = ingest.post(senders.standard_webhooks("crm", CRM_SECRET, body))

    assert (response["statusCode"], body_of(response)["error"]) == (422, "invalid_event")
    assert [d["field"] for d in body_of(response)["details"]] == [f"data.{field}"]
    assert "control character" in body_of(response)["details"][0]["problem"]
    assert ingest.effects() == (0, 0, 0)


def test_names_keep_ordinary_unicode() -> None:
    from pydantic import TypeAdapter

    assert TypeAdapter(Name).validate_python("  Société Générale — 東京 ") == "Société Générale — 東京"


def test_a_body_under_the_limit_whose_event_would_overflow_the_bus_is_refused(ingest: Ingest) -> None:
    body = _account_of_size(MAX_BODY - 16)
    assert len(body) < MAX_BODY

    response = ingest.post(senders.standard_webhooks("crm", CRM_SECRET, body))

    assert (response["statusCode"], body_of(response)["error"]) == (413, "payload_too_large")
    assert ingest.effects() == (0, 0, 0)


def test_a_large_event_that_fits_is_published(ingest: Ingest) -> None:
    body = _account_of_size(PUT_EVENTS_MAX_BYTES - 4096)

    response = ingest.post(senders.standard_webhooks("crm", CRM_SECRET, body))

    assert response["statusCode"] == 202, response["body"][:300]
    assert ingest.bus_count() == 1


class _RecordingEvents:
    def __init__(self) -> None:
        self.batches: list[list[dict[str, Any]]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.batches.append(Entries)
        return {"FailedEntryCount": 0, "Entries": [{"EventId": str(i)} for i in range(len(Entries))]}


def _account(name_length: int, index: int) -> Any:
    data = {"account_id": f"A-{index}", "name": "n" * name_length, "changed_fields": ["x" * 400] * 100}
    return new_event(
        EVENT_MODEL_BY_TYPE["AccountChanged"], data, legal_entity="acme-us", occurred_at=dt.datetime.now(dt.UTC)
    )


def test_events_are_put_in_batches_that_each_fit_in_one_request() -> None:
    events = [_account(255, i) for i in range(12)]  # ~41 KB each: ten would not fit in one request
    client = _RecordingEvents()

    EventBusPublisher("bus", client).publish(events)

    assert [e["Detail"] for batch in client.batches for e in batch] == [e.model_dump_json() for e in events]
    assert len(client.batches) == 2
    for batch in client.batches:
        assert len(batch) <= 10
        assert (
            sum(len(e["Source"]) + len(e["DetailType"]) + len(e["Detail"].encode()) for e in batch)
            < PUT_EVENTS_MAX_BYTES
        )
    assert entry_size(events[0]) == len(events[0].bus_source) + len("AccountChanged") + len(
        events[0].model_dump_json().encode()
    )
