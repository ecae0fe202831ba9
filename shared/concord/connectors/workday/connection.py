"""Workday's connection (the ERP role's secret) and the client built from it.

The tenant's admin registers an Integration System User (ISU) in a security group with the
Revenue_Management domains (customers, customer invoices, customer payments: Get and Put), and
either gives Concord its password (WS-Security UsernameToken, `user@tenant`) or registers an
"API Client for Integrations" and issues a non-expiring refresh token for the ISU, exchanged at
`/ccx/oauth2/{tenant}/token` for bearer tokens.
https://community.workday.com/sites/default/files/file-hosting/productionapi/index.html
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from concord.errors import ConfigurationError

from ..kit.auth import OAuth2RefreshToken, RefreshCredentials
from ..kit.budget import BudgetPolicy, RateBudget, dynamodb_budget, in_memory_budget
from ..kit.urls import SystemUrl
from ..registry import ConnectorContext
from .client import WorkdayClient, WorkdayErrors

SERVICE = "Revenue_Management"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IntegrationUser(_Strict):
    """WS-Security UsernameToken: the ISU's `user@tenant` and password."""

    type: Literal["isu"]
    username: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    password: SecretStr


class RefreshTokenClient(_Strict):
    """An API client for integrations and the ISU's non-expiring refresh token."""

    type: Literal["refresh_token"]
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    refresh_token: SecretStr


class RateSettings(_Strict):
    """Workday publishes no rate limit (third parties observe about 10 requests a second per
    tenant): Concord keeps well under it, and the budget halves on every throttle."""

    per_second: float = Field(default=2.0, gt=0, le=10.0)
    burst: float = Field(default=4.0, ge=1)
    max_in_flight: int = Field(default=2, ge=1, le=10)
    max_wait_seconds: float = Field(default=2.0, ge=0)

    def policy(self) -> BudgetPolicy:
        # However often Workday throttles, the halved rate keeps a call's wait for a token within
        # max_wait: below that, a delivery gets one call through at most, a billing batch (a read
        # then a Submit) never completes, and its messages are dead-lettered for want of receives.
        return BudgetPolicy(
            rate_per_second=self.per_second,
            burst=self.burst,
            max_leases=self.max_in_flight,
            min_rate=min(self.per_second, 1 / max(self.max_wait_seconds, 1.0)),
        )


class WorkdayConnection(_Strict):
    """The ERP role's secret: {"kind": "workday", "host", "tenant", "company_id", "auth":
    {"type": "isu", "username", "password"} | {"type": "refresh_token", "client_id",
    "client_secret", "refresh_token"}, "version"?, "rate"?}."""

    kind: Literal["workday"]
    host: SystemUrl  # e.g. https://wd2-impl-services1.workday.com
    tenant: str = Field(pattern=r"^[A-Za-z0-9_]+$")
    company_id: str = Field(min_length=1)  # the invoicing company's Company_Reference_ID
    auth: Annotated[IntegrationUser | RefreshTokenClient, Field(discriminator="type")]
    version: str = Field(default="v45.0", pattern=r"^v\d+\.\d+$")
    rate: RateSettings = RateSettings()

    @property
    def service_url(self) -> str:
        """https://{host}/ccx/service/{tenant}/Revenue_Management/v45.0"""
        return f"{self.host.rstrip('/')}/ccx/service/{self.tenant}/{SERVICE}/{self.version}"

    @property
    def token_url(self) -> str:
        return f"{self.host.rstrip('/')}/ccx/oauth2/{self.tenant}/token"


def parse_connection(raw: dict[str, Any]) -> WorkdayConnection:
    """The validated connection; a ConfigurationError naming the bad fields (never their values)."""
    try:
        return WorkdayConnection.model_validate(raw)
    except ValidationError as error:
        fields = sorted({".".join(str(part) for part in issue["loc"]) for issue in error.errors()})
        raise ConfigurationError(f"workday connection invalid: {', '.join(fields)}") from None


def rate_budget(connection: WorkdayConnection, context: ConnectorContext) -> RateBudget:
    """The tenant's budget, shared across Lambdas when Concord has a budget table."""
    key = f"budget#workday#{connection.tenant}"
    if context.rate_budget_table:
        return dynamodb_budget(context.rate_budget_table, key, connection.rate.policy())
    return in_memory_budget(connection.rate.policy(), key)


def _reloaded(first: WorkdayConnection, context: ConnectorContext) -> Callable[[bool], WorkdayConnection]:
    """The connection at hand, or the secret read afresh (after a refusal: a rotation)."""
    current = [first]

    def load(reload: bool) -> WorkdayConnection:
        if reload:
            current[0] = parse_connection(context.reload_connection())
        return current[0]

    return load


def open_client(
    connection: WorkdayConnection, context: ConnectorContext, transport: httpx.BaseTransport | None = None
) -> WorkdayClient:
    load = _reloaded(connection, context)
    auth: httpx.Auth | None = None
    credentials: Callable[[bool], tuple[str, str]] | None = None
    if isinstance(connection.auth, IntegrationUser):

        def credentials(reload: bool) -> tuple[str, str]:
            user = load(reload).auth
            if not isinstance(user, IntegrationUser):
                raise ConfigurationError("workday connection: the rotated secret no longer names an ISU")
            return user.username, user.password.get_secret_value()

    else:
        reads = [0]

        def refresh_credentials() -> RefreshCredentials:
            reads[0] += 1  # the connection at hand first; the secret re-read after a refusal
            client = load(reads[0] > 1).auth
            if not isinstance(client, RefreshTokenClient):
                raise ConfigurationError("workday connection: the rotated secret no longer names an API client")
            return RefreshCredentials(
                client_id=client.client_id, client_secret=client.client_secret, refresh_token=client.refresh_token
            )

        # https://community.workday.com/sites/default/files/file-hosting/restapi/index.html (OAuth 2.0 refresh)
        auth = OAuth2RefreshToken(
            vendor="workday",
            token_url=connection.token_url,
            load_credentials=refresh_credentials,
            errors=WorkdayErrors(),
            default_lifetime=3600,
        )
    return WorkdayClient(
        service_url=connection.service_url,
        version=connection.version,
        budget=rate_budget(connection, context),
        credentials=credentials,
        auth=auth,
        account=connection.tenant,
        max_wait=connection.rate.max_wait_seconds,
        transport=transport,
    )
