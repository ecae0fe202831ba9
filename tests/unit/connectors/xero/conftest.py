"""Connector tests talk to an in-process sandbox on loopback: these tests may connect to
127.0.0.1 and nowhere else (pytest-socket), overriding the suite's no-network fixture."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .sandbox_systems import XeroSystems, xero_systems


@pytest.fixture
def systems() -> Iterator[XeroSystems]:
    with xero_systems() as running:
        yield running
