"""Kantata OX's connection (the PSA role's secret) and the client built from it."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from concord.errors import ConfigurationError

from ..kit.auth import StaticToken
from ..kit.budget import BudgetPolicy, RateBudget, dynamodb_budget, in_memory_budget
from ..kit.urls import SystemUrl
from ..registry import ConnectorContext
from .client import API_BASE, KantataClient


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RateSettings(_Strict):
    """Concord's share of the account's requests. Kantata publishes no numbers and sends no
    rate headers, only 429: these are the ceilings the adaptive budget halves on each 429
    and grows back towards on each success."""

    per_second: float = Field(default=5.0, gt=0)
    burst: float = Field(default=10.0, ge=1)
    max_in_flight: int = Field(default=5, ge=1)
    max_wait_seconds: float = Field(default=2.0, ge=0)

    def policy(self) -> BudgetPolicy:
        return BudgetPolicy(rate_per_second=self.per_second, burst=self.burst, max_leases=self.max_in_flight)


class StatusKeys(_Strict):
    """Workspace `status_key` values (an account's project statuses) for each project state.
    The defaults are unverified against a live account: set them from the account's statuses."""

    active: int = 305  # "In Progress"
    on_hold: int = 310  # "On Hold"
    closed: int = 400  # "Completed"


class KantataConnection(_Strict):
    """The PSA role's secret: {"kind": "kantata", "token", "billing_status_field_id", ...}.

    The token is a Kantata OX OAuth access token of the integration user; it never expires,
    so it is held like a password and never logged."""

    kind: Literal["kantata"]
    token: SecretStr
    base_url: SystemUrl = API_BASE  # https; http only to loopback (the local stack); no user:password@
    # The id of the Project (Workspace) custom field holding Concord's billing status (a Text field).
    billing_status_field_id: int = Field(gt=0)
    # service_name of Concord's external references on Kantata records.
    service_name: str = Field(default="concord", min_length=1)
    status_keys: StatusKeys = StatusKeys()
    rate: RateSettings = RateSettings()

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc


def parse_connection(raw: dict[str, Any]) -> KantataConnection:
    """The validated connection; a ConfigurationError naming the bad fields (never their values)."""
    try:
        return KantataConnection.model_validate(raw)
    except ValidationError as error:
        fields = sorted({".".join(str(part) for part in issue["loc"]) for issue in error.errors()})
        raise ConfigurationError(f"kantata connection invalid: {', '.join(fields)}") from None


def rate_budget(connection: KantataConnection, context: ConnectorContext) -> RateBudget:
    """The account's budget, shared across Lambdas when Concord has a budget table (keyed by
    the API host: one Kantata account per stage)."""
    key = f"budget#kantata#{connection.host}"
    if context.rate_budget_table:
        return dynamodb_budget(context.rate_budget_table, key, connection.rate.policy())
    return in_memory_budget(connection.rate.policy(), key)


def open_client(
    connection: KantataConnection, context: ConnectorContext, transport: httpx.BaseTransport | None = None
) -> KantataClient:
    return KantataClient(
        base_url=connection.base_url,
        auth=StaticToken(connection.token),
        budget=rate_budget(connection, context),
        account=connection.host,
        max_wait=connection.rate.max_wait_seconds,
        transport=transport,
    )
