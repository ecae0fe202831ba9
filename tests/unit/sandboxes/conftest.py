"""Sandboxes serve on loopback in-process: these tests may connect to 127.0.0.1 and nowhere
else (pytest-socket), overriding the suite's no-network fixture of the same name."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from concord.local.sandboxes.kit import SandboxController, SandboxServer
from concord.local.sandboxes.salesforce import DEFAULT_CLIENT, SalesforceSandbox

from ..loopback import loopback_only  # noqa: F401 - the fixture

FIXTURES = Path(__file__).parent / "fixtures"
API = "/services/data/v67.0"


def doc_example(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def same_shape(example: Any, actual: Any) -> bool:
    """Same keys and JSON types all the way down (values such as ids may differ); a list is
    compared item by item against the example's first item."""
    if isinstance(example, dict):
        return (
            isinstance(actual, dict)
            and set(example) == set(actual)
            and all(same_shape(example[k], actual[k]) for k in example)
        )
    if isinstance(example, list):
        return isinstance(actual, list) and (not example or all(same_shape(example[0], a) for a in actual))
    if example is None:
        return actual is None
    return type(example) is type(actual) or {type(example), type(actual)} <= {int, float}


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(SalesforceSandbox(), ["crm", "psa"]) as running:
        yield running


@pytest.fixture
def control(server: SandboxServer) -> Iterator[SandboxController]:
    client = SandboxController(server.url)
    yield client
    client.close()


def login(server: SandboxServer, tenant: str) -> httpx.Client:
    answer = httpx.post(
        f"{server.url}/{tenant}/services/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": DEFAULT_CLIENT.client_id,
            "client_secret": DEFAULT_CLIENT.client_secret.get_secret_value(),
        },
    )  # type: ignore[union-attr]
    answer.raise_for_status()
    token = answer.json()
    return httpx.Client(
        base_url=token["instance_url"] + API, headers={"Authorization": f"Bearer {token['access_token']}"}
    )


@pytest.fixture
def crm(server: SandboxServer) -> Iterator[httpx.Client]:
    with login(server, "crm") as client:
        yield client


@pytest.fixture
def psa(server: SandboxServer) -> Iterator[httpx.Client]:
    with login(server, "psa") as client:
        yield client
