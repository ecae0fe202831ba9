"""Normalizer for sources that send Concord's canonical format over Standard Webhooks.

Body: {"type": "AccountChanged", "timestamp": "<when it happened>", "data": {...},
       "version": optional, "legal_entity": optional, "correlation_id": optional, "causation_id": optional}
(type / timestamp / data is the payload structure Standard Webhooks recommends.) Without a
version, a delivery is version 1 of its type: what every delivery was before versions. A
retired version is refused; a deprecated one is published as sent (and counted: aws.bus).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError, create_model

from ..events import EVENT_MODEL_BY_TYPE, Envelope, event_id_for_delivery, producer_of
from ..events.envelope import EVENT_MODEL_BY_VERSION, LegalEntity
from ..events.types import RecordId
from ..events.versions import VERSIONS, Status, current_version
from .errors import InvalidEvent, ProducerNotAllowed
from .sources import SourceConfig


class CanonicalDelivery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str
    timestamp: AwareDatetime
    data: dict[str, Any]
    version: int = 1
    legal_entity: LegalEntity | None = None
    correlation_id: RecordId | None = None
    causation_id: RecordId | None = None


def validation_details(error: ValidationError) -> list[dict[str, str]]:
    """Where and why validation failed, without echoing the (untrusted) input back."""
    return [
        {"field": ".".join(str(part) for part in e["loc"]) or "(body)", "problem": e["msg"]}
        for e in error.errors(include_url=False, include_input=False)
    ][:20]


def _typed_delivery(event_model: type[Envelope]) -> type[CanonicalDelivery]:
    """CanonicalDelivery whose data is the event type's payload model, so the body is validated in one pass."""
    payload_model = event_model.model_fields["data"].annotation
    assert payload_model is not None, f"{event_model.__name__}.data has a type"
    return create_model(f"{event_model.__name__}Delivery", __base__=CanonicalDelivery, data=(payload_model, ...))


_TYPED_DELIVERIES: dict[tuple[str, int], type[CanonicalDelivery]] = {
    key: _typed_delivery(model) for key, model in EVENT_MODEL_BY_VERSION.items()
}


def _delivery_of(source_name: str, source: SourceConfig, payload: Any) -> CanonicalDelivery:
    """The body validated once, as the typed delivery of its event type. Refusals keep their order:
    malformed shape, unknown type or version, retired version, foreign producer, then invalid data."""
    event_type = payload.get("type") if isinstance(payload, dict) else None
    version = payload.get("version", 1) if isinstance(payload, dict) else None
    typed = None
    if isinstance(event_type, str) and isinstance(version, int):
        typed = _TYPED_DELIVERIES.get((event_type, version))
    data_error: ValidationError | None = None
    if typed is not None:
        try:
            delivery = typed.model_validate(payload)
        except ValidationError as error:
            data_error = error
        else:
            _check_version(delivery)
            _check_producer(source_name, source, delivery.type)
            return delivery
    try:  # only a refused body gets here: the untyped model tells a malformed shape from bad data
        shape = CanonicalDelivery.model_validate(payload)
    except ValidationError as error:
        raise InvalidEvent("body is not a canonical event delivery", validation_details(error)) from error
    if data_error is None and shape.type in EVENT_MODEL_BY_TYPE:
        raise InvalidEvent(f"unknown version {shape.version} of {shape.type}")
    if data_error is None:
        raise InvalidEvent(f"unknown event type {shape.type[:64]!r}")
    _check_producer(source_name, source, shape.type)
    raise InvalidEvent(f"invalid {shape.type} event", validation_details(data_error)) from data_error


def _check_version(delivery: CanonicalDelivery) -> None:
    if VERSIONS[(delivery.type, delivery.version)].status is Status.RETIRED:
        raise InvalidEvent(f"{delivery.type} v{delivery.version} is retired: publish v{current_version(delivery.type)}")


def _check_producer(source_name: str, source: SourceConfig, event_type: str) -> None:
    if producer_of(event_type) != source.system:
        raise ProducerNotAllowed(
            f"source {source_name!r} speaks for {source.system.value}, but {event_type} "
            f"may only come from {producer_of(event_type).value}"
        )


def to_canonical_event(
    source_name: str,
    source: SourceConfig,
    delivery_id: str,
    payload: Any,
    ingested_at: dt.datetime,
) -> Envelope:
    delivery = _delivery_of(source_name, source, payload)
    event_id = event_id_for_delivery(source_name, delivery_id)
    # Built without a second validation: every field was validated above with the envelope's own
    # types (timestamp, ids, legal entity, data), or is Concord's (the event id, the ingest time,
    # the source's configured legal entity).
    return EVENT_MODEL_BY_VERSION[(delivery.type, delivery.version)].model_construct(
        id=event_id,
        occurred_at=delivery.timestamp,
        correlation_id=delivery.correlation_id or event_id,
        causation_id=delivery.causation_id,
        legal_entity=delivery.legal_entity or source.legal_entity,
        ingested_at=ingested_at,
        data=delivery.data,
    )
