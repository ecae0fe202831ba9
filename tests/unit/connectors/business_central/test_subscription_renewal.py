"""The scheduled renewal: the ERP connection's subscription settings validated (the clientState
never shown), and the handler creating what is missing and renewing what is due against the
sandbox, reading the ERP's secret from Secrets Manager (moto)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from concord.connectors.business_central.connection import parse_connection
from concord.errors import ConfigurationError
from concord.local.sandboxes.business_central import BusinessCentralSandbox
from concord.local.sandboxes.kit import SandboxServer

from .sandbox_systems import TENANT, connection

URL = "https://hooks.example.com/webhooks/businesscentral"
CLIENT_STATE = "bc-client-state-0123456789"
PREFIX = "concord/unit/systems"


def settings(**changes: Any) -> dict[str, Any]:
    return {"notification_url": URL, "client_state": CLIENT_STATE, **changes}


# --------------------------------------------------------------------------- the connection's settings


def test_subscription_settings_are_read_with_the_client_state_kept_secret() -> None:
    parsed = parse_connection(connection("http://127.0.0.1:1", subscriptions=settings())).subscriptions

    assert parsed is not None
    assert (parsed.notification_url, parsed.record_types) == (URL, ("invoice", "payment"))
    assert parsed.client_state.get_secret_value() == CLIENT_STATE
    assert CLIENT_STATE not in repr(parsed) and CLIENT_STATE not in str(parsed)


def test_a_connection_without_subscription_settings_has_none() -> None:
    assert parse_connection(connection("http://127.0.0.1:1")).subscriptions is None


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (settings(client_state="short secret"), "subscriptions.client_state"),
        (settings(notification_url="http://hooks.example.com/webhooks/bc"), "subscriptions.notification_url"),
        (settings(record_types=["customer"]), "subscriptions.record_types"),
        (settings(record_types=[]), "subscriptions.record_types"),
        ({"notification_url": URL}, "subscriptions.client_state"),
    ],
)
def test_bad_subscription_settings_are_named_never_shown(bad: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        parse_connection(connection("http://127.0.0.1:1", subscriptions=bad))

    assert field in str(raised.value)
    assert "short secret" not in str(raised.value)


# --------------------------------------------------------------------------- the handler, against the sandbox


class Ingress:
    """The ingress as the sandbox's handshake reaches it: echoes every validationToken."""

    def __init__(self) -> None:
        self.handshakes = 0

    def __call__(self, url: str, token: str) -> bool:
        self.handshakes += 1
        return url == URL


@pytest.fixture
def ingress() -> Ingress:
    return Ingress()


@pytest.fixture
def sandbox(ingress: Ingress) -> BusinessCentralSandbox:
    return BusinessCentralSandbox(handshake=ingress)


@pytest.fixture
def server(sandbox: BusinessCentralSandbox) -> Iterator[SandboxServer]:
    with SandboxServer(sandbox, [TENANT]) as running:
        yield running


@pytest.fixture
def renewal(load_handler: Callable[[str], ModuleType], monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    monkeypatch.setenv("SYSTEMS_SECRET_PREFIX", PREFIX)
    monkeypatch.setenv("SECRET_CACHE_SECONDS", "0")
    with mock_aws():
        yield load_handler("subscription_renewal")


def _erp_secret(value: dict[str, Any]) -> None:
    boto3.client("secretsmanager").create_secret(Name=f"{PREFIX}/erp", SecretString=json.dumps(value))


def _stored(server: SandboxServer) -> list[dict[str, Any]]:
    return server.tenant(TENANT).store.rows("subscriptions")


def test_a_run_creates_the_configured_subscriptions_with_the_sources_client_state(
    renewal: ModuleType,
    server: SandboxServer,
    ingress: Ingress,
    lambda_context: Any,
) -> None:
    _erp_secret(connection(server.url, subscriptions=settings()))

    answer = renewal.handler({}, lambda_context)
    again = renewal.handler({}, lambda_context)

    stored = _stored(server)
    assert sorted(row["resource"].rsplit("/", 1)[1] for row in stored) == ["customerPayments", "salesInvoices"]
    assert {row["clientState"] for row in stored} == {CLIENT_STATE}
    assert {row["notificationUrl"] for row in stored} == {URL}
    assert ingress.handshakes == 2  # the second run found both: nothing created, nothing due
    assert (answer["renewed"], again["renewed"]) == (0, 0)
    assert len(again["subscriptions"]) == 2


def test_a_run_renews_only_what_expires_within_a_day(
    renewal: ModuleType,
    server: SandboxServer,
    sandbox: BusinessCentralSandbox,
    lambda_context: Any,
) -> None:
    _erp_secret(connection(server.url, subscriptions=settings(record_types=["invoice", "payment"])))
    real_now = sandbox.subscriptions.now
    sandbox.subscriptions.now = lambda: real_now() - dt.timedelta(days=2, hours=6)  # made 2¼ days ago
    renewal.handler({}, lambda_context)
    sandbox.subscriptions.now = real_now
    before = {row["subscriptionId"]: row["expirationDateTime"] for row in _stored(server)}
    (invoice,) = [row["subscriptionId"] for row in _stored(server) if row["resource"].endswith("salesInvoices")]
    server.tenant(TENANT).store.delete(
        "subscriptions",
        next(  # the payment subscription lapsed and was removed
            row["id"] for row in _stored(server) if row["resource"].endswith("customerPayments")
        ),
    )

    answer = renewal.handler({}, lambda_context)

    after = {row["resource"].rsplit("/", 1)[1]: row for row in _stored(server)}
    assert answer["renewed"] == 1
    assert after["salesInvoices"]["subscriptionId"] == invoice
    assert after["salesInvoices"]["expirationDateTime"] > before[invoice]
    assert after["customerPayments"]["subscriptionId"] not in before  # created again


def test_an_erp_that_is_not_business_central_or_has_no_settings_fails_the_run(
    renewal: ModuleType,
    server: SandboxServer,
    lambda_context: Any,
) -> None:
    _erp_secret(connection(server.url))

    with pytest.raises(ConfigurationError, match="no `subscriptions` settings"):
        renewal.handler({}, lambda_context)
    boto3.client("secretsmanager").put_secret_value(
        SecretId=f"{PREFIX}/erp", SecretString=json.dumps({"kind": "tryton"})
    )
    with pytest.raises(ConfigurationError, match="a tryton system has no webhook subscriptions to keep"):
        renewal.handler({}, lambda_context)
    assert _stored(server) == []
