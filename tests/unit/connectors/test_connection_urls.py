"""Connection URLs (issue #18, item 12): https, plain http only to loopback (the local stack),
no credentials in the URL, and no URL with credentials in an error message."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from concord.connectors import certinia, hubspot, kantata, salesforce, tryton
from concord.connectors.kit.urls import redacted, secure_url
from concord.connectors.registry import ConnectorContext, Role
from concord.connectors.tryton import TrytonRpcClient, TrytonTransientError
from concord.errors import ConfigurationError
from concord.local.systems import LocalSystems
from concord.local.vendors import VendorSandboxes

PASSWORD = "hunter2-not-for-logs"
TRYTON = {"kind": "tryton", "database": "erp", "login": "concord", "password": "s3cret"}
ORG = {"auth": {"type": "client_credentials", "client_id": "k", "client_secret": "s"}}
CONNECTORS = {
    "tryton": (tryton.connect, Role.ERP, "url", TRYTON),
    "salesforce": (salesforce.connect, Role.CRM, "instance_url", {"kind": "salesforce", **ORG}),
    "certinia": (certinia.connect, Role.PSA, "instance_url", {"kind": "certinia", **ORG}),
    "hubspot": (
        hubspot.connect,
        Role.CRM,
        "base_url",
        {"kind": "hubspot", "auth": {"type": "static_token", "token": "t"}},
    ),
    "kantata": (kantata.connect, Role.PSA, "base_url", {"kind": "kantata", "token": "t", "billing_status_field_id": 1}),
}
REFUSED = {
    "plain http to a remote host": "http://erp.example.com",
    "plain http to a private address": "http://10.0.0.7:8000",
    "credentials in the URL": f"https://concord:{PASSWORD}@erp.example.com",
    "a user in the URL": "https://concord@erp.example.com",
    "credentials in a loopback URL": f"http://concord:{PASSWORD}@127.0.0.1:8000",
    "another scheme": "ftp://erp.example.com",
    "no host": "https:///rpc",
}
ACCEPTED = [
    "https://erp.example.com",
    "https://acme.my.salesforce.com:443/",
    "http://127.0.0.1:8000",
    "http://localhost:9102/crm",
    "http://[::1]:8000",
]


def _context(connection: dict[str, Any]) -> ConnectorContext:
    return ConnectorContext(default_legal_entity="us-01", reload_connection=lambda: connection)


def _connect(kind: str, url: str) -> Any:
    connect, role, field, secret = CONNECTORS[kind]
    connection = {**secret, field: url}
    return connect(role, connection, _context(connection))


@pytest.mark.parametrize("kind", CONNECTORS)
@pytest.mark.parametrize("url", REFUSED.values(), ids=REFUSED.keys())
def test_each_connector_refuses_an_insecure_url_naming_the_field_not_the_url(kind: str, url: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        _connect(kind, url)
    message = str(refused.value)
    assert CONNECTORS[kind][2] in message
    assert PASSWORD not in message and url not in message


@pytest.mark.parametrize("kind", CONNECTORS)
@pytest.mark.parametrize("url", ACCEPTED)
def test_each_connector_accepts_https_and_plain_http_to_loopback(kind: str, url: str) -> None:
    assert _connect(kind, url) is not None


@pytest.mark.parametrize("url", REFUSED.values(), ids=REFUSED.keys())
def test_the_validation_error_never_repeats_the_url(url: str) -> None:
    with pytest.raises(ValueError) as refused:
        secure_url(url)
    assert PASSWORD not in str(refused.value) and "example.com" not in str(refused.value)


def test_redacted_drops_credentials_query_and_fragment_but_keeps_where() -> None:
    url = f"https://concord:{PASSWORD}@erp.example.com:8443/erp/rpc/?token=abc#frag"
    assert redacted(url) == "https://erp.example.com:8443/erp/rpc/"
    assert redacted(httpx.URL(f"http://u:{PASSWORD}@[::1]:8000/")) == "http://[::1]:8000/"


def test_an_unreachable_tryton_is_reported_without_the_urls_credentials() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    # A client built directly (not from a validated connection), with credentials in its URL.
    client = TrytonRpcClient(
        f"http://concord:{PASSWORD}@127.0.0.1:8000", "erp", "concord", "pw", transport=httpx.MockTransport(refuse)
    )
    with pytest.raises(TrytonTransientError) as failed:
        client.login()
    assert PASSWORD not in str(failed.value)
    assert "http://127.0.0.1:8000" in str(failed.value)


def test_the_local_stacks_plain_http_connections_are_accepted(tmp_path: Path) -> None:
    systems = LocalSystems(
        instance=tmp_path / "instance", host="127.0.0.1", tryton_port=8000, faults_port=8001, cache=tmp_path / "cache"
    )
    for role, value in systems.connections().items():
        connection = json.loads(value)
        assert connection["url"].startswith("http://127.0.0.1:")
        assert tryton.connect(Role(role), connection, _context(connection)) is not None
    vendors = VendorSandboxes(tmp_path, "127.0.0.1", 9101, 9102, {"crm": "salesforce", "psa": "certinia"})
    for role, value in vendors.connections().items():
        connection = json.loads(value)
        connect = salesforce.connect if role == "crm" else certinia.connect
        assert connect(Role(role), connection, _context(connection)) is not None
