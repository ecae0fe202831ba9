"""Canonical business events: envelope, catalog, payload models and their JSON Schemas.

Received events are parsed by concord.events.versions.parse_event (versions, upcasting).
"""

from .envelope import (
    EVENT_MODEL_BY_TYPE,
    EVENT_MODELS,
    Envelope,
    event_id_for_delivery,
    new_event,
    producer_of,
)

__all__ = [
    "EVENT_MODELS",
    "EVENT_MODEL_BY_TYPE",
    "Envelope",
    "event_id_for_delivery",
    "new_event",
    "producer_of",
]
