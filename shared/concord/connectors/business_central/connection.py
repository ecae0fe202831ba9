"""Business Central's connection (the ERP role's secret) and the client built from it.

Auth is an Entra ID app registration with the client credentials grant: the app is registered
in Business Central (page "Microsoft Entra Applications") with permission sets, and its token
is asked for the scope `https://api.businesscentral.dynamics.com/.default`.
https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/administration/automation-apis-using-s2s-authentication
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

import httpx
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, ValidationError

from concord.errors import ConfigurationError

from ..kit.auth import ClientSecret, OAuth2ClientCredentials
from ..kit.budget import BudgetPolicy, RateBudget, dynamodb_budget, in_memory_budget
from ..kit.urls import SystemUrl
from ..registry import ConnectorContext
from .client import BusinessCentralClient, BusinessCentralErrors

API_URL = "https://api.businesscentral.dynamics.com"
LOGIN_URL = "https://login.microsoftonline.com"
SCOPE = "https://api.businesscentral.dynamics.com/.default"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RateSettings(_Strict):
    """Concord's share of the principal's limits: 6,000 requests per 5-minute sliding window
    (20 a second on average) and 100 simultaneous requests, per user or service principal.
    https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/dynamics-rate-limits
    """

    per_second: float = Field(default=20.0, gt=0, le=20.0)
    burst: float = Field(default=40.0, ge=1)
    max_in_flight: int = Field(default=20, ge=1, le=100)
    max_wait_seconds: float = Field(default=2.0, ge=0)

    def policy(self) -> BudgetPolicy:
        return BudgetPolicy(rate_per_second=self.per_second, burst=self.burst, max_leases=self.max_in_flight)


# The webhook source's clientState (one of its secret's `client_states`, the same rule).
_CLIENT_STATE = re.compile(r"^[!-~]{16,2048}$")


def _client_state(value: SecretStr) -> SecretStr:
    # The message never repeats the value: it is the webhook source's shared secret.
    if not _CLIENT_STATE.match(value.get_secret_value()):
        raise ValueError("client_state must be 16 to 2,048 printable ASCII characters without spaces")
    return value


ClientState = Annotated[SecretStr, AfterValidator(_client_state)]
# What Concord's ingress turns into events: invoices and payments (accounts are the CRM's).
SubscribedType = Literal["invoice", "payment"]


class SubscriptionSettings(_Strict):
    """Webhook subscriptions the scheduled renewal keeps alive for this company:
    `notification_url` is the ingress URL of the Business Central webhook source, and
    `client_state` one of that source's `client_states` (Business Central sends it with every
    notification; the ingress refuses any other)."""

    notification_url: SystemUrl
    client_state: ClientState
    record_types: Annotated[tuple[SubscribedType, ...], Field(min_length=1)] = ("invoice", "payment")


class BusinessCentralConnection(_Strict):
    """The ERP role's secret: {"kind": "business_central", "tenant_id", "environment",
    "company_id", "client_id", "client_secret", "local_currency", "subscriptions"?}."""

    kind: Literal["business_central"]
    tenant_id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9.-]+$")  # Entra tenant (GUID or domain)
    environment: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+$")  # e.g. "production"
    company_id: str = Field(pattern=r"^[0-9a-fA-F-]{36}$")
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    # The company's local currency (LCY): Business Central leaves currencyCode blank for it.
    local_currency: str = Field(pattern=r"^[A-Z]{3}$")
    api_url: SystemUrl = API_URL  # https; http only to loopback (the local stack)
    login_url: SystemUrl = LOGIN_URL
    rate: RateSettings = RateSettings()
    # None: no webhook subscriptions (polling alone finds the changes).
    subscriptions: SubscriptionSettings | None = None

    @property
    def api_root(self) -> str:
        """https://api.businesscentral.dynamics.com/v2.0/{tenant}/{environment}/api/v2.0/"""
        return f"{self.api_url.rstrip('/')}/v2.0/{self.tenant_id}/{self.environment}/api/v2.0/"

    @property
    def token_url(self) -> str:
        return f"{self.login_url.rstrip('/')}/{self.tenant_id}/oauth2/v2.0/token"

    @property
    def principal(self) -> str:
        """Whose limits the budget counts: the app (service principal) in its tenant."""
        return f"{self.tenant_id}#{self.client_id}"


def parse_connection(raw: dict[str, Any]) -> BusinessCentralConnection:
    """The validated connection; a ConfigurationError naming the bad fields (never their values)."""
    try:
        return BusinessCentralConnection.model_validate(raw)
    except ValidationError as error:
        fields = sorted({".".join(str(part) for part in issue["loc"]) for issue in error.errors()})
        raise ConfigurationError(f"business central connection invalid: {', '.join(fields)}") from None


def rate_budget(connection: BusinessCentralConnection, context: ConnectorContext) -> RateBudget:
    """The principal's budget, shared across Lambdas when Concord has a budget table."""
    key = f"budget#business_central#{connection.principal}"
    if context.rate_budget_table:
        return dynamodb_budget(context.rate_budget_table, key, connection.rate.policy())
    return in_memory_budget(connection.rate.policy(), key)


def _credentials(first: BusinessCentralConnection, context: ConnectorContext) -> Callable[[], ClientSecret]:
    """The connection at hand first; the secret re-read after that (a rotation)."""
    calls = 0

    def load() -> ClientSecret:
        nonlocal calls
        calls += 1
        connection = first if calls == 1 else parse_connection(context.reload_connection())
        return ClientSecret(client_id=connection.client_id, client_secret=connection.client_secret)

    return load


def open_client(connection: BusinessCentralConnection, context: ConnectorContext,
                transport: httpx.BaseTransport | None = None) -> BusinessCentralClient:
    # https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow
    auth = OAuth2ClientCredentials(vendor="business_central", token_url=connection.token_url, scope=SCOPE,
                                   load_credentials=_credentials(connection, context),
                                   errors=BusinessCentralErrors(), default_lifetime=3600)
    return BusinessCentralClient(base_url=connection.api_root, company_id=connection.company_id, auth=auth,
                                 budget=rate_budget(connection, context), account=connection.principal,
                                 max_wait=connection.rate.max_wait_seconds, transport=transport)
