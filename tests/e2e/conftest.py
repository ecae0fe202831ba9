"""One local stack per test session, on free ports, driven over HTTP like a user would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from concord.local.inspect import LocalView
from concord.local.stack import LocalStack

from ..conftest import free_port, sharing_synth_cache

# Short enough that a crashed runtime's messages come back quickly in tests.
VISIBILITY_TIMEOUT_CAP = 3


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory, local_synth_cache: Path) -> Iterator[LocalStack]:
    stack = LocalStack(
        state_dir=sharing_synth_cache(tmp_path_factory.mktemp("local-stack"), local_synth_cache),
        aws_port=free_port(),
        webhook_port=free_port(),
        lambda_port=free_port(),
        tryton_port=free_port(),
        faults_port=free_port(),
        visibility_timeout_cap=VISIBILITY_TIMEOUT_CAP,
    )
    stack.up()
    # The tests run change capture and reconciliation themselves when they need them: a
    # scheduled run in the background would race what they assert (what reached the bus, what
    # only a poll or reconcile may find). Disabled as an operator would on AWS.
    view = LocalView(stack)
    for schedule in view.topology.schedules:
        view.events.disable_rule(Name=schedule.name)
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
def quiet_bus(view: LocalView) -> LocalView:
    """The bus tap emptied, so a test sees only what it caused."""
    view.wait_for(lambda: not view.drain_tap(), timeout=5, interval=0.2)
    return view
