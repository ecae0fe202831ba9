"""Normalizer for sources that send Concord's canonical format over Standard Webhooks.

Body: {"type": "AccountChanged", "timestamp": "<when it happened>", "data": {...},
       "version": optional, "legal_entity": optional, "correlation_id": optional, "causation_id": optional}
(type / timestamp / data is the payload structure Standard Webhooks recommends.) Without a
version, a delivery is version 1 of its type: what every delivery was before versions. A
retired version is refused; a deprecated one is published as sent (and counted: aws.bus).
"""

from __future__ import annotations

import datetime as dt
from functools import cache
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


@cache
def _typed_delivery(event_model: type[Envelope]) -> type[CanonicalDelivery]:
    """CanonicalDelivery whose data is the event type's payload model, so a refusal names the
    delivery's own fields. Built when a body of that type is first refused, not at import."""
    payload_model = event_model.model_fields["data"].annotation
    assert payload_model is not None, f"{event_model.__name__}.data has a type"
    return create_model(f"{event_model.__name__}Delivery", __base__=CanonicalDelivery, data=(payload_model, ...))


def _delivery_of(source_name: str, source: SourceConfig, payload: Any) -> CanonicalDelivery:
    """The body validated as the typed delivery of its event type: what says why to_canonical_event
    refuses a body. Refusals keep their order: malformed shape, unknown type or version, retired
    version, foreign producer, then invalid data."""
    event_model = _model_named_by(payload)
    typed = _typed_delivery(event_model) if event_model is not None else None
    data_error: ValidationError | None = None
    if typed is not None:
        try:
            delivery = typed.model_validate(payload)
        except ValidationError as error:
            data_error = error
        else:
            _check_version(delivery.type, delivery.version)
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


def _check_version(event_type: str, version: int) -> None:
    if VERSIONS[(event_type, version)].status is Status.RETIRED:
        raise InvalidEvent(f"{event_type} v{version} is retired: publish v{current_version(event_type)}")


def _check_producer(source_name: str, source: SourceConfig, event_type: str) -> None:
    if producer_of(event_type) != source.system:
        raise ProducerNotAllowed(
            f"source {source_name!r} speaks for {source.system.value}, but {event_type} "
            f"may only come from {producer_of(event_type).value}"
        )


# A canonical delivery's top-level fields (CanonicalDelivery forbids any other).
_DELIVERY_FIELDS = frozenset(CanonicalDelivery.model_fields)


def _model_named_by(payload: Any) -> type[Envelope] | None:
    """The envelope model a delivery names by type and version (None: it names none we know)."""
    if not isinstance(payload, dict):
        return None
    event_type, version = payload.get("type"), payload.get("version", 1)
    if not isinstance(event_type, str) or not isinstance(version, int):
        return None
    return EVENT_MODEL_BY_VERSION.get((event_type, version))


def _event_model_of(payload: Any) -> type[Envelope] | None:
    """The envelope model a well-shaped delivery names (None otherwise)."""
    if not isinstance(payload, dict) or not payload.keys() <= _DELIVERY_FIELDS:
        return None
    return _model_named_by(payload)


def to_canonical_event(
    source_name: str,
    source: SourceConfig,
    delivery_id: str,
    payload: Any,
    ingested_at: dt.datetime,
) -> Envelope:
    """The delivery as its canonical event, validated in one pass straight into the envelope
    model (the delivery's fields and the envelope's have the same types). A body that pass
    refuses is validated again as a CanonicalDelivery, which says why, in its order."""
    event_id = event_id_for_delivery(source_name, delivery_id)
    model = _event_model_of(payload)
    event: Envelope | None = None
    if model is not None:
        legal_entity, correlation_id = payload.get("legal_entity"), payload.get("correlation_id")
        try:
            event = model.model_validate(
                {
                    "id": event_id,
                    "occurred_at": payload.get("timestamp"),
                    "correlation_id": event_id if correlation_id is None else correlation_id,
                    "causation_id": payload.get("causation_id"),
                    "legal_entity": source.legal_entity if legal_entity is None else legal_entity,
                    "ingested_at": ingested_at,
                    "data": payload.get("data"),
                }
            )
        except ValidationError:
            event = None
    if event is None:
        _delivery_of(source_name, source, payload)  # raises: the refusal, with its reasons
        raise InvalidEvent("body is not a canonical event delivery")  # not reached: the two models agree
    _check_version(event.type, event.version)
    _check_producer(source_name, source, event.type)
    return event
