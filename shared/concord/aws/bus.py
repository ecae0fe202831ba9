"""Publishing canonical events to the EventBridge bus."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..errors import TransientError
from ..events import Envelope

PUT_EVENTS_MAX_ENTRIES = 10


class BusUnavailable(TransientError):
    """The event bus did not accept every event; the caller must not acknowledge them."""


class EventBusPublisher:
    def __init__(self, bus_name: str, events_client: Any) -> None:
        self._bus_name = bus_name
        self._client = events_client

    def publish(self, events: Sequence[Envelope]) -> None:
        for start in range(0, len(events), PUT_EVENTS_MAX_ENTRIES):
            self._put_batch(events[start : start + PUT_EVENTS_MAX_ENTRIES])

    def _put_batch(self, events: Sequence[Envelope]) -> None:
        entries = [
            {
                "EventBusName": self._bus_name,
                "Source": event.bus_source,
                "DetailType": event.type,
                "Detail": event.model_dump_json(),
            }
            for event in events
        ]
        try:
            response = self._client.put_events(Entries=entries)
        except (BotoCoreError, ClientError) as error:
            raise BusUnavailable(f"event bus {self._bus_name} unreachable: {error}") from error
        if response.get("FailedEntryCount", 0):
            reasons = {e.get("ErrorCode", "unknown") for e in response["Entries"] if "ErrorCode" in e}
            raise BusUnavailable(f"event bus {self._bus_name} rejected entries: {sorted(reasons)}")
