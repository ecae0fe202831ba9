"""Xero events → ChangeNotified, or the record of why none could be made.

A Xero event names the resource (id and URL) only, never its content. Invoices are the ERP's
to announce (InvoicePosted; payments change the invoice but raise no event of their own, so
change capture polls them): a created or updated invoice becomes ChangeNotified with the
invoice's id, and the enrichment flow reads it through the Xero connector. Contacts are
accounts, which the CRM owns: `not_system_of_record`. Credit notes and app subscriptions have
no canonical event.
https://developer.xero.com/documentation/guides/webhooks/overview/
"""

from __future__ import annotations

import datetime as dt

from ....events import event_id_for_delivery, new_event
from ....events.envelope import ChangeNotifiedEvent
from ...delivery import Unprocessed, UnprocessedItem
from .payloads import XeroEvent

# Event category -> Concord's record type (concord.connectors.xero.polling.FEEDS).
RECORD_TYPES = {"INVOICE": "invoice"}


def record_type_of(event: XeroEvent) -> str | None:
    """The record type enrichment reads for this event (None: no canonical event follows)."""
    return RECORD_TYPES.get(event.eventCategory) if event.eventType in ("CREATE", "UPDATE") else None


def change_notified(
    event: XeroEvent, record_type: str, *, source_name: str, legal_entity: str, now: dt.datetime
) -> ChangeNotifiedEvent:
    """The record named for enrichment; its id comes from the event, so a redelivery is the same event."""
    identity = ":".join(
        ("ChangeNotified", event.tenantId, event.eventCategory, event.eventType, event.resourceId, event.eventDateUtc)
    )
    return new_event(
        ChangeNotifiedEvent,
        {"system": "erp", "record_type": record_type, "record_ids": [event.resourceId], "vendor_source": source_name},
        legal_entity=legal_entity,
        occurred_at=_changed_at(event) or now,
        event_id=event_id_for_delivery(source_name, identity),
        ingested_at=now,
    )


def _changed_at(event: XeroEvent) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(event.eventDateUtc)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def to_unprocessed(event: XeroEvent) -> UnprocessedItem:
    """Why an event became no ChangeNotified."""
    kind = f"{event.eventCategory}.{event.eventType}"
    reference = f"tenant/{event.tenantId}/{event.eventCategory.lower()}/{event.resourceId}"
    if event.eventCategory == "CONTACT":
        return UnprocessedItem(
            kind, Unprocessed.NOT_SYSTEM_OF_RECORD, "accounts are the CRM's; the ERP does not announce them", reference
        )
    return UnprocessedItem(kind, Unprocessed.NOT_MAPPED, "no canonical event for this Xero event", reference)
