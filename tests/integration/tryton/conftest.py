"""A real Tryton 8.2 server with the crm, psa and erp databases, shared by the session
(tests/integration/tryton_session.py: where it lives, and failing at once when it cannot start)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from concord.connectors.tryton import TrytonRpcClient
from concord.local.tryton import ADMIN_LOGIN, TrytonServer, admin_password, stop_server

from ...conftest import free_port
from .. import tryton_session as session


@pytest.fixture
def unused_port() -> int:
    """A local port nothing listens on (right now)."""
    return free_port()


@pytest.fixture(scope="session")
def tryton_home() -> Path:
    return session.tryton_home()


@pytest.fixture(scope="session")
def tryton_server(tryton_home: Path) -> Iterator[TrytonServer]:
    yield session.start_seeded_server(tryton_home)
    stop_server(tryton_home)


@pytest.fixture
def tryton_client(
    tryton_server: TrytonServer,
    tryton_home: Path,
) -> Iterator[Callable[[str], TrytonRpcClient]]:
    """Factory: a logged-in-on-first-call client for one database, closed after the test.

    It acts as the systems' users (announce_changes: concord_sync pushes what it writes);
    `concord=True` gives a client as Concord's connectors use it (announces nothing)."""
    clients: list[TrytonRpcClient] = []

    def connect(database: str, *, concord: bool = False) -> TrytonRpcClient:
        client = TrytonRpcClient(
            tryton_server.url, database, ADMIN_LOGIN, admin_password(tryton_home), announce_changes=not concord
        )
        clients.append(client)
        return client

    yield connect
    for client in clients:
        client.close()
