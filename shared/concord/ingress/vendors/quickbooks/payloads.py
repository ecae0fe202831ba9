"""QuickBooks Online webhook payloads, in both formats Intuit sends.

Legacy: {"eventNotifications": [{"realmId", "dataChangeEvent": {"entities": [{"name", "id",
"operation", "lastUpdated"}]}}]}. CloudEvents (Intuit's newer format): a JSON array of
{"specversion", "id", "source", "type": "qbo.<entity>.<operation>.v1", "time",
"intuitentityid", "intuitaccountid", "data"?}. Either way, entity ids only.
Entity names follow the QuickBooks schema (Intuit's QuickBooks V3 XSDs,
github.com/intuit/QuickBooks-V3-Java-SDK, ipp-v3-java-data/src/main/xsd).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, RootModel

from ..common import Text, VendorModel


class QuickBooksEntity(VendorModel):
    name: Text  # Invoice, Payment, Customer, ...
    id: Text
    operation: Text  # Create | Update | Delete | Merge | Void | Emailed
    lastUpdated: Text | None = None


class DataChangeEvent(VendorModel):
    entities: Annotated[list[QuickBooksEntity], Field(max_length=1000)]


class EventNotification(VendorModel):
    realmId: Text
    dataChangeEvent: DataChangeEvent


class LegacyDelivery(VendorModel):
    eventNotifications: Annotated[list[EventNotification], Field(min_length=1, max_length=1000)]


class QuickBooksCloudEvent(VendorModel):
    specversion: Text
    id: Text
    source: Text
    type: Text  # qbo.<entity>.<operation>.v1
    time: Text | None = None
    intuitentityid: Text
    intuitaccountid: Text
    data: dict[str, Any] | None = None


class CloudEventsDelivery(RootModel[Annotated[list[QuickBooksCloudEvent], Field(min_length=1, max_length=1000)]]):
    pass
