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
# (make test: pytest-xdist); everything else is spread test by test. Integration tests share the
# Tryton cache home's server and databases, e2e tests the session's local stack, infra tests one
# synth of each stage; each SaaS e2e stack (a module-scoped fixture per combination) is a group
# of its own, so different stacks may run on different workers.
_WORKER_GROUPS = {"integration": "tryton-home", "e2e": "local-stack", "infra": "cdk-synth"}
_STACK_PER_PARAMETER = {"tests/e2e/test_saas_systems.py"}
# The e2e modules on the session's stack, in two halves of about equal length: a worker running
# a half starts a session stack of its own, so the halves may run side by side.
_OPERATOR_HALF = {
    "test_operator_cli.py",
    "test_operator_session.py",
    "test_vendor_webhooks.py",
    "test_bad_input.py",
    "test_cli.py",
    "test_replay_cli.py",
    "test_ingress_contract.py",
}


def worker_group(nodeid: str) -> str | None:
    """The group whose tests must share a worker, or None for a test that may run anywhere."""
    path, _, test = nodeid.partition("::")
    if path in _STACK_PER_PARAMETER and test.endswith("]"):
        return "stack-" + test[test.index("[") + 1 : -1]
    parts = path.split("/")
    group = _WORKER_GROUPS.get(parts[1]) if len(parts) > 2 and parts[0] == "tests" else None
    if group == "local-stack":
        return f"{group}-{'operators' if parts[-1] in _OPERATOR_HALF else 'flows'}"
    return group


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    # xdist's own `--dist loadgroup` reads xdist_group marks into node ids, which pytest 9 no
    # longer lets a plugin rewrite; its scope scheduler, given our groups as scopes, does the same.
    from xdist.scheduler import LoadScopeScheduling

    class SharedResourceScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return worker_group(nodeid) or nodeid

    return SharedResourceScheduling(config, log)
