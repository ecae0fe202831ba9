"""Salesforce sObjects → canonical events.

An outbound message carries the fields the admin selected, so an Account change becomes
AccountChanged when it holds at least Id and Name (and, when billing fields are sent, a
street, city and ISO country code). An Opportunity that is won cannot become
OpportunityClosedWon: outbound messages carry one object, never its line items
(`needs_enrichment`). Anything else is recorded as `not_mapped`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pydantic import ValidationError

from ...delivery import Unprocessed, UnprocessedItem
from ....events import new_event
from ....events.envelope import AccountChangedEvent
from ..common import parse_vendor_datetime
from .payloads import Notification

_ISO_COUNTRY = re.compile(r"^[A-Z]{2}$")
BILLING_FIELDS = ("BillingStreet", "BillingCity", "BillingPostalCode", "BillingState", "BillingCountry", "BillingCountryCode")


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
        "street": street,
        "city": city,
        "postal_code": fields.get("BillingPostalCode") or "",
        "region": (fields.get("BillingStateCode") or fields.get("BillingState") or "")[:64],
        "country": country,
    }


def to_canonical_account_changed(
    notification: Notification, *, event_id: str, legal_entity: str, ingested_at: dt.datetime
) -> AccountChangedEvent:
    fields = notification.sObject.fields
    reference = _reference(notification)
    if not fields.get("Name"):
        raise NotMappable(UnprocessedItem(
            "Account", Unprocessed.NEEDS_ENRICHMENT,
            "the outbound message does not include the account's Name", reference, ("AccountChanged",),
        ))
    try:
        address = _billing_address(fields)
    except ValueError as error:
        raise NotMappable(UnprocessedItem(
            "Account", Unprocessed.NEEDS_ENRICHMENT, str(error), reference, ("AccountChanged",)
        )) from None
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
        raise NotMappable(UnprocessedItem(
            "Account", Unprocessed.INVALID_FIELDS,
            f"fields do not form a valid AccountChanged: {', '.join(problems)[:300]}", reference, ("AccountChanged",),
        )) from None


def opportunity_unprocessed(notification: Notification) -> UnprocessedItem:
    fields = notification.sObject.fields
    if fields.get("IsWon") == "true" or fields.get("StageName") == "Closed Won":
        return UnprocessedItem(
            "Opportunity", Unprocessed.NEEDS_ENRICHMENT,
            "outbound messages carry no line items; OpportunityClosedWon needs them", _reference(notification),
            ("OpportunityClosedWon",),
        )
    return UnprocessedItem("Opportunity", Unprocessed.NOT_MAPPED, "only won opportunities become events", _reference(notification))
