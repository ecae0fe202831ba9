"""QuickBooks Online's connection (the ERP role's secret) and the client built from it.

The app is registered in Intuit's developer portal with the `com.intuit.quickbooks.accounting`
scope; a person connects it to the company once (authorization code), and the refresh token of
that consent goes into the secret. Concord then rotates it (kit/rotation.py) and writes each new one
back to the same secret.
https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/oauth-2.0
"""

from __future__ import annotations

from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from concord.errors import ConfigurationError

from ..kit.budget import BudgetPolicy, RateBudget, dynamodb_budget, in_memory_budget
from ..kit.rotation import RotatingRefreshToken, shared_rotation
from ..kit.urls import SystemUrl
from ..registry import ConnectorContext
from .client import QuickBooksClient
from .tokens import TOKEN_URL, token_endpoint

API_URL = "https://quickbooks.api.intuit.com"
MINOR_VERSION = 75


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RateSettings(_Strict):
    """Concord's share of the realm's limits: 500 requests a minute and 10 a second per realm
    and app. A token bucket of `burst` and `per_second` lets at most burst + per_second calls into
    any one second and burst + 60 x per_second into a minute: the defaults (1 + 8, 1 + 480) keep
    inside both. https://developer.intuit.com/app/developer/qbo/docs/learn/rest-api-features#limits-and-throttles
    """

    per_second: float = Field(default=8.0, gt=0, le=10.0)
    burst: float = Field(default=1.0, ge=1, le=2)
    max_wait_seconds: float = Field(default=5.0, ge=0)

    def policy(self) -> BudgetPolicy:
        # However often QuickBooks answers 429, the halved rate keeps a call's wait for a token
        # within max_wait: below that, a delivery gets one call through at most, a billing batch
        # (estimate look-up, read, write) never completes, and its messages are dead-lettered.
        floor = min(self.per_second, 1 / max(self.max_wait_seconds, 1.0))
        return BudgetPolicy(rate_per_second=self.per_second, burst=self.burst, min_rate=floor)


class QuickBooksConnection(_Strict):
    """The ERP role's secret: {"kind": "quickbooks", "realm_id", "client_id", "client_secret",
    "refresh_token", "home_currency"?, "api_url"?, "token_url"?, "minor_version"?, "rate"?} plus
    what Concord writes back on each refresh ("access_token", "access_token_expires_at")."""

    kind: Literal["quickbooks"]
    realm_id: str = Field(pattern=r"^[0-9]{1,32}$")
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    refresh_token: SecretStr
    access_token: SecretStr | None = None
    access_token_expires_at: float | None = None
    home_currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    api_url: SystemUrl = API_URL  # https; http only to loopback (the local stack)
    token_url: SystemUrl = TOKEN_URL
    minor_version: int = Field(default=MINOR_VERSION, ge=1)
    rate: RateSettings = RateSettings()

    @property
    def company_root(self) -> str:
        """https://quickbooks.api.intuit.com/v3/company/{realmId}/"""
        return f"{self.api_url.rstrip('/')}/v3/company/{self.realm_id}/"


def parse_connection(raw: dict[str, Any]) -> QuickBooksConnection:
    """The validated connection; a ConfigurationError naming the bad fields (never their values)."""
    try:
        return QuickBooksConnection.model_validate(raw)
    except ValidationError as error:
        fields = sorted({".".join(str(part) for part in issue["loc"]) for issue in error.errors()})
        raise ConfigurationError(f"quickbooks connection invalid: {', '.join(fields)}") from None


def rate_budget(connection: QuickBooksConnection, context: ConnectorContext) -> RateBudget:
    key = f"budget#quickbooks#{connection.realm_id}"
    if context.rate_budget_table:
        return dynamodb_budget(context.rate_budget_table, key, connection.rate.policy())
    return in_memory_budget(connection.rate.policy(), key)


def open_client(
    raw: dict[str, Any], context: ConnectorContext, transport: httpx.BaseTransport | None = None
) -> QuickBooksClient:
    connection = parse_connection(raw)
    vault, lock = shared_rotation("quickbooks", connection.realm_id, raw, context)
    auth = RotatingRefreshToken(endpoint=token_endpoint(connection.token_url), vault=vault, lock=lock)
    return QuickBooksClient(
        base_url=connection.company_root,
        realm_id=connection.realm_id,
        minor_version=connection.minor_version,
        auth=auth,
        budget=rate_budget(connection, context),
        max_wait=connection.rate.max_wait_seconds,
        transport=transport,
    )
