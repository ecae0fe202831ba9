"""Business Central's notification payload: {"value": [notification, ...]}.

A notification names the subscription, the changed resource (an API URL, or a collection URL
with a $filter when more than 1,000 records changed) and the change type: never the record.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ..common import Text, VendorModel


class BusinessCentralNotification(VendorModel):
    subscriptionId: Text
    clientState: Annotated[str, Field(min_length=1, max_length=4096)]
    resource: Annotated[str, Field(min_length=1, max_length=2048)]
    changeType: Text  # created | updated | deleted | collection
    lastModifiedDateTime: Text | None = None
    expirationDateTime: Text | None = None


class BusinessCentralDelivery(VendorModel):
    value: Annotated[list[BusinessCentralNotification], Field(max_length=5000)]
