"""Publishing canonical events to the EventBridge bus."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..errors import TransientError
from ..events import Envelope

PUT_EVENTS_MAX_ENTRIES = 10
# https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html
# "The total entry size must be less than 256KB": read as 256,000 bytes, the stricter reading.
PUT_EVENTS_MAX_BYTES = 256_000


class BusUnavailable(TransientError):
    """The event bus did not accept every event; the caller must not acknowledge them."""


def entry_size(event: Envelope) -> int:
    """The size EventBridge counts for the event's PutEvents entry (Source, DetailType and
    Detail as UTF-8; no Time or Resources are sent)."""
    entry = _entry("", event)
    return sum(len(entry[key].encode("utf-8")) for key in ("Source", "DetailType", "Detail"))


def fits_on_the_bus(event: Envelope) -> bool:
    return entry_size(event) < PUT_EVENTS_MAX_BYTES


def _entry(bus_name: str, event: Envelope) -> dict[str, str]:
    return {
        "EventBusName": bus_name,
        "Source": event.bus_source,
        "DetailType": event.type,
        "Detail": event.model_dump_json(),
    }


def _batches(events: Sequence[Envelope]) -> list[list[Envelope]]:
    """Consecutive batches of at most 10 entries whose sizes add up to under the request limit."""
    batches: list[list[Envelope]] = []
    size = 0
    for event in events:
        event_size = entry_size(event)
        if not batches or len(batches[-1]) == PUT_EVENTS_MAX_ENTRIES or size + event_size >= PUT_EVENTS_MAX_BYTES:
            batches.append([])
            size = 0
        batches[-1].append(event)
        size += event_size
    return batches


class EventBusPublisher:
    def __init__(self, bus_name: str, events_client: Any) -> None:
        self._bus_name = bus_name
        self._client = events_client

    def publish(self, events: Sequence[Envelope]) -> None:
        for batch in _batches(events):
            self._put_batch(batch)

    def _put_batch(self, events: Sequence[Envelope]) -> None:
        entries = [_entry(self._bus_name, event) for event in events]
        try:
            response = self._client.put_events(Entries=entries)
        except (BotoCoreError, ClientError) as error:
            raise BusUnavailable(f"event bus {self._bus_name} unreachable: {error}") from error
        if response.get("FailedEntryCount", 0):
            reasons = {e.get("ErrorCode", "unknown") for e in response["Entries"] if "ErrorCode" in e}
            raise BusUnavailable(f"event bus {self._bus_name} rejected entries: {sorted(reasons)}")
