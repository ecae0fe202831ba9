"""Xero's identity server: the token endpoint of both auth shapes, and what an OAuth2 app's
refresh needs; the rotation itself is the kit's (kit/rotation.py: one writer at a time, the new
refresh token written back to the connection secret).

An OAuth2 app (authorization code) gets a refresh token with the `offline_access` scope. Each
refresh (`grant_type=refresh_token`, the app in an HTTP Basic header) answers a 30-minute access
token and a new refresh token that replaces the one spent; a refresh token unused for 60 days
expires and the organisation's user must authorise the app again.
https://developer.xero.com/documentation/guides/oauth2/auth-flow/ (Refreshing access tokens)
https://developer.xero.com/faq/oauth2 (expiry of refresh and access tokens)
"""

from __future__ import annotations

from ..kit.rotation import TokenEndpoint
from .client import XeroErrors

# https://developer.xero.com/documentation/guides/oauth2/auth-flow/
TOKEN_URL = "https://identity.xero.com/connect/token"
TOKEN_LIFETIME = 30 * 60
REAUTHORISE = (
    "re-authorise Concord's Xero app for the organisation (a refresh token dies after 60 days unused, "
    "or when the app is disconnected) and put the new refresh token in the connection secret"
)


def token_endpoint(url: str = TOKEN_URL) -> TokenEndpoint:
    return TokenEndpoint(
        vendor="xero", url=url, errors=XeroErrors(), default_lifetime=TOKEN_LIFETIME, reauthorise=REAUTHORISE
    )
