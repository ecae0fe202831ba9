"""Business Central notifications → ChangeNotified, or the record of why none could be made.

A notification names the changed resource only, never its content. Sales invoices and customer
payments are the ERP's to announce (InvoicePosted / PaymentReceived): a created or updated one
becomes ChangeNotified with the record's id, and the enrichment flow reads it through the
Business Central connector. A "collection" notification (over 1,000 changes: a collection URL
with a $filter) names no record: it becomes ChangeNotified without ids, which enrichment answers
with a delta read from change capture's checkpoint. Customers are accounts, owned by the CRM
(`not_system_of_record`); payment journals, deletions and other entities are recorded.
"""

from __future__ import annotations

import datetime as dt
import re

from ....events import event_id_for_delivery, new_event
from ....events.envelope import ChangeNotifiedEvent
from ...delivery import Unprocessed, UnprocessedItem
from .payloads import BusinessCentralNotification

# Entity set -> Concord's record type (concord.connectors.business_central.polling.ENTITY_SETS).
RECORD_TYPES = {"salesInvoices": "invoice", "customerPayments": "payment"}
# Recorded for an operator: a journal notification names the journal, not its payment lines.
ENRICHABLE = {"customerPaymentJournals": ("PaymentReceived",)}
_LAST_SEGMENT = re.compile(r"([A-Za-z][A-Za-z0-9]*)(?:\(([^/]*)\))?/?$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def _last_segment(resource: str) -> re.Match[str] | None:
    path = resource.split("?", 1)[0]
    # A match holds no "/" but its optional last character (before the end or a final newline):
    # searching from after the last "/" before those finds the same match, without trying every
    # letter of the URL.
    return _LAST_SEGMENT.search(path, path.rfind("/", 0, len(path) - 2) + 1)


def entity_set(resource: str) -> str:
    """ "salesInvoices" from ".../companies(…)/salesInvoices(…)" or ".../salesInvoices?$filter=…"."""
    match = _last_segment(resource)
    return match.group(1) if match else "unknown"


def record_id(resource: str) -> str | None:
    """The GUID key of ".../salesInvoices(<id>)"; None for a collection URL."""
    match = _last_segment(resource)
    key = (match.group(2) or "").strip("'") if match else ""
    return key if _GUID.match(key) else None


def record_type_of(notification: BusinessCentralNotification) -> str | None:
    """The record type enrichment reads for this notification (None: no canonical event follows)."""
    if notification.changeType not in ("created", "updated", "collection"):
        return None
    return RECORD_TYPES.get(entity_set(notification.resource))


def change_notified(
    notification: BusinessCentralNotification,
    record_type: str,
    *,
    source_name: str,
    legal_entity: str,
    now: dt.datetime,
) -> ChangeNotifiedEvent:
    """The record named for enrichment, or none (a collection, or a resource without a key):
    read from the checkpoint. Its id comes from the notification, so a redelivery is the same event."""
    named = record_id(notification.resource) if notification.changeType != "collection" else None
    identity = (
        f"ChangeNotified:{notification.subscriptionId}:{notification.changeType}:{notification.resource}:"
        f"{notification.lastModifiedDateTime or ''}"
    )
    return new_event(
        ChangeNotifiedEvent,
        {
            "system": "erp",
            "record_type": record_type,
            "record_ids": [named] if named else [],
            "vendor_source": source_name,
        },
        legal_entity=legal_entity,
        occurred_at=_changed_at(notification) or now,
        event_id=event_id_for_delivery(source_name, identity),
        ingested_at=now,
    )


def _changed_at(notification: BusinessCentralNotification) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(notification.lastModifiedDateTime or "")
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def to_unprocessed(notification: BusinessCentralNotification) -> UnprocessedItem:
    """Why a notification became no ChangeNotified."""
    entities = entity_set(notification.resource)
    kind = f"{entities}.{notification.changeType}"
    reference = notification.resource
    targets = ENRICHABLE.get(entities)
    if targets and notification.changeType in ("created", "updated", "collection"):
        return UnprocessedItem(
            kind,
            Unprocessed.NEEDS_ENRICHMENT,
            f"Business Central notifications name the record only; {targets[0]} needs the record",
            reference,
            targets,
        )
    if entities == "customers":
        return UnprocessedItem(
            kind, Unprocessed.NOT_SYSTEM_OF_RECORD, "accounts are the CRM's; the ERP does not announce them", reference
        )
    return UnprocessedItem(
        kind, Unprocessed.NOT_MAPPED, "no canonical event for this Business Central change", reference
    )
