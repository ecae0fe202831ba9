"""QuickBooks Online's OAuth 2.0 token endpoint; the rotation itself is the kit's
(kit/rotation.py: one writer at a time, the new refresh token written back to the secret).

Intuit offers the authorization code grant only: an install yields a refresh token, each refresh
answers a new one and the one spent stops working, and an access token lives an hour.
https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/faq
"""

from __future__ import annotations

from ..kit.rotation import TokenEndpoint
from .client import QuickBooksErrors

# https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/oauth-2.0
TOKEN_URL = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
TOKEN_LIFETIME = 3600
REAUTHORISE = (
    "connect the app to the company again (authorization code) and put the refresh token of that "
    "consent in the connection secret"
)


def token_endpoint(url: str = TOKEN_URL) -> TokenEndpoint:
    return TokenEndpoint(
        vendor="quickbooks",
        url=url,
        errors=QuickBooksErrors(),
        default_lifetime=TOKEN_LIFETIME,
        reauthorise=REAUTHORISE,
    )
