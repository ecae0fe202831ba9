"""The Tryton connectors against a real Tryton 8.2 server (crm, psa, erp databases).

Mirrors tests/integration/tryton/conftest.py and uses the same home (CONCORD_TRYTON_HOME,
default .local-stack/tryton), so the install and the seeded snapshot are shared. The connectors
need Concord's Tryton module `concord_sync` (concord_ref, timesheet approval) and its seed
(product CONSULT-HR, countries, the CRM customer Northwind Advisory LLC): when the databases
lack them after ensure_databases (which rebuilds the snapshot whenever the module or the seed
changes), or Tryton cannot come up at all, the session fails at once naming what is wrong.
Never skips, never waits for a fix.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from concord.connectors.kit.cursors import TimeCursor
from concord.connectors.tryton import TrytonCrm, TrytonErp, TrytonPsa, TrytonRpcClient
from concord.connectors.tryton.lookups import has_field
from concord.domain import RecordChange
from concord.local.scenarios.tryton_books import InvoiceDesk
from concord.local.tryton import ADMIN_LOGIN, TrytonServer, admin_password, restore_snapshot, stop_server
from concord.ports import ChangeSource

from .. import tryton_session as session

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


def _missing_contract(server: TrytonServer, home: Path) -> list[str]:
    """What the running databases still lack of concord_sync's fields and seed."""
    missing = []
    clients = {db: TrytonRpcClient(server.url, db, ADMIN_LOGIN, admin_password(home)) for db in ("crm", "psa", "erp")}
    try:
        for db, model, field in _FIELDS:
            if not has_field(clients[db], model, field):
                missing.append(f"{db}: {model}.{field}")
        for db, client in clients.items():
            if not client.search_read("product.product", [["code", "=", PRODUCT_CODE]], ["id"]):
                missing.append(f"{db}: product {PRODUCT_CODE}")
            if not client.search_read("country.country", [["code", "=", "US"]], ["id"]):
                missing.append(f"{db}: country US")
        if not clients["erp"].search_read("product.product", [["code", "=", EXPENSE_CODE]], ["id"]):
            missing.append(f"erp: product {EXPENSE_CODE}")
        if not clients["crm"].search_read("party.party", [["name", "=", DEMO_CUSTOMER]], ["id"]):
            missing.append(f"crm: party {DEMO_CUSTOMER}")
    finally:
        for client in clients.values():
            client.close()
    return missing


@pytest.fixture(scope="session")
def tryton_home() -> Path:
    return session.tryton_home()


@pytest.fixture(scope="session")
def tryton_server(tryton_home: Path) -> Iterator[TrytonServer]:
    """A server on the seeded databases, which must have concord_sync's fields and seed."""
    server = session.start_seeded_server(tryton_home)
    missing = _missing_contract(server, tryton_home)
    if missing:
        stop_server(tryton_home)
        pytest.fail("the seeded databases lack concord_sync's contract: " + "; ".join(missing), pytrace=False)
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
        client = TrytonRpcClient(fresh_databases.url, database, ADMIN_LOGIN, admin_password(tryton_home))
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


def drain(
    source: ChangeSource, record_type: str, cursor: str = EPOCH, limit: int = 1000
) -> tuple[list[RecordChange], str]:
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


class Calls:
    """Counts the JSON-RPC calls a connector makes (wraps its client's transport)."""

    def __init__(self, erp: TrytonErp) -> None:
        self.methods: list[str] = []
        post = erp.client._post

        def counting(method: str, params: list[Any]) -> Any:
            self.methods.append(method)
            return post(method, params)

        erp.client._post = counting  # type: ignore[method-assign]

    def during(self, action: Callable[[], Any]) -> tuple[Any, list[str]]:
        start = len(self.methods)
        result = action()
        return result, self.methods[start:]


@pytest.fixture
def calls(erp: TrytonErp) -> Iterator[Calls]:
    erp.client.login()  # not counted: once per client
    yield Calls(erp)
