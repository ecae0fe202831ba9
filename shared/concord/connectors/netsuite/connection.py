"""A NetSuite account's connection (the ERP role's secret) and the client built from it.

{"kind": "netsuite", "account_id": "1234567_SB1",
 "auth": {"client_id": "...", "certificate_id": "...", "private_key": "<PEM of the mapped certificate's key>",
          "algorithm": "PS256"},
 "subsidiary_id": "1", "fields": {"tax_id": "vatRegNumber", "concord_ref_column": "custcol_concord_ref"}}
"""

from __future__ import annotations

from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from concord.errors import ConfigurationError

from ..kit.auth import CertificateKey
from ..kit.budget import BudgetPolicy, RateBudget, dynamodb_budget, in_memory_budget
from ..kit.urls import SystemUrl
from ..registry import ConnectorContext
from .client import NetSuiteClient, m2m_auth


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class M2mAuth(_Strict):
    """OAuth 2.0 client credentials (M2M): the integration record's client id and the certificate
    mapped to it (Setup > Integration > OAuth 2.0 Client Credentials (M2M) Setup)."""

    client_id: str = Field(min_length=1)
    certificate_id: str = Field(min_length=1)  # the JWT's kid
    private_key: SecretStr  # PEM of the certificate's private key (RSA for PS*, EC for ES*)
    algorithm: Literal["PS256", "PS384", "PS512", "ES256", "ES384", "ES512"] = "PS256"
    scope: str = "rest_webservices"


class Fields(_Strict):
    """The account's field ids that depend on its features and customisations (*config*)."""

    # The customer's tax registration number (REST field; SuiteQL uses it lower-cased).
    tax_id: str = "vatRegNumber"
    # A custom transaction column (Free-Form Text, applied to sale items) that keeps each billed
    # line's concord_ref; None: the account has none, so only Concord's registry knows what was billed.
    concord_ref_column: str | None = Field(default=None, pattern=r"^custcol[a-z0-9_]+$")


class RateSettings(_Strict):
    """Concord's share of the account's concurrency limit (shared with SOAP, RESTlets and every
    other integration the firm runs): NetSuite limits requests in flight, not per second."""

    max_in_flight: int = Field(default=4, ge=1)
    max_wait_seconds: float = Field(default=2.0, ge=0)

    def policy(self) -> BudgetPolicy:
        return BudgetPolicy(max_leases=self.max_in_flight, lease_seconds=15 * 60)  # NetSuite's request timeout


class NetSuiteConnection(_Strict):
    kind: Literal["netsuite"]
    account_id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_]+$")
    auth: M2mAuth
    # Default: https://<account id>.suitetalk.api.netsuite.com/services/rest (the local stack
    # names its sandbox here: http only to loopback).
    base_url: SystemUrl | None = None
    subsidiary_id: str = "1"
    fields: Fields = Fields()
    # Concord's payment term names -> the account's term names (names not listed are used as they are).
    payment_terms: dict[str, str] = Field(default_factory=lambda: {"Net 30 days": "Net 30"})
    time_zone: str = "UTC"  # the integration user's time zone: what SuiteQL's TO_CHAR prints stamps in
    rate: RateSettings = RateSettings()

    @property
    def rest_url(self) -> str:
        if self.base_url:
            return self.base_url.rstrip("/")
        host = self.account_id.lower().replace("_", "-")  # 1234567_SB1 -> 1234567-sb1
        return f"https://{host}.suitetalk.api.netsuite.com/services/rest"


def parse_connection(raw: dict[str, Any]) -> NetSuiteConnection:
    """The validated connection; a ConfigurationError naming the bad fields (never their values)."""
    try:
        return NetSuiteConnection.model_validate(raw)
    except ValidationError as error:
        fields = sorted({".".join(str(part) for part in issue["loc"]) for issue in error.errors()})
        raise ConfigurationError(f"netsuite connection invalid: {', '.join(fields)}") from None


def rate_budget(connection: NetSuiteConnection, context: ConnectorContext) -> RateBudget:
    """The account's concurrency leases, shared across Lambdas when Concord has a budget table."""
    key = f"budget#netsuite#{connection.account_id}"
    if context.rate_budget_table:
        return dynamodb_budget(context.rate_budget_table, key, connection.rate.policy())
    return in_memory_budget(connection.rate.policy(), key)


def open_client(
    connection: NetSuiteConnection, context: ConnectorContext, transport: httpx.BaseTransport | None = None
) -> NetSuiteClient:
    """A client of the account whose auth re-reads the secret (context.reload_connection) when the
    token endpoint refuses the certificate or the account answers 401 (a rotation)."""
    reads = 0

    def credentials() -> CertificateKey:
        nonlocal reads
        reads += 1
        auth = connection.auth if reads == 1 else parse_connection(context.reload_connection()).auth
        return CertificateKey(
            client_id=auth.client_id, certificate_id=auth.certificate_id, private_key=auth.private_key
        )

    return NetSuiteClient(
        rest_url=connection.rest_url,
        auth=m2m_auth(
            connection.rest_url, credentials, algorithm=connection.auth.algorithm, scope=connection.auth.scope
        ),
        budget=rate_budget(connection, context),
        account=connection.account_id,
        max_wait=connection.rate.max_wait_seconds,
        transport=transport,
    )
