"""The session's Tryton server for the integration tests (tryton/ and connectors/ share it).

The Tryton venv and the seeded snapshot live in CONCORD_TRYTON_HOME (default .local-stack/tryton
in the repository, git-ignored) and are reused across runs: the first run installs and seeds
(~1 min), later runs restore the snapshot and start the server (~3 s). When Tryton cannot come
up (install or seed failed, the server exited during start-up) the session fails at once with
the reason; it never skips and never waits for a fix.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from concord.local.tryton import (
    TrytonLocalError,
    TrytonServer,
    ensure_databases,
    ensure_installed,
    restore_snapshot,
    running_server,
    start_server,
    stop_server,
)

from ..conftest import REPO_ROOT, free_port


def tryton_home() -> Path:
    return Path(os.environ.get("CONCORD_TRYTON_HOME") or REPO_ROOT / ".local-stack" / "tryton")


def start_seeded_server(home: Path) -> TrytonServer:
    """A server on freshly restored seeded databases, on a free port; pytest.fail if it cannot be."""
    if running_server(home):  # left by an interrupted run: it holds the database files open
        stop_server(home)
    try:
        ensure_installed(home)
        ensure_databases(home)
        restore_snapshot(home)  # start from the seeded state, whatever earlier runs left
        return start_server(home, free_port())
    except TrytonLocalError as exc:
        pytest.fail(f"Tryton 8.2 could not come up in {home}: {exc}", pytrace=False)
