"""A Dynamics 365 Finance environment's connection (the ERP role's secret) and the client built from it.

{"kind": "dynamics_finance", "environment_url": "https://contoso.operations.dynamics.com",
 "tenant_id": "<Entra tenant id>", "auth": {"client_id": "...", "client_secret": "..."},
 "companies": {"us-01": "usmf"}, "default_company": "usmf",
 "customer_group": "30", "service_items": {"CONSULT-HR": {"main_account": "401100", "unit_price": 150}}}
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from concord.errors import ConfigurationError

from ..kit.auth import ClientSecret
from ..kit.budget import BudgetPolicy, RateBudget, dynamodb_budget, in_memory_budget
from ..kit.urls import SystemUrl
from ..registry import ConnectorContext
from .client import FinanceClient, entra_client_credentials

COMPANY_ID = r"^[A-Za-z0-9]{1,4}$"  # dataAreaId: up to four characters


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EntraApp(_Strict):
    """The Entra ID app registration Concord authenticates as (client credentials)."""

    client_id: str = Field(min_length=1)
    client_secret: SecretStr


class ServiceItem(_Strict):
    """How a Concord service item is billed on a free text invoice line: the revenue main account
    it posts to and the price used when Concord sends none (free text lines have no item price)."""

    main_account: str = Field(min_length=1)
    unit_price: Decimal = Field(ge=0)


class Fields(_Strict):
    """Field names that depend on the environment's configuration or extensions (*verify per environment*)."""

    # The header field that holds Concord's project reference (the draft's project).
    project_ref: str = "CustomerReference"
    # An extension field on FreeTextInvoiceLines holding each line's concord_ref; None: the
    # environment has none, so only Concord's registry knows what was billed.
    concord_ref: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z0-9_]*$")


class RateSettings(_Strict):
    """Concord's share of the environment's service protection limits (per user/app, per web
    server, over five minutes; priority-based throttling on top): kept by the shared budget."""

    per_second: float = Field(default=10.0, gt=0)
    burst: float = Field(default=20.0, ge=1)
    max_wait_seconds: float = Field(default=2.0, ge=0)

    def policy(self) -> BudgetPolicy:
        return BudgetPolicy(rate_per_second=self.per_second, burst=self.burst)


class FinanceConnection(_Strict):
    kind: Literal["dynamics_finance"]
    environment_url: SystemUrl  # https://<env>.operations.dynamics.com (the token's resource)
    tenant_id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9.-]+$")
    auth: EntraApp
    # Default https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token; the local stack names its sandbox.
    token_url: SystemUrl | None = None
    # Concord's legal entities -> companies (dataAreaId); records of others go to default_company.
    companies: dict[str, str] = Field(default_factory=dict)
    default_company: str = Field(pattern=COMPANY_ID)
    customer_group: str = Field(min_length=1)  # CustomerGroupId of customers Concord creates
    # Prefix of the deterministic customer accounts Concord gives the customers it creates.
    customer_prefix: str = Field(default="CC-", pattern=r"^[A-Za-z0-9-]{0,6}$")
    service_items: dict[str, ServiceItem] = Field(default_factory=dict)
    # Concord's payment term names -> the environment's terms of payment (others used as they are).
    payment_terms: dict[str, str] = Field(default_factory=lambda: {"Net 30 days": "Net30"})
    # ISO 3166 alpha-2 -> the environment's address country/region ids (ISO alpha-3 by default).
    country_regions: dict[str, str] = Field(
        default_factory=lambda: {
            "US": "USA",
            "CA": "CAN",
            "GB": "GBR",
            "DE": "DEU",
            "FR": "FRA",
            "NL": "NLD",
            "IE": "IRL",
            "AU": "AUS",
        }
    )
    payment_journal_name: str = "CustPay"  # what finance names its payment journals (scenario user)
    fields: Fields = Fields()
    rate: RateSettings = RateSettings()

    @property
    def data_url(self) -> str:
        return f"{self.environment_url.rstrip('/')}/data"

    @property
    def token_endpoint(self) -> str:
        return self.token_url or f"https://login.microsoftonline.com/{self.tenant_id}/oauth2/v2.0/token"

    @property
    def account(self) -> str:
        """The environment's host: names its rate budget and log lines."""
        return re.sub(r"^https?://", "", self.environment_url).split("/")[0]

    def company_of(self, legal_entity: str | None) -> str:
        return self.companies.get(legal_entity or "", self.default_company).lower()


def parse_connection(raw: dict[str, Any]) -> FinanceConnection:
    """The validated connection; a ConfigurationError naming the bad fields (never their values)."""
    try:
        return FinanceConnection.model_validate(raw)
    except ValidationError as error:
        fields = sorted({".".join(str(part) for part in issue["loc"]) for issue in error.errors()})
        raise ConfigurationError(f"dynamics_finance connection invalid: {', '.join(fields)}") from None


def rate_budget(connection: FinanceConnection, context: ConnectorContext) -> RateBudget:
    key = f"budget#dynamics_finance#{connection.account}"
    if context.rate_budget_table:
        return dynamodb_budget(context.rate_budget_table, key, connection.rate.policy())
    return in_memory_budget(connection.rate.policy(), key)


def open_client(
    connection: FinanceConnection, context: ConnectorContext, transport: httpx.BaseTransport | None = None
) -> FinanceClient:
    """A client whose auth re-reads the secret when Entra refuses the client secret or the
    environment answers 401 (a rotation)."""
    reads = 0

    def credentials() -> ClientSecret:
        nonlocal reads
        reads += 1
        auth = connection.auth if reads == 1 else parse_connection(context.reload_connection()).auth
        return ClientSecret(client_id=auth.client_id, client_secret=auth.client_secret)

    return FinanceClient(
        data_url=connection.data_url,
        auth=entra_client_credentials(connection.token_endpoint, connection.environment_url, credentials),
        budget=rate_budget(connection, context),
        account=connection.account,
        max_wait=connection.rate.max_wait_seconds,
        transport=transport,
    )
