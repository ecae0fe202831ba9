"""Connector tests talk to an in-process NetSuite sandbox on loopback (127.0.0.1 only)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .sandbox_systems import NetSuiteSystems, netsuite_systems


@pytest.fixture
def systems() -> Iterator[NetSuiteSystems]:
    with netsuite_systems() as running:
        yield running


class FixedClock:
    now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()
