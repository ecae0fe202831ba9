"""The sandbox's identity server (`POST /<tenant>/connect/token`): the client credentials grant of
a Custom Connection, and the refresh-token grant of an OAuth2 app.

A refresh rotates: it answers a 30-minute access token and a new refresh token, and the one spent
is refused from then on (invalid_grant), as is a refresh token unused for 60 days.
https://developer.xero.com/documentation/guides/oauth2/auth-flow/ (Refreshing access tokens)
https://developer.xero.com/faq/oauth2 (refresh tokens expire after 60 days unused)
Stricter than Xero on one point: Xero lets a client that lost the answer to a refresh retry the
spent token for 30 minutes; the sandbox refuses it at once, so a client that spends a refresh
token twice is caught.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import SecretStr

from ..kit import OAuthClient, Request, Response, TokenIssuer
from ..kit.oauth import Grant

ACCESS_TOKEN_SECONDS = 1800
REFRESH_TOKEN_UNUSED_LIMIT = dt.timedelta(days=60)
# Concord's standard OAuth2 app (authorization code), and the refresh token of its first consent
# (the consent itself is not played): sandbox demo credentials.
OAUTH_APP = OAuthClient(client_id="concord-xero-oauth-app", client_secret=SecretStr("concord-xero-oauth-secret"))
FIRST_REFRESH_TOKEN = "xero-refresh-concord-0"
_SCOPES = "accounting.transactions accounting.contacts accounting.settings"


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class RefreshTokens:
    """The refresh tokens alive: each one's app and when it was issued (or last rotated)."""

    now: Callable[[], dt.datetime] = _utc_now
    alive: dict[str, tuple[str, dt.datetime]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def issue_first(self, client_id: str, token: str) -> None:
        with self._lock:
            self.alive[token] = (client_id, self.now())

    def rotate(self, client_id: str, spent: str) -> str | None:
        """The new refresh token for `spent`, which dies; None if it is unknown, spent, expired
        or another app's."""
        with self._lock:
            owner, issued = self.alive.pop(spent, (None, None))
            if owner != client_id or issued is None or self.now() - issued > REFRESH_TOKEN_UNUSED_LIMIT:
                return None
            rotated = f"xero-refresh-{secrets.token_urlsafe(24)}"
            self.alive[rotated] = (client_id, self.now())
            return rotated


def _client_of(request: Request, form: dict[str, str], clients: tuple[OAuthClient, ...]) -> OAuthClient | None:
    """The app, authenticated by an HTTP Basic header (as Xero documents) or by form fields."""
    given_id, given_secret = form.get("client_id", ""), form.get("client_secret", "")
    scheme, _, encoded = (request.header("Authorization") or "").partition(" ")
    if scheme.lower() == "basic":
        try:
            given_id, _, given_secret = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
    for client in clients:
        known = client.client_secret.get_secret_value() if client.client_secret else "\0"
        if secrets.compare_digest(given_id, client.client_id) and secrets.compare_digest(given_secret, known):
            return client
    return None


def _token_answer(access_token: str, **extra: str) -> Response:
    body = {"access_token": access_token, "expires_in": ACCESS_TOKEN_SECONDS, "token_type": "Bearer", **extra}
    return Response(200, body)


def answer_token(
    request: Request,
    *,
    connections: tuple[OAuthClient, ...],
    apps: tuple[OAuthClient, ...],
    issuer: TokenIssuer,
    refresh_tokens: RefreshTokens,
) -> Response:
    """A token request: client credentials for a custom connection, refresh_token for an app."""
    form = request.form()
    grant_type = form.get("grant_type")
    if grant_type == "client_credentials":
        client = _client_of(request, form, connections)
        if client is None:
            return Response(400, {"error": "invalid_client"})
        scope = form.get("scope") or _SCOPES
        return _token_answer(issuer.issue(Grant(client.client_id, None)), scope=scope)
    if grant_type == "refresh_token":
        client = _client_of(request, form, apps)
        if client is None:
            return Response(400, {"error": "invalid_client"})
        rotated = refresh_tokens.rotate(client.client_id, form.get("refresh_token", ""))
        if rotated is None:
            return Response(400, {"error": "invalid_grant"})
        access = issuer.issue(Grant(client.client_id, None))
        return _token_answer(access, refresh_token=rotated, scope=f"offline_access {_SCOPES}")
    return Response(400, {"error": "unsupported_grant_type"})
