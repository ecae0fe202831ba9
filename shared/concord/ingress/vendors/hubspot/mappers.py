"""HubSpot events → canonical events, or the record of why none could be made.

HubSpot webhooks carry ids and at most the one property that changed. AccountChanged is a
snapshot of the account (name, billing address, tax id, currency, parent) and
OpportunityClosedWon needs the amount and line items, so neither can be built from the
webhook alone: company changes and deals moved to the won stage are recorded as
`needs_enrichment` (read the object from HubSpot's CRM API, then emit). Nothing is invented.
"""

from __future__ import annotations

from ...delivery import Unprocessed, UnprocessedItem
from .payloads import HubSpotEvent

# Company events that change what AccountChanged carries.
ACCOUNT_EVENTS = {
    "company.creation", "company.propertyChange", "company.merge", "company.restore",
    "company.associationChange",
}
# HubSpot's default sales pipeline names its won stage "closedwon".
WON_STAGE = "closedwon"


def vendor_event_type(event: HubSpotEvent) -> str:
    if event.propertyName:
        return f"{event.subscriptionType}:{event.propertyName}"[:512]
    return event.subscriptionType


def to_unprocessed(event: HubSpotEvent) -> UnprocessedItem:
    object_type = event.subscriptionType.split(".", 1)[0]
    reference = f"portal/{event.portalId}/{object_type}/{event.objectId if event.objectId is not None else '-'}"
    kind = vendor_event_type(event)
    if event.subscriptionType in ACCOUNT_EVENTS:
        return UnprocessedItem(
            kind, Unprocessed.NEEDS_ENRICHMENT,
            "company webhooks carry ids only; AccountChanged needs the company record", reference,
            ("AccountChanged",),
        )
    if (
        event.subscriptionType == "deal.propertyChange"
        and event.propertyName == "dealstage"
        and event.propertyValue == WON_STAGE
    ):
        return UnprocessedItem(
            kind, Unprocessed.NEEDS_ENRICHMENT,
            "a won deal's webhook carries its id only; OpportunityClosedWon needs amount and line items",
            reference, ("OpportunityClosedWon",),
        )
    return UnprocessedItem(kind, Unprocessed.NOT_MAPPED, "no canonical event for this HubSpot event", reference)
