"""A Salesforce org's connection (the role's secret) and the REST client built from it.

Shared by the CRM connector and Certinia PSA (which runs in a Salesforce org): both name the
org, its auth and the rate budget the same way; each adds its own field names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from concord.errors import ConfigurationError

from ..kit.auth import ClientSecret, JwtSigningKey
from ..kit.budget import BudgetPolicy, RateBudget, dynamodb_budget, in_memory_budget
from ..kit.urls import SystemUrl
from ..registry import ConnectorContext
from .client import DEFAULT_API_VERSION, SalesforceClient, client_credentials_auth, jwt_bearer_auth


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClientCredentialsAuth(_Strict):
    type: Literal["client_credentials"]
    client_id: str = Field(min_length=1)
    client_secret: SecretStr


class JwtBearerAuth(_Strict):
    type: Literal["jwt_bearer"]
    client_id: str = Field(min_length=1)
    username: str = Field(min_length=1)
    private_key: SecretStr  # PEM
    audience: str = "https://login.salesforce.com"  # or https://test.salesforce.com, or My Domain


OrgAuth = Annotated[ClientCredentialsAuth | JwtBearerAuth, Field(discriminator="type")]


class RateSettings(_Strict):
    """The org's share of Concord's rate budget. Salesforce limits requests per 24 h and
    long-running requests in flight (25), not requests per second: these ceilings keep
    Concord's bursts polite and leave room for the firm's other integrations."""

    per_second: float = Field(default=20.0, gt=0)
    burst: float = Field(default=40.0, ge=1)
    max_in_flight: int = Field(default=20, ge=1)
    max_wait_seconds: float = Field(default=2.0, ge=0)

    def policy(self) -> BudgetPolicy:
        return BudgetPolicy(rate_per_second=self.per_second, burst=self.burst, max_leases=self.max_in_flight)


class OrgConnection(_Strict):
    """What every Salesforce-hosted connector's secret holds besides its own field names."""

    # The org's My Domain URL (client credentials need it); for the JWT bearer flow, the URL
    # whose /services/oauth2/token issues tokens. API calls go to the token's instance_url.
    instance_url: SystemUrl  # https; http only to loopback (the local stack); no user:password@
    auth: OrgAuth
    api_version: str = Field(default=DEFAULT_API_VERSION, pattern=r"^v\d+\.\d$")
    rate: RateSettings = RateSettings()

    @property
    def host(self) -> str:
        return urlsplit(self.instance_url).netloc


def parse_connection[ConnectionT: OrgConnection](model: type[ConnectionT], raw: dict[str, Any]) -> ConnectionT:
    """The validated connection; a ConfigurationError naming the bad fields (never their values)."""
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        fields = sorted({".".join(str(part) for part in issue["loc"]) for issue in error.errors()})
        raise ConfigurationError(f"{raw.get('kind', 'salesforce')} connection invalid: {', '.join(fields)}") from None


def rate_budget(connection: OrgConnection, context: ConnectorContext) -> RateBudget:
    """The org's budget, shared across Lambdas when Concord has a budget table. Keyed by the
    org's host, so a CRM and a PSA in the same org draw from one budget, as Salesforce counts."""
    key = f"budget#salesforce#{connection.host}"
    if context.rate_budget_table:
        return dynamodb_budget(context.rate_budget_table, key, connection.rate.policy())
    return in_memory_budget(connection.rate.policy(), key)


def open_client(
    model: type[OrgConnection],
    connection: OrgConnection,
    context: ConnectorContext,
    transport: httpx.BaseTransport | None = None,
) -> SalesforceClient:
    """A client of the org, whose auth re-reads the secret (context.reload_connection) when the
    token endpoint refuses the credentials or the org answers 401 (a rotation)."""

    def current_auth() -> ClientCredentialsAuth | JwtBearerAuth:
        return parse_connection(model, context.reload_connection()).auth

    auth = connection.auth
    if isinstance(auth, ClientCredentialsAuth):
        http_auth: httpx.Auth = client_credentials_auth(
            connection.instance_url, _first_then(auth, current_auth, _client_secret)
        )
    else:
        http_auth = jwt_bearer_auth(
            connection.instance_url, _first_then(auth, current_auth, _signing_key), audience=auth.audience
        )
    return SalesforceClient(
        instance_url=connection.instance_url,
        auth=http_auth,
        budget=rate_budget(connection, context),
        org_id=connection.host,
        api_version=connection.api_version,
        max_wait=connection.rate.max_wait_seconds,
        transport=transport,
    )


def _client_secret(auth: ClientCredentialsAuth | JwtBearerAuth) -> ClientSecret:
    if not isinstance(auth, ClientCredentialsAuth):
        raise ConfigurationError("salesforce connection: auth type changed on rotation")
    return ClientSecret(client_id=auth.client_id, client_secret=auth.client_secret)


def _signing_key(auth: ClientCredentialsAuth | JwtBearerAuth) -> JwtSigningKey:
    if not isinstance(auth, JwtBearerAuth):
        raise ConfigurationError("salesforce connection: auth type changed on rotation")
    return JwtSigningKey(client_id=auth.client_id, subject=auth.username, private_key=auth.private_key)


def _first_then(first: Any, reread: Callable[[], Any], convert: Callable[[Any], Any]) -> Callable[[], Any]:
    """Credentials from the connection at hand on the first call, re-read from the secret on later ones."""
    calls = 0

    def load() -> Any:
        nonlocal calls
        calls += 1
        return convert(first if calls == 1 else reread())

    return load
