"""Fixtures shared by every test layer."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# CDK's jsii runs on this machine's Node 20; keep its end-of-life banner out of test output.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
# The CLI's rich consoles take their width from COLUMNS when they are built (at import): the
# operator tests read table cells and messages unwrapped, whichever test imports the CLI first.
os.environ.setdefault("COLUMNS", "200")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def local_synth_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One synth cache for every local stack of the session.

    `synthesize` caches the local stage's template by the hash of its inputs, but in the
    directory it is given: a stack (or a test) with a cache of its own would run `cdk synth`
    again for the same template. Parallel workers (pytest-xdist) share it too: it lives in the
    run's base directory, not a worker's (synthesize moves a finished template in atomically).
    """
    base = tmp_path_factory.getbasetemp()
    cache = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "local-synth-cache"
    cache.mkdir(exist_ok=True)
    return cache


def sharing_synth_cache(state_dir: Path, cache: Path) -> Path:
    """`state_dir` with its synth cache (state_dir/cache, where a stack synthesizes) the session's."""
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / "cache").symlink_to(cache, target_is_directory=True)
    return state_dir


# Tests that share a machine-wide resource run on one worker when the suite runs in parallel
# (make test: pytest-xdist with --dist loadgroup); everything else is spread test by test.
# Integration tests share the Tryton cache home's server and databases; e2e tests the session's
# local stack and one synth of its template; infra tests one synth of each stage.
# The SaaS e2e stacks are one group per stack (a module-scoped fixture per combination), so
# different stacks may run on different workers.
_WORKER_GROUPS = {"integration": "tryton-home", "e2e": "local-stack", "infra": "cdk-synth"}
_STACK_PER_PARAMETER = {"tests/e2e/test_saas_systems.py"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = item.path.relative_to(REPO_ROOT)
        group = _WORKER_GROUPS.get(path.parts[1])
        if path.as_posix() in _STACK_PER_PARAMETER:
            group = f"stack-{item.callspec.id}" if isinstance(item, pytest.Function) else group
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
