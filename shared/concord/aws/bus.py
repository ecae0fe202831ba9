"""Publishing canonical events to the EventBridge bus."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..errors import TransientError
from ..events import Envelope
from ..events.versions import check_version

PUT_EVENTS_MAX_ENTRIES = 10
# https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html
# "The total entry size must be less than 256KB": read as 256,000 bytes, the stricter reading.
PUT_EVENTS_MAX_BYTES = 256_000


class BusUnavailable(TransientError):
    """The event bus did not accept every event; the caller must not acknowledge them."""


@dataclass(frozen=True)
class BusEntry:
    """One PutEvents entry, serialized once: its size is checked and it is sent from the same text."""

    source: str
    detail_type: str
    detail: str

    @property
    def size(self) -> int:
        """The size EventBridge counts (Source, DetailType and Detail as UTF-8; no Time or Resources are sent)."""
        return sum(len(text.encode("utf-8")) for text in (self.source, self.detail_type, self.detail))

    def fits(self) -> bool:
        return self.size < PUT_EVENTS_MAX_BYTES


def bus_entry(event: Envelope) -> BusEntry:
    check_version(event)  # every event published passes here: a retired version is refused
    return BusEntry(source=event.bus_source, detail_type=event.type, detail=event.model_dump_json())


def entry_size(event: Envelope) -> int:
    return bus_entry(event).size


def _batches(entries: Sequence[BusEntry]) -> list[list[BusEntry]]:
    """Consecutive batches of at most 10 entries whose sizes add up to under the request limit."""
    batches: list[list[BusEntry]] = []
    size = 0
    for entry in entries:
        entry_bytes = entry.size
        if not batches or len(batches[-1]) == PUT_EVENTS_MAX_ENTRIES or size + entry_bytes >= PUT_EVENTS_MAX_BYTES:
            batches.append([])
            size = 0
        batches[-1].append(entry)
        size += entry_bytes
    return batches


class EventBusPublisher:
    def __init__(self, bus_name: str, events_client: Any) -> None:
        self._bus_name = bus_name
        self._client = events_client

    def publish(self, events: Sequence[Envelope]) -> None:
        self.publish_entries([bus_entry(event) for event in events])

    def publish_entries(self, entries: Sequence[BusEntry]) -> None:
        """Entries already serialized (see BusEntry), e.g. by webhook ingest before its idempotency record."""
        for batch in _batches(entries):
            self._put_batch(batch)

    def _put_batch(self, batch: Sequence[BusEntry]) -> None:
        entries = [
            {"EventBusName": self._bus_name, "Source": e.source, "DetailType": e.detail_type, "Detail": e.detail}
            for e in batch
        ]
        try:
            response = self._client.put_events(Entries=entries)
        except (BotoCoreError, ClientError) as error:
            raise BusUnavailable(f"event bus {self._bus_name} unreachable: {error}") from error
        if response.get("FailedEntryCount", 0):
            reasons = {e.get("ErrorCode", "unknown") for e in response["Entries"] if "ErrorCode" in e}
            raise BusUnavailable(f"event bus {self._bus_name} rejected entries: {sorted(reasons)}")
