"""HubSpot's webhook payload: a JSON array of events (up to 100 per request).

https://developers.hubspot.com/docs/api/webhooks (event fields). Object events carry ids
(objectId) and, for property changes, the one property that changed: never the object.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, RootModel, StrictInt

from ..common import Text, VendorModel

Id = Annotated[StrictInt, Field(ge=0, le=2**63 - 1)]


class HubSpotEvent(VendorModel):
    eventId: Id
    subscriptionId: Id
    portalId: Id
    occurredAt: Id  # epoch milliseconds
    subscriptionType: Text  # e.g. "company.propertyChange", "deal.creation"
    attemptNumber: Annotated[StrictInt, Field(ge=0, le=1000)] = 0
    appId: Id | None = None
    objectId: Id | None = None
    objectTypeId: Text | None = None
    propertyName: Text | None = None
    propertyValue: Annotated[str, Field(max_length=65_536)] | None = None
    changeSource: Text | None = None


class HubSpotDelivery(RootModel[Annotated[list[HubSpotEvent], Field(min_length=1, max_length=1000)]]):
    pass
