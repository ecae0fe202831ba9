"""Webhook subscriptions of one company: create, renew before the 3-day expiry, delete.

Business Central calls the notification URL with `?validationToken=` on a create and on every
renewal (Concord's ingress echoes it: concord.ingress.vendors.business_central), sends the
subscription's clientState with every notification, and stops after `expirationDateTime`: a
scheduled function calls `renew_due` well inside that window. A "collection" notification
(over 1,000 changes) names no record: change capture answers it with a delta read (polling).
https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/dynamics-subscriptions
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from ..kit.errors import Conflict, NotFound
from .client import BusinessCentralClient
from .polling import ENTITY_SETS

PATH = "subscriptions"
LIFETIME = dt.timedelta(days=3)
RENEW_MARGIN = dt.timedelta(days=1)  # renew what expires within a day (a daily schedule keeps every one alive)


class Subscription(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    subscriptionId: str
    resource: str
    notificationUrl: str
    expirationDateTime: dt.datetime
    etag: str = Field(default="", alias="@odata.etag")


@dataclass(frozen=True)
class KeptAlive:
    """What one renewal run did: the subscriptions it found or created, and those it renewed."""

    ensured: list[Subscription]
    renewed: list[Subscription]


class SubscriptionManager:
    def __init__(self, client: BusinessCentralClient, notification_url: str, client_state: SecretStr) -> None:
        self._client = client
        self._notification_url = notification_url
        self._client_state = client_state

    def resource(self, record_type: str) -> str:
        """The resource path Business Central watches for a record type (e.g. salesInvoices)."""
        return f"/api/v2.0/{self._client.company}/{ENTITY_SETS[record_type]}"

    def subscriptions(self) -> list[Subscription]:
        # https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/api/dynamics_subscriptions_get
        body = self._client.vendor.json("list subscriptions", "GET", PATH)
        return [Subscription.model_validate(row) for row in body.get("value", [])]

    def ensure(self, record_types: Sequence[str]) -> list[Subscription]:
        """One subscription per record type to Concord's URL: those missing are created."""
        mine = {sub.resource: sub for sub in self.subscriptions() if sub.notificationUrl == self._notification_url}
        return [mine.get(self.resource(record_type)) or self.create(record_type) for record_type in record_types]

    def create(self, record_type: str) -> Subscription:
        body = {"notificationUrl": self._notification_url, "resource": self.resource(record_type),
                "clientState": self._client_state.get_secret_value()}
        # https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/api/dynamics_subscriptions_create
        return Subscription.model_validate(self._client.vendor.json("create subscription", "POST", PATH, json=body))

    def renew(self, subscription: Subscription) -> Subscription:
        """A PATCH (If-Match) that sends the current clientState: Business Central handshakes
        again and moves the expiry 3 days on. A stale ETag reads the subscription once more."""
        body = {"notificationUrl": self._notification_url, "clientState": self._client_state.get_secret_value()}
        current = subscription
        for attempt in (1, 2):
            try:
                # https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/api/dynamics_subscriptions_update
                answer = self._client.vendor.json("renew subscription", "PATCH", self._path(current), json=body,
                                                  headers={"If-Match": current.etag or "*"})
                return Subscription.model_validate(answer)
            except Conflict:
                if attempt == 2:
                    raise
                current = Subscription.model_validate(self._client.vendor.json("read subscription", "GET", self._path(current)))
        raise AssertionError("unreachable")

    def renew_due(self, now: dt.datetime, margin: dt.timedelta = RENEW_MARGIN) -> list[Subscription]:
        """Renew Concord's subscriptions that expire within `margin` of `now` (the scheduled job)."""
        return [self.renew(sub) for sub in self.subscriptions()
                if sub.notificationUrl == self._notification_url and sub.expirationDateTime - now <= margin]

    def keep_alive(self, record_types: Sequence[str], now: dt.datetime) -> KeptAlive:
        """The scheduled run: renew what is due first (a lapsed subscription is renewed, not
        duplicated), then create what is missing."""
        renewed = self.renew_due(now)
        return KeptAlive(ensured=self.ensure(record_types), renewed=renewed)

    def delete(self, subscription: Subscription) -> None:
        try:
            # https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/api/dynamics_subscriptions_delete
            self._client.vendor.request("delete subscription", "DELETE", self._path(subscription))
        except NotFound:
            pass  # already gone: what delete wanted

    @staticmethod
    def _path(subscription: Subscription) -> str:
        return f"{PATH}('{subscription.subscriptionId}')"
