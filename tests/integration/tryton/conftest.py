"""A real Tryton 8.2 server with the crm, psa and erp databases, shared by the session.

The Tryton venv and the seeded snapshot live in CONCORD_TRYTON_HOME (default:
.local-stack/tryton in the repository, git-ignored) and are reused across runs: the first run
installs and seeds (~1 min), later runs restore the snapshot and start the server (~3 s).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from concord.connectors.tryton import TrytonRpcClient
from concord.local.tryton import (
    ADMIN_LOGIN,
    TrytonServer,
    admin_password,
    ensure_databases,
    ensure_installed,
    restore_snapshot,
    running_server,
    start_server,
    stop_server,
)

REPO_ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def unused_port() -> int:
    """A local port nothing listens on (right now)."""
    return _free_port()


@pytest.fixture(scope="session")
def tryton_home() -> Path:
    return Path(os.environ.get("CONCORD_TRYTON_HOME") or REPO_ROOT / ".local-stack" / "tryton")


@pytest.fixture(scope="session")
def tryton_server(tryton_home: Path) -> Iterator[TrytonServer]:
    # A server left behind by an interrupted run would hold the databases open.
    if running_server(tryton_home):
        stop_server(tryton_home)
    try:
        ensure_installed(tryton_home)
        ensure_databases(tryton_home)
    except Exception as exc:  # fail loudly, never skip: these tests need real Tryton
        pytest.fail(f"could not install or seed Tryton 8.2 in {tryton_home}: {exc}")
    restore_snapshot(tryton_home)  # start from the seeded state, whatever earlier runs left
    server = start_server(tryton_home, _free_port())
    yield server
    stop_server(tryton_home)


@pytest.fixture
def tryton_client(
    tryton_server: TrytonServer, tryton_home: Path,
) -> Iterator[Callable[[str], TrytonRpcClient]]:
    """Factory: a logged-in-on-first-call client for one database, closed after the test.

    It acts as the systems' users (announce_changes: concord_sync pushes what it writes);
    `concord=True` gives a client as Concord's connectors use it (announces nothing)."""
    clients: list[TrytonRpcClient] = []

    def connect(database: str, *, concord: bool = False) -> TrytonRpcClient:
        client = TrytonRpcClient(
            tryton_server.url, database, ADMIN_LOGIN, admin_password(tryton_home),
            announce_changes=not concord)
        clients.append(client)
        return client

    yield connect
    for client in clients:
        client.close()
