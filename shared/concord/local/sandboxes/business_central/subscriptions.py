"""Webhook subscriptions (`/api/v2.0/subscriptions`): a create or a renewal (PATCH, If-Match)
first calls `notificationUrl?validationToken=<token>` and succeeds only when that answers 200
with the token as its body; a subscription expires 3 days after it was created or renewed.
https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/dynamics-subscriptions
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from typing import Any

import httpx

from ..kit import Request, Response, Tenant
from .company import etag
from .errors import BcError, invalid, not_found

TABLE = "subscriptions"
LIFETIME = dt.timedelta(days=3)
FIELDS = frozenset({"notificationUrl", "resource", "clientState"})
# (notificationUrl, validationToken) -> whether the subscriber echoed the token with 200.
Handshake = Callable[[str, str], bool]


def http_handshake(notification_url: str, token: str) -> bool:
    """The handshake over HTTP, as Business Central makes it."""
    try:
        answer = httpx.get(notification_url, params={"validationToken": token}, timeout=5.0, trust_env=False)
    except httpx.HTTPError:
        return False
    return answer.status_code == 200 and answer.text == token


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    return {"@odata.etag": etag({"id": row["subscriptionId"], "lastModifiedDateTime": row["lastModifiedDateTime"]}),
            **{key: value for key, value in row.items() if key != "id"}}


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _body(request: Request) -> dict[str, Any]:
    body = request.json()
    if not isinstance(body, dict) or set(body) - FIELDS - {"@odata.etag"}:
        raise invalid("A subscription has notificationUrl, resource and clientState only.")
    if "clientState" in body and len(str(body["clientState"])) > 2048:
        raise invalid("clientState is at most 2048 characters.")
    return {key: value for key, value in body.items() if key in FIELDS}


def _shake(handshake: Handshake, url: str) -> None:
    if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise invalid("notificationUrl must be an https URL.")
    if not handshake(url, secrets.token_urlsafe(24)):
        raise BcError(400, "BadRequest", "The subscription could not be created: the notification URL did not "
                                         "return the validationToken.")


class Subscriptions:
    def __init__(self, handshake: Handshake, now: Callable[[], dt.datetime]) -> None:
        self.handshake, self.now = handshake, now

    def handle(self, tenant: Tenant, request: Request, key: str | None) -> Response:
        rows = {row["subscriptionId"]: row for row in tenant.store.rows(TABLE)}
        if key is None and request.method == "GET":
            return Response(200, {"value": [_shown(row) for row in rows.values()]})
        if key is None and request.method == "POST":
            return self._create(tenant, request)
        if key is None or key not in rows:
            raise not_found("subscription")
        row = rows[key]
        if request.method == "GET":
            return Response(200, _shown(row))
        if request.method == "DELETE":
            tenant.store.delete(TABLE, row["id"])
            return Response(204)
        if request.method == "PATCH":
            if request.header("If-Match") not in ("*", _shown(row)["@odata.etag"]):
                raise BcError(412, "Request_EntityChanged", "Another user has already changed the record.")
            changes = _body(request)
            _shake(self.handshake, {**row, **changes}["notificationUrl"])  # the URL once changed
            now = self.now()
            updated = tenant.store.update(TABLE, row["id"], {**changes, "lastModifiedDateTime": _stamp(now),
                                                            "expirationDateTime": _stamp(now + LIFETIME)})
            return Response(200, _shown(updated))
        raise BcError(405, "BadRequest_MethodNotAllowed", f"'{request.method}' is not allowed on subscriptions.")

    def _create(self, tenant: Tenant, request: Request) -> Response:
        body = _body(request)
        if not body.get("notificationUrl") or not body.get("resource"):
            raise invalid("notificationUrl and resource must be given.")
        _shake(self.handshake, body["notificationUrl"])
        now = self.now()
        row = tenant.store.insert(TABLE, {"subscriptionId": secrets.token_hex(16), "clientState": "", **body,
                                          "userId": "00000000-0000-0000-0000-000000000001",
                                          "lastModifiedDateTime": _stamp(now), "expirationDateTime": _stamp(now + LIFETIME)})
        return Response(201, _shown(row))

    def expired(self, tenant: Tenant) -> list[str]:
        """Subscriptions past their expiry (Business Central stops notifying them)."""
        now = _stamp(self.now())
        return [row["subscriptionId"] for row in tenant.store.rows(TABLE) if row["expirationDateTime"] <= now]
