"""Connector tests talk to an in-process Dynamics 365 Finance sandbox on loopback (127.0.0.1 only)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .sandbox_systems import FinanceSystems, finance_systems


@pytest.fixture
def systems() -> Iterator[FinanceSystems]:
    with finance_systems() as running:
        yield running
