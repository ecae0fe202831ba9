"""Connector tests talk to an in-process sandbox on loopback: these tests may connect to
127.0.0.1 and nowhere else (pytest-socket), overriding the suite's no-network fixture."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .sandbox_systems import SalesforceSystems, salesforce_systems


@pytest.fixture
def systems() -> Iterator[SalesforceSystems]:
    with salesforce_systems("separate") as running:
        yield running


@pytest.fixture
def same_org() -> Iterator[SalesforceSystems]:
    with salesforce_systems("same") as running:
        yield running
