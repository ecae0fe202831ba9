"""Publishing an accepted delivery at most once per (source, delivery id).

A ledger in the idempotency table remembers each published delivery (aws.delivery_ledger): a
vendor's retry, or a captured request replayed inside the signature tolerance, gets the same
answer back and has no second effect (no event on the bus, no second audit record). The same id
with different content is a conflict. The record is written only after PutEvents succeeded, so
a failure leaves nothing behind and the vendor's retry is processed afresh. The answer is
computed from the delivery (its event ids derive from the delivery id), so nothing of it is
stored. Schemes without a delivery id derive one from the body (see their modules).

Per new delivery: a consistent read of the ledger, the one audit-trail record of what the
delivery could not turn into events (`unprocessed`), PutEvents of the events, one conditional
write of the ledger.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..aws.bus import EventBusPublisher
from ..aws.clients import client
from ..aws.delivery_ledger import DeliveryContentConflict, DeliveryLedger
from ..clock import utc_now
from ..errors import ConfigurationError, TransientError
from .delivery import AcceptedDelivery
from .errors import DeliveryConflict


class AuditUnavailable(TransientError):
    """The audit trail did not take the record of an unprocessed delivery; nothing is acknowledged."""


def _item(unprocessed: Any) -> dict[str, Any]:
    fields = dataclasses.asdict(unprocessed)
    return {**fields, "reason": str(fields["reason"]), "canonical_types": list(fields["canonical_types"])}


def answer(accepted: AcceptedDelivery) -> dict[str, Any]:
    """What the sender's reply is built from; the same for the first delivery and every replay."""
    return {
        "delivery_id": accepted.delivery_id,
        "events": [
            {"event_id": event.id, "event_type": entry.detail_type}
            for event, entry in zip(accepted.events, accepted.bus_entries, strict=True)
        ],
        "unprocessed": len(accepted.unprocessed),
    }


def _record_unprocessed(accepted: AcceptedDelivery, audit_table: str) -> None:
    # Imported here: only vendor deliveries record anything, so a canonical source's cold
    # start does not build the audit trail's models.
    from ..stores.audit import AuditTrail
    from ..stores.audit_items import UnprocessedEntry

    try:
        AuditTrail(client("dynamodb"), audit_table).record_unprocessed_delivery(
            accepted.source,
            accepted.delivery_id,
            [UnprocessedEntry.model_validate(_item(item)) for item in accepted.unprocessed],
            body_sha256=accepted.body_sha256,
            scheme=accepted.scheme,
            received_at=utc_now(),
        )
    except (BotoCoreError, ClientError) as error:
        raise AuditUnavailable(f"audit table unreachable: {type(error).__name__}") from error


def publish_once(
    accepted: AcceptedDelivery,
    *,
    bus_name: str,
    idempotency_table: str,
    remember_seconds: int,
    audit_table: str | None = None,
) -> dict[str, Any]:
    """Record what the delivery could not turn into events, publish its events, then remember it.

    Raises DeliveryConflict for a delivery id already published with another body, and a
    TransientError subclass when the ledger, the audit table or the bus is unavailable."""
    if accepted.unprocessed and not audit_table:
        raise ConfigurationError("AUDIT_TABLE_NAME is required to record unprocessed deliveries")
    ledger = DeliveryLedger(idempotency_table, remember_seconds)
    now = int(utc_now().timestamp())
    try:
        if ledger.published(accepted.source, accepted.delivery_id, accepted.body_sha256, now=now):
            return answer(accepted)
        if accepted.unprocessed:
            assert audit_table is not None  # refused above when missing
            _record_unprocessed(accepted, audit_table)
        if accepted.events:
            EventBusPublisher(bus_name, client("events")).publish_entries(list(accepted.bus_entries))
        ledger.remember(accepted.source, accepted.delivery_id, accepted.body_sha256, now=now)
    except DeliveryContentConflict as error:
        raise DeliveryConflict(str(error)) from error
    return answer(accepted)
