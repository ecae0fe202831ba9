"""Xero's connection (the ERP role's secret) and the client built from it, in one of two shapes:

- `"auth": "custom_connection"` (the default): an app of the firm's Xero organisation that trades
  its client id and secret for a 30-minute access token (client credentials grant) at Xero's
  identity server, for that one organisation.
  https://developer.xero.com/documentation/guides/oauth2/custom-connections/
- `"auth": "oauth2"`: a standard app a user of the organisation authorised once (authorization
  code with `offline_access`); its refresh token rotates on every refresh, so one process at a
  time refreshes and writes the new one back to the secret (tokens.py, kit/rotation.py).

Either way the access token is cached and renewed a minute before it expires.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, ValidationInfo, field_validator

from concord.errors import ConfigurationError

from ..kit.auth import ClientSecret, OAuth2ClientCredentials
from ..kit.budget import BudgetPolicy, RateBudget, dynamodb_budget, in_memory_budget
from ..kit.rotation import RotatingRefreshToken, shared_rotation
from ..kit.urls import SystemUrl
from ..registry import ConnectorContext
from .budget import OrganisationBudget
from .client import XeroClient, XeroErrors
from .tokens import TOKEN_LIFETIME, TOKEN_URL, token_endpoint

API_URL = "https://api.xero.com/api.xro/2.0"
DAY = 86_400.0
# Renew an access token this long before it expires: a 30-minute token serves 29 minutes.
REFRESH_MARGIN = 60.0


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
        # However often Xero answers 429, the halved rate keeps a call's wait for a token within
        # max_wait: below that, a delivery gets one call through at most, a billing batch (the
        # draft read, then its update) never completes, and its messages are dead-lettered.
        floor = min(rate, 1 / max(self.max_wait_seconds, 1.0))
        return BudgetPolicy(rate_per_second=rate, burst=self.burst, max_leases=self.max_in_flight, min_rate=floor)

    def day_policy(self) -> BudgetPolicy:
        burst = max(1, self.per_day // 20)
        return BudgetPolicy(rate_per_second=(self.per_day - burst) / DAY, burst=burst)


class XeroConnection(_Strict):
    """The ERP role's secret: {"kind": "xero", "auth"?, "tenant_id", "client_id", "client_secret",
    "refresh_token" (oauth2 only), "account_code"?, "rate"?}, plus what Concord writes back on
    each OAuth2 refresh ("refresh_token", "access_token", "access_token_expires_at")."""

    kind: Literal["xero"]
    auth: Literal["custom_connection", "oauth2"] = "custom_connection"
    tenant_id: str = Field(pattern=r"^[0-9a-fA-F-]{36}$")  # the organisation (xero-tenant-id)
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    # OAuth2 only: the first consent's refresh token, then each rotated one Concord writes back.
    refresh_token: SecretStr | None = Field(default=None, validate_default=True)
    access_token: SecretStr | None = None
    access_token_expires_at: float | None = None
    # The scopes granted to the custom connection (None: all it was given).
    scope: str | None = None
    # The revenue account of invoice lines whose item sets none (Xero's demo company: 200 Sales).
    account_code: str = Field(default="200", min_length=1, max_length=10)
    api_url: SystemUrl = API_URL  # https; http only to loopback (the local stack)
    token_url: SystemUrl = TOKEN_URL
    rate: RateSettings = RateSettings()

    @field_validator("refresh_token")
    @classmethod
    def _refresh_token_only_with_oauth2(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        oauth2 = info.data.get("auth") == "oauth2"
        if oauth2 and value is None:
            raise ValueError("required with auth oauth2")
        if not oauth2 and value is not None:
            raise ValueError('only with auth "oauth2" (a custom connection has none)')
        return value


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


def _custom_connection(connection: XeroConnection, context: ConnectorContext) -> httpx.Auth:
    # https://developer.xero.com/documentation/guides/oauth2/client-credentials/
    return OAuth2ClientCredentials(
        vendor="xero",
        token_url=connection.token_url,
        scope=connection.scope,
        load_credentials=_credentials(connection, context),
        errors=XeroErrors(),
        default_lifetime=TOKEN_LIFETIME,
    )


def _oauth2(connection: XeroConnection, raw: dict[str, Any], context: ConnectorContext) -> httpx.Auth:
    vault, lock = shared_rotation("xero", connection.tenant_id, raw, context)
    return RotatingRefreshToken(
        endpoint=token_endpoint(connection.token_url), vault=vault, lock=lock, refresh_margin=REFRESH_MARGIN
    )


def open_client(
    raw: dict[str, Any], context: ConnectorContext, transport: httpx.BaseTransport | None = None
) -> XeroClient:
    connection = parse_connection(raw)
    oauth2 = connection.auth == "oauth2"
    return XeroClient(
        base_url=connection.api_url,
        tenant_id=connection.tenant_id,
        auth=_oauth2(connection, raw, context) if oauth2 else _custom_connection(connection, context),
        budget=rate_budget(connection, context),
        max_wait=connection.rate.max_wait_seconds,
        transport=transport,
    )
