"""QuickBooks entity changes → ChangeNotified, or the record of why none could be made.

Invoices and payments are the ERP's to announce, but QuickBooks webhooks name the entity only
(in either payload format): a created, updated or emailed invoice and a created or updated
payment become ChangeNotified with the entity's id, and the enrichment flow reads it through the
QuickBooks connector (InvoicePosted, PaymentReceived); change capture's CDC poll closes the gaps.
Customers are accounts, owned by the CRM (`not_system_of_record`); the rest is `not_mapped`.
"""

from __future__ import annotations

import datetime as dt

from ....events import event_id_for_delivery, new_event
from ....events.envelope import ChangeNotifiedEvent
from ...delivery import Unprocessed, UnprocessedItem

# (entity, operation) -> Concord's record type (concord.connectors.quickbooks.polling.ENTITIES)
RECORD_TYPES = {
    ("invoice", "create"): "invoice",
    ("invoice", "update"): "invoice",
    ("invoice", "emailed"): "invoice",
    ("payment", "create"): "payment",
    ("payment", "update"): "payment",
}


def record_type_of(entity: str, operation: str) -> str | None:
    return RECORD_TYPES.get((entity.lower(), operation.lower()))


def change_notified(
    change: tuple[str, str, str, str, str | None],
    record_type: str,
    *,
    source_name: str,
    legal_entity: str,
    now: dt.datetime,
) -> ChangeNotifiedEvent:
    """The entity named for enrichment. `change` is (realm, entity, operation, id, changed at),
    the same from a legacy notification and a CloudEvent, so is the event id they get."""
    realm, entity, operation, entity_id, changed = change
    moment = _moment(changed)
    stamp = moment.isoformat() if moment else ""
    identity = f"ChangeNotified:{realm}:{entity.lower()}:{entity_id}:{operation.lower()}:{stamp}"
    return new_event(
        ChangeNotifiedEvent,
        {"system": "erp", "record_type": record_type, "record_ids": [entity_id], "vendor_source": source_name},
        legal_entity=legal_entity,
        occurred_at=moment or now,
        event_id=event_id_for_delivery(source_name, identity),
        ingested_at=now,
    )


def _moment(value: str | None) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat((value or "").replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def to_unprocessed(realm_id: str, entity: str, operation: str, entity_id: str) -> UnprocessedItem:
    kind = f"{entity}.{operation}"
    reference = f"realm/{realm_id}/{entity.lower()}/{entity_id}"
    if entity.lower() == "customer":
        return UnprocessedItem(
            kind, Unprocessed.NOT_SYSTEM_OF_RECORD, "accounts are the CRM's; the ERP does not announce them", reference
        )
    return UnprocessedItem(kind, Unprocessed.NOT_MAPPED, "no canonical event for this QuickBooks change", reference)


_OPERATIONS = {
    "created": "Create",
    "updated": "Update",
    "deleted": "Delete",
    "merged": "Merge",
    "voided": "Void",
    "emailed": "Emailed",
}


def split_cloud_event_type(event_type: str) -> tuple[str, str]:
    """("Invoice", "Create") from "qbo.invoice.created.v1" (unknown shapes kept as they are)."""
    parts = event_type.split(".")
    if len(parts) >= 3 and parts[0] == "qbo":
        return parts[1].capitalize(), _OPERATIONS.get(parts[2], parts[2])
    return event_type, "unknown"
