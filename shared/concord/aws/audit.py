"""The sync audit trail (DynamoDB): which events Concord received, and why deliveries failed.

Item layout (single table, string keys `pk` / `sk`):
  EVENT#<event id>      / EVENT                       the canonical event as recorded, with timings
  MESSAGE#<message id>  / FAILURE#<consumer>#<n>      the n-th failed attempt of a queue message
  DELIVERY#<source>#<delivery id> / UNPROCESSED      an authentic webhook delivery (or the part of
                                                     it) that produced no canonical event, and why
  REDRIVE#<run id>      / MESSAGE#<id> | MOVE_TASK | EXECUTION#<name>
                                                      an operator's DLQ redrive or saga redrive
                                                      (concord.operator)
  REPLAY#<run id>       / RUN                         an operator's replay of a window of events
                                                      (concord.operator.replay)
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ..events import Envelope
from ..events.types import ErrorClass

FAILURE_RETENTION_DAYS = 30
# Items of one unprocessed delivery kept in its record (the count of all is kept too).
MAX_UNPROCESSED_ITEMS = 200


@dataclass(frozen=True)
class DeliveryTimings:
    """When the event entered the queue and was first handed to a consumer (epoch ms)."""

    enqueued_at_ms: int | None
    first_received_at_ms: int | None


@dataclass(frozen=True)
class FailedAttempt:
    message_id: str
    consumer: str
    receive_count: int
    error_class: ErrorClass
    reason: str
    event_id: str | None = None


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _ms_to_iso(epoch_ms: int | None) -> str | None:
    if epoch_ms is None:
        return None
    return dt.datetime.fromtimestamp(epoch_ms / 1000, tz=dt.UTC).isoformat()


class AuditTrail:
    def __init__(self, table: Any) -> None:
        self.table = table

    def record_event(self, event: Envelope, timings: DeliveryTimings) -> bool:
        """Store the event once; returns False when it was already recorded."""
        item = {
            "pk": f"EVENT#{event.id}",
            "sk": "EVENT",
            "event_type": event.type,
            "source_system": event.source_system.value,
            "legal_entity": event.legal_entity,
            "correlation_id": event.correlation_id,
            "causation_id": event.causation_id,
            "occurred_at": _iso(event.occurred_at),
            "ingested_at": _iso(event.ingested_at),
            "enqueued_at": _ms_to_iso(timings.enqueued_at_ms),
            "first_received_at": _ms_to_iso(timings.first_received_at_ms),
            "recorded_at": dt.datetime.now(dt.UTC).isoformat(),
            "detail": event.model_dump_json(),
        }
        try:
            self.table.put_item(
                Item={k: v for k, v in item.items() if v is not None},
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def record_failure(self, attempt: FailedAttempt) -> None:
        expires = int(time.time()) + FAILURE_RETENTION_DAYS * 86400
        item = {
            "pk": f"MESSAGE#{attempt.message_id}",
            "sk": f"FAILURE#{attempt.consumer}#{attempt.receive_count:04d}",
            "consumer": attempt.consumer,
            "receive_count": attempt.receive_count,
            "error_class": attempt.error_class.value,
            "reason": attempt.reason[:4000],
            "failed_at": dt.datetime.now(dt.UTC).isoformat(),
            "expires_at": expires,
        }
        if attempt.event_id:
            item["event_id"] = attempt.event_id
        self.table.put_item(Item=item)

    def record_unprocessed_delivery(
        self,
        source: str,
        delivery_id: str,
        items: list[dict[str, Any]],
        *,
        body_sha256: str,
        scheme: str,
        received_at: dt.datetime,
    ) -> None:
        """Record why a delivery's items produced no event (`needs_enrichment`, `not_mapped`, ...).

        Each item: vendor_event_type, reason, detail, reference, canonical_types. Idempotent:
        the same delivery writes the same item, so a retried write changes nothing.
        """
        kept = items[:MAX_UNPROCESSED_ITEMS]
        item = {
            "pk": f"DELIVERY#{source}#{delivery_id}",
            "sk": "UNPROCESSED",
            "source": source,
            "delivery_id": delivery_id,
            "scheme": scheme,
            "vendor_event_types": sorted({i["vendor_event_type"] for i in items})[:100],
            "reasons": sorted({i["reason"] for i in items}),
            "item_count": len(items),
            "items": [
                {k: v for k, v in i.items() if v not in (None, [], ())}
                for i in kept
            ],
            "truncated": len(items) > len(kept),
            "body_sha256": body_sha256,
            "received_at": received_at.isoformat(),
        }
        self.table.put_item(Item=item)

    def unprocessed_delivery(self, source: str, delivery_id: str) -> dict[str, Any] | None:
        return self.table.get_item(Key={"pk": f"DELIVERY#{source}#{delivery_id}", "sk": "UNPROCESSED"}).get("Item")

    def get_event(self, event_id: str) -> dict[str, Any] | None:
        item = self.table.get_item(Key={"pk": f"EVENT#{event_id}", "sk": "EVENT"}).get("Item")
        if item is None:
            return None
        return {**item, "detail": json.loads(item["detail"])}

    def failures_of(self, message_id: str) -> list[dict[str, Any]]:
        response = self.table.query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": f"MESSAGE#{message_id}", ":prefix": "FAILURE#"},
        )
        return response["Items"]
