"""Canonical business events: envelope, catalog, payload models and their JSON Schemas."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .envelope import (
    EVENT_MODEL_BY_TYPE,
    EVENT_MODELS,
    Envelope,
    event_id_for_delivery,
    new_event,
    producer_of,
)

if TYPE_CHECKING:
    from .versions import Accepts


def parse_event(raw: dict[str, Any] | str | bytes, accepts: Accepts | None = None) -> Envelope:
    """A received canonical event at a version its consumer accepts: concord.events.versions.parse_event.

    Imported when called: versions needs concord.errors, which imports this package's types.
    """
    from .versions import parse_event as parse_versioned

    return parse_versioned(raw, accepts)


__all__ = [
    "EVENT_MODELS",
    "EVENT_MODEL_BY_TYPE",
    "Envelope",
    "event_id_for_delivery",
    "new_event",
    "parse_event",
    "producer_of",
]
