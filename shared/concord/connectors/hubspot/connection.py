"""A HubSpot portal's connection (the CRM role's secret) and the client built from it.

{"kind": "hubspot", "base_url": "https://api.hubapi.com", "portal_id": "12345678",
 "auth": {"type": "static_token", "token": "..."}
       | {"type": "oauth_refresh", "client_id": "...", "client_secret": "...", "refresh_token": "..."},
 "properties": {...}, "rate": {...}, "default_currency": "USD"}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from concord.errors import ConfigurationError

from ..kit.auth import OAuth2RefreshToken, RefreshCredentials, StaticToken
from ..kit.budget import BudgetPolicy, RateBudget, dynamodb_budget, in_memory_budget
from ..kit.urls import SystemUrl
from ..registry import ConnectorContext
from .client import API_VERSION, HubSpotClient, HubSpotErrors
from .crm import CrmProperties

# https://developers.hubspot.com/docs/api-reference/2026-03/authentication/oauth-tokens/refresh-oauth-token
TOKEN_PATH = "/oauth/2026-03/token"
# What the token endpoint answers for a refresh token or client it no longer accepts (the app was
# uninstalled, or its secret rotated): re-read the secret before calling the install lost.
REFRESH_REFUSED = frozenset({"BAD_REFRESH_TOKEN", "BAD_CLIENT_ID"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StaticTokenAuth(_Strict):
    """An app installed in one account (static auth token, or a legacy private app's token)."""

    type: Literal["static_token"]
    token: SecretStr


class OAuthRefreshAuth(_Strict):
    """A multi-account OAuth app: the install's refresh token traded for 30-minute access tokens."""

    type: Literal["oauth_refresh"]
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    refresh_token: SecretStr


PortalAuth = Annotated[StaticTokenAuth | OAuthRefreshAuth, Field(discriminator="type")]


class RateSettings(_Strict):
    """The portal's share of Concord's rate budget. HubSpot allows 100 (Free/Starter) to 190
    (Professional/Enterprise) requests per 10 s per app and portal, and the CRM search API 5 per
    second per token; these ceilings leave room for the firm's other integrations.
    https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines"""

    per_second: float = Field(default=9.0, gt=0)
    burst: float = Field(default=18.0, ge=1)
    max_in_flight: int = Field(default=10, ge=1)
    search_per_second: float = Field(default=4.0, gt=0)
    max_wait_seconds: float = Field(default=2.0, ge=0)

    def policy(self) -> BudgetPolicy:
        return BudgetPolicy(rate_per_second=self.per_second, burst=self.burst, max_leases=self.max_in_flight)

    def search_policy(self) -> BudgetPolicy:
        return BudgetPolicy(rate_per_second=self.search_per_second, burst=self.search_per_second)


class HubSpotConnection(_Strict):
    kind: Literal["hubspot"]
    base_url: SystemUrl = "https://api.hubapi.com"  # https; http only to loopback (the local stack); no user:password@
    # The portal (Hub) id: names the rate budget; without it, the base URL does.
    portal_id: str | None = Field(default=None, pattern=r"^\d{1,20}$")
    auth: PortalAuth
    # The CRM API's date version (/crm/objects/<version>/...). From 2026-09 HubSpot validates
    # every write against the portal's required properties; a refusal names them.
    api_version: str = Field(default=API_VERSION, pattern=r"^\d{4}-\d{2}$")
    properties: CrmProperties = CrmProperties()
    default_currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    rate: RateSettings = RateSettings()

    @property
    def account(self) -> str:
        if self.portal_id:
            return self.portal_id
        parts = urlsplit(self.base_url)
        return f"{parts.netloc}{parts.path}".rstrip("/")


def parse_connection(raw: dict[str, Any]) -> HubSpotConnection:
    """The validated connection; a ConfigurationError naming the bad fields (never their values)."""
    try:
        return HubSpotConnection.model_validate(raw)
    except ValidationError as error:
        fields = sorted({".".join(str(part) for part in issue["loc"]) for issue in error.errors()})
        raise ConfigurationError(f"hubspot connection invalid: {', '.join(fields)}") from None


def rate_budgets(connection: HubSpotConnection, context: ConnectorContext) -> tuple[RateBudget, RateBudget]:
    """The portal's budget and its search budget, shared across Lambdas when Concord has a budget table."""
    key = f"budget#hubspot#{connection.account}"
    rate = connection.rate
    if context.rate_budget_table:
        return (
            dynamodb_budget(context.rate_budget_table, key, rate.policy()),
            dynamodb_budget(context.rate_budget_table, f"{key}#search", rate.search_policy()),
        )
    return in_memory_budget(rate.policy(), key), in_memory_budget(rate.search_policy(), f"{key}#search")


def open_client(
    connection: HubSpotConnection, context: ConnectorContext, transport: httpx.BaseTransport | None = None
) -> HubSpotClient:
    """A client of the portal. OAuth tokens are renewed from `expires_in`; a 401 re-reads the
    secret once (context.reload_connection) and a second 401 is a permanent AuthFailed."""
    budget, search_budget = rate_budgets(connection, context)
    return HubSpotClient(
        base_url=connection.base_url,
        auth=_auth(connection, context),
        budget=budget,
        search_budget=search_budget,
        portal=connection.account,
        api_version=connection.api_version,
        max_wait=connection.rate.max_wait_seconds,
        transport=transport,
    )


def _auth(connection: HubSpotConnection, context: ConnectorContext) -> httpx.Auth:
    auth = connection.auth
    if isinstance(auth, StaticTokenAuth):
        return StaticToken(auth.token)
    return OAuth2RefreshToken(
        vendor="hubspot",
        token_url=connection.base_url.rstrip("/") + TOKEN_PATH,
        load_credentials=_first_then(auth, lambda: parse_connection(context.reload_connection()).auth),
        errors=HubSpotErrors(),
        refused_codes=REFRESH_REFUSED,
    )


def _first_then(
    first: OAuthRefreshAuth, reread: Callable[[], StaticTokenAuth | OAuthRefreshAuth]
) -> Callable[[], RefreshCredentials]:
    """Credentials from the connection at hand first, re-read from the secret after that."""
    calls = 0

    def load() -> RefreshCredentials:
        nonlocal calls
        calls += 1
        auth = first if calls == 1 else reread()
        if not isinstance(auth, OAuthRefreshAuth):
            raise ConfigurationError("hubspot connection: auth type changed on rotation")
        return RefreshCredentials(
            client_id=auth.client_id, client_secret=auth.client_secret, refresh_token=auth.refresh_token
        )

    return load
