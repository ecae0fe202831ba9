"""Normalizer for sources that send Concord's canonical format over Standard Webhooks.

Body: {"type": "AccountChanged", "timestamp": "<when it happened>", "data": {...},
       "legal_entity": optional, "correlation_id": optional, "causation_id": optional}
(type / timestamp / data is the payload structure Standard Webhooks recommends.)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from ..events import EVENT_MODEL_BY_TYPE, Envelope, event_id_for_delivery, producer_of
from ..events.envelope import LegalEntity
from ..events.types import RecordId
from .errors import InvalidEvent, ProducerNotAllowed
from .sources import SourceConfig


class CanonicalDelivery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str
    timestamp: AwareDatetime
    data: dict[str, Any]
    legal_entity: LegalEntity | None = None
    correlation_id: RecordId | None = None
    causation_id: RecordId | None = None


def validation_details(error: ValidationError) -> list[dict[str, str]]:
    """Where and why validation failed, without echoing the (untrusted) input back."""
    return [
        {"field": ".".join(str(part) for part in e["loc"]) or "(body)", "problem": e["msg"]}
        for e in error.errors(include_url=False, include_input=False)
    ][:20]


def to_canonical_event(
    source_name: str,
    source: SourceConfig,
    delivery_id: str,
    payload: Any,
    ingested_at: dt.datetime,
) -> Envelope:
    try:
        delivery = CanonicalDelivery.model_validate(payload)
    except ValidationError as error:
        raise InvalidEvent("body is not a canonical event delivery", validation_details(error)) from error

    model = EVENT_MODEL_BY_TYPE.get(delivery.type)
    if model is None:
        raise InvalidEvent(f"unknown event type {delivery.type[:64]!r}")
    if producer_of(delivery.type) != source.system:
        raise ProducerNotAllowed(
            f"source {source_name!r} speaks for {source.system.value}, but {delivery.type} "
            f"may only come from {producer_of(delivery.type).value}"
        )

    event_id = event_id_for_delivery(source_name, delivery_id)
    try:
        return model.model_validate(
            {
                "id": event_id,
                "occurred_at": delivery.timestamp,
                "correlation_id": delivery.correlation_id or event_id,
                "causation_id": delivery.causation_id,
                "legal_entity": delivery.legal_entity or source.legal_entity,
                "ingested_at": ingested_at,
                "data": delivery.data,
            }
        )
    except ValidationError as error:
        raise InvalidEvent(f"invalid {delivery.type} event", validation_details(error)) from error
