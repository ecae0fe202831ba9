"""Publishing an accepted delivery to the bus at most once per (source, delivery id).

Powertools Idempotency remembers each delivery id: a vendor's retry, or a captured request
replayed inside the signature tolerance, gets the first answer back and puts nothing on the
bus. The same id with a different body is a conflict. If publishing fails, the record is
released, so the vendor's retry is processed afresh.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from ..aws.bus import EventBusPublisher
from ..aws.clients import client
from ..events import parse_event
from .service import AcceptedDelivery

PublishOnce = Callable[..., dict[str, Any]]


@cache
def publisher_for(
    idempotency_table: str, bus_name: str, remember_seconds: int
) -> tuple[PublishOnce, IdempotencyConfig]:
    """The idempotent publish function and its config (to register the Lambda context on)."""
    config = IdempotencyConfig(
        event_key_jmespath="[source, delivery_id]",
        payload_validation_jmespath="body_sha256",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=remember_seconds,
    )
    store = DynamoDBPersistenceLayer(table_name=idempotency_table, key_attr="id")
    bus = EventBusPublisher(bus_name, client("events"))

    @idempotent_function(data_keyword_argument="delivery", persistence_store=store, config=config)
    def publish(delivery: dict[str, Any]) -> dict[str, Any]:
        event = parse_event(delivery["event"])
        bus.publish([event])
        return {"event_id": event.id, "event_type": event.type}

    return publish, config


def as_idempotent_payload(accepted: AcceptedDelivery) -> dict[str, Any]:
    return {
        "source": accepted.source,
        "delivery_id": accepted.delivery_id,
        "body_sha256": accepted.body_sha256,
        "event": accepted.event.model_dump(mode="json"),
    }
