"""Xero's connection (the ERP role's secret) and the client built from it.

Auth is a Custom Connection: an app of the firm's Xero organisation that trades its client id
and secret for a 30-minute access token (client credentials grant) at Xero's identity server,
for that one organisation. The token is cached and renewed a minute before it expires.
https://developer.xero.com/documentation/guides/oauth2/custom-connections/

The other shape, a standard OAuth2 app with rotating refresh tokens, is not supported: its
rotated refresh token would have to be written back to the secret under a lock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from concord.errors import ConfigurationError

from ..kit.auth import ClientSecret, OAuth2ClientCredentials
from ..kit.budget import BudgetPolicy, RateBudget, dynamodb_budget, in_memory_budget
from ..kit.urls import SystemUrl
from ..registry import ConnectorContext
from .budget import OrganisationBudget
from .client import XeroClient, XeroErrors

API_URL = "https://api.xero.com/api.xro/2.0"
TOKEN_URL = "https://identity.xero.com/connect/token"
TOKEN_LIFETIME = 30 * 60
DAY = 86_400.0


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RateSettings(_Strict):
    """Concord's share of the organisation's limits: 5 calls in progress, 60 a minute, 5,000 a
    day (set `per_day` to 1,000 on the Starter tier). A token bucket lets its burst through
    on top of its rate, so the buckets run that much below the limits. Values above Xero's
    limits are for the local sandbox only (configured with the same limits).
    https://developer.xero.com/documentation/guides/oauth2/limits/"""

    per_minute: int = Field(default=60, ge=2, le=10_000)
    per_day: int = Field(default=5000, ge=100, le=1_000_000)
    max_in_flight: int = Field(default=5, ge=1, le=5)
    burst: int = Field(default=5, ge=1, le=10)
    max_wait_seconds: float = Field(default=2.0, ge=0)

    def minute_policy(self) -> BudgetPolicy:
        rate = (self.per_minute - self.burst) / 60
        return BudgetPolicy(rate_per_second=rate, burst=self.burst, max_leases=self.max_in_flight)

    def day_policy(self) -> BudgetPolicy:
        burst = max(1, self.per_day // 20)
        return BudgetPolicy(rate_per_second=(self.per_day - burst) / DAY, burst=burst)


class XeroConnection(_Strict):
    """The ERP role's secret: {"kind": "xero", "tenant_id", "client_id", "client_secret",
    "account_code"?, "rate"?}."""

    kind: Literal["xero"]
    tenant_id: str = Field(pattern=r"^[0-9a-fA-F-]{36}$")  # the organisation (xero-tenant-id)
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    # The scopes granted to the custom connection (None: all it was given).
    scope: str | None = None
    # The revenue account of invoice lines whose item sets none (Xero's demo company: 200 Sales).
    account_code: str = Field(default="200", min_length=1, max_length=10)
    api_url: SystemUrl = API_URL  # https; http only to loopback (the local stack)
    token_url: SystemUrl = TOKEN_URL
    rate: RateSettings = RateSettings()


def parse_connection(raw: dict[str, Any]) -> XeroConnection:
    """The validated connection; a ConfigurationError naming the bad fields (never their values)."""
    try:
        return XeroConnection.model_validate(raw)
    except ValidationError as error:
        fields = sorted({".".join(str(part) for part in issue["loc"]) for issue in error.errors()})
        raise ConfigurationError(f"xero connection invalid: {', '.join(fields)}") from None


def rate_budget(connection: XeroConnection, context: ConnectorContext) -> RateBudget:
    """The organisation's minute and day budgets, shared across Lambdas when Concord has a budget table."""
    key = f"budget#xero#{connection.tenant_id}"
    rate = connection.rate
    if context.rate_budget_table:
        minute = dynamodb_budget(context.rate_budget_table, key, rate.minute_policy())
        day = dynamodb_budget(context.rate_budget_table, f"{key}#day", rate.day_policy())
    else:
        minute, day = in_memory_budget(rate.minute_policy(), key), in_memory_budget(rate.day_policy(), f"{key}#day")
    return OrganisationBudget(minute, day)


def _credentials(first: XeroConnection, context: ConnectorContext) -> Callable[[], ClientSecret]:
    """The connection at hand first; the secret re-read after that (a rotation)."""
    calls = 0

    def load() -> ClientSecret:
        nonlocal calls
        calls += 1
        connection = first if calls == 1 else parse_connection(context.reload_connection())
        return ClientSecret(client_id=connection.client_id, client_secret=connection.client_secret)

    return load


def open_client(
    connection: XeroConnection, context: ConnectorContext, transport: httpx.BaseTransport | None = None
) -> XeroClient:
    # https://developer.xero.com/documentation/guides/oauth2/client-credentials/
    auth = OAuth2ClientCredentials(
        vendor="xero",
        token_url=connection.token_url,
        scope=connection.scope,
        load_credentials=_credentials(connection, context),
        errors=XeroErrors(),
        default_lifetime=TOKEN_LIFETIME,
    )
    return XeroClient(
        base_url=connection.api_url,
        tenant_id=connection.tenant_id,
        auth=auth,
        budget=rate_budget(connection, context),
        max_wait=connection.rate.max_wait_seconds,
        transport=transport,
    )
