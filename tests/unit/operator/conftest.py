"""Fixtures of the operator tests (moto in-process)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from .helpers import Stage


@pytest.fixture
def stage() -> Iterator[Stage]:
    with mock_aws():
        yield Stage()
