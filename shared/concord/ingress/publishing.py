"""Publishing an accepted delivery to the bus at most once per (source, delivery id).

Powertools Idempotency remembers each delivery id: a vendor's retry, or a captured request
replayed inside the signature tolerance, gets the first answer back and puts nothing on the
bus. The same id with a different body is a conflict. If publishing fails, the record is
released, so the vendor's retry is processed afresh.
"""

from __future__ import annotations

from typing import Any

from ..aws.bus import EventBusPublisher
from ..aws.clients import client
from ..aws.idempotency import run_once
from ..events import parse_event
from .service import AcceptedDelivery


def publish_once(
    accepted: AcceptedDelivery, *, bus_name: str, idempotency_table: str, remember_seconds: int, lambda_context: Any
) -> dict[str, Any]:
    def publish(delivery: dict[str, Any]) -> dict[str, Any]:
        event = parse_event(delivery["event"])
        EventBusPublisher(bus_name, client("events")).publish([event])
        return {"event_id": event.id, "event_type": event.type}

    return run_once(
        publish,
        {
            "source": accepted.source,
            "delivery_id": accepted.delivery_id,
            "body_sha256": accepted.body_sha256,
            "event": accepted.event.model_dump(mode="json"),
        },
        table_name=idempotency_table,
        key_jmespath="[source, delivery_id]",
        payload_validation_jmespath="body_sha256",
        expires_after_seconds=remember_seconds,
        lambda_context=lambda_context,
    )
