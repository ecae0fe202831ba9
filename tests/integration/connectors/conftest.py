"""The Tryton connectors against a real Tryton 8.2 server (crm, psa, erp databases).

Mirrors tests/integration/tryton/conftest.py and uses the same home (CONCORD_TRYTON_HOME,
default .local-stack/tryton), so the install and the seeded snapshot are shared. The connectors
need Concord's Tryton module `concord_sync` (concord_ref, timesheet approval) and its seed
(product CONSULT-HR, countries, the CRM customer Northwind Advisory LLC): when the databases
do not have them yet, the session waits for them (ensure_databases rebuilds the snapshot when
the module or the seed changes), polling every minute for up to CONCORD_TRYTON_WAIT_SECONDS
(default 25 min), then fails. Never skips.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from concord.connectors.kit.cursors import TimeCursor
from concord.connectors.tryton import TrytonCrm, TrytonErp, TrytonPsa, TrytonRpcClient
from concord.connectors.tryton.lookups import has_field
from concord.domain import RecordChange
from concord.local.scenarios.tryton_books import InvoiceDesk
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
from concord.ports import ChangeSource

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[3]
WAIT_SECONDS = float(os.environ.get("CONCORD_TRYTON_WAIT_SECONDS", 25 * 60))
POLL_SECONDS = 60.0
PRODUCT_CODE = "CONSULT-HR"
DEMO_CUSTOMER = "Northwind Advisory LLC"

Connect = Callable[[str], TrytonRpcClient]

# What the connectors need from concord_sync and the seed: (database, model, field).
_FIELDS = [
    *((db, "party.party", "concord_ref") for db in ("crm", "psa", "erp")),
    ("crm", "sale.opportunity", "concord_ref"),
    ("psa", "project.work", "concord_ref"),
    ("psa", "timesheet.line", "approval_state"),
    ("psa", "timesheet.line", "approved_at"),
    ("erp", "account.invoice", "concord_ref"),
    ("erp", "account.invoice.line", "concord_ref"),
    ("erp", "concord.project.terms", "project_ref"),
]
EXPENSE_CODE = "EXP-REBILL"  # erp only: what rebilled expenses are invoiced as


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _missing_contract(server: TrytonServer, home: Path) -> list[str]:
    """What the running databases still lack of concord_sync's fields and seed."""
    missing = []
    clients = {db: TrytonRpcClient(server.url, db, ADMIN_LOGIN, admin_password(home))
               for db in ("crm", "psa", "erp")}
    try:
        for db, model, field in _FIELDS:
            if not has_field(clients[db], model, field):
                missing.append(f"{db}: {model}.{field}")
        for db, client in clients.items():
            if not client.search_read("product.product", [["code", "=", PRODUCT_CODE]], ["id"]):
                missing.append(f"{db}: product {PRODUCT_CODE}")
            if not client.search_read("country.country", [["code", "=", "US"]], ["id"]):
                missing.append(f"{db}: country US")
        if not clients["erp"].search_read("product.product", [["code", "=", EXPENSE_CODE]],
                                          ["id"]):
            missing.append(f"erp: product {EXPENSE_CODE}")
        if not clients["crm"].search_read("party.party", [["name", "=", DEMO_CUSTOMER]], ["id"]):
            missing.append(f"crm: party {DEMO_CUSTOMER}")
    finally:
        for client in clients.values():
            client.close()
    return missing


@pytest.fixture(scope="session")
def tryton_home() -> Path:
    return Path(os.environ.get("CONCORD_TRYTON_HOME") or REPO_ROOT / ".local-stack" / "tryton")


@pytest.fixture(scope="session")
def tryton_server(tryton_home: Path) -> Iterator[TrytonServer]:
    """A server on the seeded databases that have concord_sync (waiting for it if need be)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        if running_server(tryton_home):  # left by an interrupted run: it holds the files open
            stop_server(tryton_home)
        problem: str
        try:
            ensure_installed(tryton_home)
            ensure_databases(tryton_home)
            restore_snapshot(tryton_home)
            server = start_server(tryton_home, _free_port())
        except Exception as exc:  # e.g. concord_sync being edited: retry until the deadline
            problem = f"could not install, seed or start Tryton in {tryton_home}: {exc}"
        else:
            missing = _missing_contract(server, tryton_home)
            if not missing:
                break
            stop_server(tryton_home)
            problem = "the databases lack concord_sync's contract: " + "; ".join(missing)
        if time.monotonic() + POLL_SECONDS > deadline:
            pytest.fail(f"{problem} (waited {WAIT_SECONDS:.0f} s)")
        logger.warning("waiting %.0f s for concord_sync: %s", POLL_SECONDS, problem)
        print(f"[connectors] waiting {POLL_SECONDS:.0f} s for concord_sync: {problem}")
        time.sleep(POLL_SECONDS)
    yield server
    stop_server(tryton_home)


@pytest.fixture(scope="module")
def fresh_databases(tryton_server: TrytonServer, tryton_home: Path) -> TrytonServer:
    """Back to the seeded snapshot once per test module (the server restarts, same port)."""
    restore_snapshot(tryton_home)
    return tryton_server


@pytest.fixture
def tryton_client(fresh_databases: TrytonServer, tryton_home: Path) -> Iterator[Connect]:
    """Factory: a client for one database (logs in on first call), closed after the test."""
    clients: list[TrytonRpcClient] = []

    def connect(database: str) -> TrytonRpcClient:
        client = TrytonRpcClient(fresh_databases.url, database, ADMIN_LOGIN,
                                 admin_password(tryton_home))
        clients.append(client)
        return client

    yield connect
    for client in clients:
        client.close()


@pytest.fixture
def crm(tryton_client: Connect) -> TrytonCrm:
    return TrytonCrm(tryton_client("crm"), "us-01")


@pytest.fixture
def psa(tryton_client: Connect) -> TrytonPsa:
    return TrytonPsa(tryton_client("psa"))


@pytest.fixture
def erp(tryton_client: Connect) -> TrytonErp:
    return TrytonErp(tryton_client("erp"))


# -- change polling ---------------------------------------------------------------------------

EPOCH = TimeCursor.at(dt.datetime(2000, 1, 1, tzinfo=dt.UTC)).encode()


def drain(source: ChangeSource, record_type: str, cursor: str = EPOCH,
          limit: int = 1000) -> tuple[list[RecordChange], str]:
    """Every change after `cursor`, page by page, and the cursor after the last one."""
    changes: list[RecordChange] = []
    while True:
        page = source.changes_since(record_type, cursor, limit)
        changes += page.changes
        cursor = page.cursor
        if not page.more:
            return changes, cursor


@pytest.fixture
def books(erp: TrytonErp) -> InvoiceDesk:
    """Finance's own invoice work (create, post, list payments) on the connector's session."""
    return InvoiceDesk(erp.client)
