"""Publishing an accepted delivery at most once per (source, delivery id).

Powertools Idempotency remembers each delivery id: a vendor's retry, or a captured request
replayed inside the signature tolerance, gets the first answer back and has no second effect
(no event on the bus, no second audit record). The same id with different content is a
conflict. If publishing or recording fails, the record is released, so the vendor's retry is
processed afresh. Schemes without a delivery id derive one from the body (see their modules).

Before the answer, only two writes happen: the one audit-trail record of what the delivery
could not turn into events (`unprocessed`), and PutEvents of the events.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..aws.bus import BusEntry, EventBusPublisher
from ..aws.clients import client
from ..aws.idempotency import run_once
from ..clock import utc_now
from ..errors import ConfigurationError, TransientError
from .delivery import AcceptedDelivery


class AuditUnavailable(TransientError):
    """The audit trail did not take the record of an unprocessed delivery; nothing is acknowledged."""


def _item(unprocessed: Any) -> dict[str, Any]:
    fields = dataclasses.asdict(unprocessed)
    return {**fields, "reason": str(fields["reason"]), "canonical_types": list(fields["canonical_types"])}


def idempotency_payload(accepted: AcceptedDelivery) -> dict[str, Any]:
    """What publish_once remembers the delivery by and publishes from. The events travel as the
    PutEvents entries accept_delivery serialized (and size-checked): validated once at
    normalization, never parsed or serialized again."""
    return {
        "source": accepted.source,
        "delivery_id": accepted.delivery_id,
        "body_sha256": accepted.body_sha256,
        "scheme": accepted.scheme,
        "events": [
            {"id": event.id, "source": entry.source, "detail_type": entry.detail_type, "detail": entry.detail}
            for event, entry in zip(accepted.events, accepted.bus_entries, strict=True)
        ],
        "unprocessed": [_item(item) for item in accepted.unprocessed],
    }


def publish_once(
    accepted: AcceptedDelivery,
    *,
    bus_name: str,
    idempotency_table: str,
    remember_seconds: int,
    lambda_context: Any,
    audit_table: str | None = None,
) -> dict[str, Any]:
    if accepted.unprocessed and not audit_table:
        raise ConfigurationError("AUDIT_TABLE_NAME is required to record unprocessed deliveries")

    def publish(delivery: dict[str, Any]) -> dict[str, Any]:
        if delivery["unprocessed"]:
            assert audit_table is not None  # refused above when missing
            # Imported here: only vendor deliveries record anything, so a canonical source's cold
            # start does not build the audit trail's models.
            from ..stores.audit import AuditTrail
            from ..stores.audit_items import UnprocessedEntry

            try:
                AuditTrail(client("dynamodb"), audit_table).record_unprocessed_delivery(
                    delivery["source"],
                    delivery["delivery_id"],
                    [UnprocessedEntry.model_validate(item) for item in delivery["unprocessed"]],
                    body_sha256=delivery["body_sha256"],
                    scheme=delivery["scheme"],
                    received_at=utc_now(),
                )
            except (BotoCoreError, ClientError) as error:
                raise AuditUnavailable(f"audit table unreachable: {type(error).__name__}") from error
        events = delivery["events"]
        if events:
            EventBusPublisher(bus_name, client("events")).publish_entries(
                [BusEntry(e["source"], e["detail_type"], e["detail"]) for e in events]
            )
        return {
            "delivery_id": delivery["delivery_id"],
            "events": [{"event_id": e["id"], "event_type": e["detail_type"]} for e in events],
            "unprocessed": len(delivery["unprocessed"]),
        }

    return run_once(
        publish,
        idempotency_payload(accepted),
        table_name=idempotency_table,
        key_jmespath="[source, delivery_id]",
        payload_validation_jmespath="body_sha256",
        expires_after_seconds=remember_seconds,
        lambda_context=lambda_context,
    )
