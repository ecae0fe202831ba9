"""HubSpot events → ChangeNotified, or the record of why none could be made.

HubSpot webhooks carry ids and at most the one property that changed. AccountChanged is a
snapshot of the account (name, billing address, tax id, currency, parent) and
OpportunityClosedWon needs the amount and line items, so neither can be built from the
webhook alone: a company change or a deal moved to the won stage becomes ChangeNotified, and
the enrichment flow reads the object from HubSpot's CRM API and announces it with the
ids polling gives it. Nothing is invented.
"""

from __future__ import annotations

import datetime as dt

from ....events import event_id_for_delivery, new_event
from ....events.envelope import ChangeNotifiedEvent
from ...delivery import Unprocessed, UnprocessedItem
from .payloads import HubSpotEvent

# Company events that change what AccountChanged carries.
ACCOUNT_EVENTS = {
    "company.creation",
    "company.propertyChange",
    "company.merge",
    "company.restore",
    "company.associationChange",
}
# HubSpot's default sales pipeline names its won stage "closedwon".
WON_STAGE = "closedwon"


def vendor_event_type(event: HubSpotEvent) -> str:
    if event.propertyName:
        return f"{event.subscriptionType}:{event.propertyName}"[:512]
    return event.subscriptionType


def record_type_of(event: HubSpotEvent) -> str | None:
    """The record type enrichment reads for this event (None: no canonical event follows)."""
    if event.objectId is None:
        return None
    if event.subscriptionType in ACCOUNT_EVENTS:
        return "customer"
    return "opportunity" if _is_won_deal(event) else None


def change_notified(
    event: HubSpotEvent, record_type: str, *, source_name: str, legal_entity: str, ingested_at: dt.datetime
) -> ChangeNotifiedEvent:
    """The object named for enrichment; its id comes from HubSpot's eventId, so a retried
    batch (another attemptNumber) is the same event."""
    return new_event(
        ChangeNotifiedEvent,
        {
            "system": "crm",
            "record_type": record_type,
            "record_ids": [str(event.objectId)],
            "vendor_source": source_name,
        },
        legal_entity=legal_entity,
        occurred_at=dt.datetime.fromtimestamp(event.occurredAt / 1000, tz=dt.UTC),
        event_id=event_id_for_delivery(source_name, f"ChangeNotified:{event.eventId}"),
        ingested_at=ingested_at,
    )


def to_unprocessed(event: HubSpotEvent) -> UnprocessedItem:
    """Why an event became no ChangeNotified."""
    object_type = event.subscriptionType.split(".", 1)[0]
    reference = f"portal/{event.portalId}/{object_type}/{event.objectId if event.objectId is not None else '-'}"
    kind = vendor_event_type(event)
    if event.objectId is None and (event.subscriptionType in ACCOUNT_EVENTS or _is_won_deal(event)):
        return UnprocessedItem(kind, Unprocessed.INVALID_FIELDS, "the event names no objectId to read", reference)
    return UnprocessedItem(kind, Unprocessed.NOT_MAPPED, "no canonical event for this HubSpot event", reference)


def _is_won_deal(event: HubSpotEvent) -> bool:
    return (
        event.subscriptionType == "deal.propertyChange"
        and event.propertyName == "dealstage"
        and event.propertyValue == WON_STAGE
    )
