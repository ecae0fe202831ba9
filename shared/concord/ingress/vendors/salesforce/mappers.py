"""Salesforce sObjects → canonical events.

An outbound message carries the fields the admin selected, so an Account change becomes
AccountChanged when it holds at least Id and Name (and, when billing fields are sent, a
street, city and ISO country code). What the message cannot complete becomes ChangeNotified,
which the enrichment flow completes by reading the record (with the event ids polling
gives it): an Account without its Name or a usable address, and a won Opportunity
(outbound messages carry one object, never its line items). Fields that are there but
invalid are recorded as `invalid_fields`; anything else as `not_mapped`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pydantic import ValidationError

from ....events import Envelope, event_id_for_delivery, new_event
from ....events.envelope import AccountChangedEvent, ChangeNotifiedEvent
from ....events.types import joined_lines
from ...delivery import Unprocessed, UnprocessedItem
from ..common import parse_vendor_datetime
from .payloads import Notification

_ISO_COUNTRY = re.compile(r"^[A-Z]{2}$")
BILLING_FIELDS = (
    "BillingStreet",
    "BillingCity",
    "BillingPostalCode",
    "BillingState",
    "BillingCountry",
    "BillingCountryCode",
)


class NotMappable(Exception):
    def __init__(self, item: UnprocessedItem) -> None:
        super().__init__(item.detail)
        self.item = item


def _reference(notification: Notification) -> str:
    return f"{notification.sObject.type.lower()}/{notification.sObject.fields.get('Id') or notification.Id}"


def _billing_address(fields: dict[str, str | None]) -> dict[str, str] | None:
    if not any(fields.get(name) for name in BILLING_FIELDS):
        return None
    country = fields.get("BillingCountryCode") or fields.get("BillingCountry") or ""
    street, city = fields.get("BillingStreet"), fields.get("BillingCity")
    if not (street and city and _ISO_COUNTRY.match(country)):
        raise ValueError("billing address without street, city and ISO country code")
    return {
        "street": joined_lines(street),  # BillingStreet is a textarea
        "city": city,
        "postal_code": fields.get("BillingPostalCode") or "",
        "region": (fields.get("BillingStateCode") or fields.get("BillingState") or "")[:64],
        "country": country,
    }


def change_notified(
    notification: Notification, record_type: str, *, source_name: str, legal_entity: str, ingested_at: dt.datetime
) -> ChangeNotifiedEvent:
    """The record named for enrichment; its id is stable per notification (a redelivery is
    the same event)."""
    fields = notification.sObject.fields
    return new_event(
        ChangeNotifiedEvent,
        {
            "system": "crm",
            "record_type": record_type,
            "record_ids": [fields.get("Id") or notification.Id],
            "vendor_source": source_name,
        },
        legal_entity=legal_entity,
        occurred_at=parse_vendor_datetime(fields.get("LastModifiedDate"), ingested_at),
        event_id=event_id_for_delivery(source_name, f"ChangeNotified:{notification.Id}"),
        ingested_at=ingested_at,
    )


def to_canonical_account_changed(
    notification: Notification, *, event_id: str, source_name: str, legal_entity: str, ingested_at: dt.datetime
) -> Envelope:
    """AccountChanged from the message's fields, or ChangeNotified when they do not suffice."""
    fields = notification.sObject.fields
    reference = _reference(notification)
    try:
        address = _billing_address(fields)
    except ValueError:  # part of an address, or a country by name: the CRM's record is whole
        address = None
    if not fields.get("Name") or (address is None and any(fields.get(name) for name in BILLING_FIELDS)):
        return change_notified(
            notification, "customer", source_name=source_name, legal_entity=legal_entity, ingested_at=ingested_at
        )
    data: dict[str, Any] = {
        "account_id": fields.get("Id") or notification.Id,
        "name": fields["Name"],
        "billing_address": address,
        "currency": fields.get("CurrencyIsoCode") or None,
        "parent_account_id": fields.get("ParentId") or None,
    }
    try:
        return new_event(
            AccountChangedEvent,
            data,
            legal_entity=legal_entity,
            occurred_at=parse_vendor_datetime(fields.get("LastModifiedDate"), ingested_at),
            event_id=event_id,
            ingested_at=ingested_at,
        )
    except ValidationError as error:
        problems = sorted({".".join(str(p) for p in e["loc"]) for e in error.errors(include_input=False)})
        raise NotMappable(
            UnprocessedItem(
                "Account",
                Unprocessed.INVALID_FIELDS,
                f"fields do not form a valid AccountChanged: {', '.join(problems)[:300]}",
                reference,
                ("AccountChanged",),
            )
        ) from None


def won_opportunity_notified(
    notification: Notification, *, source_name: str, legal_entity: str, ingested_at: dt.datetime
) -> ChangeNotifiedEvent:
    """A won Opportunity → ChangeNotified (enrichment reads it with its line items); any other
    Opportunity change is NotMappable (`not_mapped`)."""
    fields = notification.sObject.fields
    if fields.get("IsWon") == "true" or fields.get("StageName") == "Closed Won":
        return change_notified(
            notification, "opportunity", source_name=source_name, legal_entity=legal_entity, ingested_at=ingested_at
        )
    raise NotMappable(
        UnprocessedItem(
            "Opportunity", Unprocessed.NOT_MAPPED, "only won opportunities become events", _reference(notification)
        )
    )
