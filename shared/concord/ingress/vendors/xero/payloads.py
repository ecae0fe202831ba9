"""Xero's webhook payload (Xero's OpenAPI document xero-webhooks.yaml, github.com/XeroAPI/Xero-OpenAPI, WebhookEvent).

Each event names a resource (id and API URL), its category and CREATE/UPDATE: never the
resource's fields (credit notes add only their Type and Status). The intent-to-receive check
sends no events (an empty list or null) with sequence numbers 0.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictInt

from ..common import Text, VendorModel

Sequence = Annotated[StrictInt, Field(ge=0, le=2_147_483_647)]


class XeroEvent(VendorModel):
    resourceUrl: Text
    resourceId: Text
    eventDateUtc: Text
    eventType: Text  # CREATE | UPDATE
    eventCategory: Text  # CONTACT | INVOICE | SUBSCRIPTION | CREDITNOTE
    tenantId: Text
    tenantType: Text  # ORGANISATION | APPLICATION


class XeroDelivery(VendorModel):
    events: Annotated[list[XeroEvent], Field(max_length=1000)] | None = None
    firstEventSequence: Sequence
    lastEventSequence: Sequence
    entropy: Text
