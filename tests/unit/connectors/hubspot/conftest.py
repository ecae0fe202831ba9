"""Connector tests talk to an in-process sandbox on loopback: these tests may connect to
127.0.0.1 and nowhere else (pytest-socket), overriding the suite's no-network fixture."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_socket import _remove_restrictions, socket_allow_hosts

from .sandbox_systems import HubSpotSystems, hubspot_systems


@pytest.fixture(autouse=True)
def _no_network() -> Iterator[None]:
    socket_allow_hosts(["127.0.0.1"], allow_unix_socket=True)
    yield
    _remove_restrictions()


@pytest.fixture
def systems() -> Iterator[HubSpotSystems]:
    with hubspot_systems() as running:
        yield running
