"""One local stack per test session, on free ports, driven over HTTP like a user would."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from concord.local.inspect import LocalView
from concord.local.stack import LocalStack

from ..conftest import free_port

# Short enough that a crashed runtime's messages come back quickly in tests.
VISIBILITY_TIMEOUT_CAP = 3


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    stack = LocalStack(
        state_dir=tmp_path_factory.mktemp("local-stack"),
        aws_port=free_port(),
        webhook_port=free_port(),
        lambda_port=free_port(),
        tryton_port=free_port(),
        faults_port=free_port(),
        visibility_timeout_cap=VISIBILITY_TIMEOUT_CAP,
    )
    stack.up()
    yield stack
    stack.down()


@pytest.fixture(scope="session")
def view(local_stack: LocalStack) -> LocalView:
    return LocalView(local_stack)


@pytest.fixture()
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


@pytest.fixture()
def quiet_bus(view: LocalView) -> Iterator[LocalView]:
    """The bus with nothing else on it, so a test sees only what it caused: the scheduled rules
    (change capture re-announces its overlap every minute, reconciliation) disabled meanwhile,
    and the tap emptied until it stays empty for a moment."""
    names = [schedule.name for schedule in view.topology.schedules]
    for name in names:
        view.events.disable_rule(Name=name)
    try:
        quiet_since = time.monotonic()
        deadline = quiet_since + 30
        while time.monotonic() - quiet_since < 2 and time.monotonic() < deadline:
            if view.drain_tap():
                quiet_since = time.monotonic()
            time.sleep(0.2)
        yield view
    finally:
        for name in names:
            view.events.enable_rule(Name=name)
