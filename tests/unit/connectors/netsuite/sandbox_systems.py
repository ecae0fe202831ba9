"""The NetSuite connector against an in-process NetSuite sandbox, with the local scenario's
finance clerk (plain httpx, no connector code) billing sales orders and recording payments, for
the connector's own tests and the port contract suite:

    with netsuite_systems() as systems:
        draft = systems.erp.open_invoice_draft(customer_id, "USD", project_ref)
        systems.clerk.post(order_id)

The caller lets the test connect to 127.0.0.1 (pytest-socket), as tests/unit/sandboxes do.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from concord.connectors import netsuite
from concord.connectors.netsuite import NetSuiteErp
from concord.connectors.registry import ConnectorContext, Role
from concord.local.sandboxes.kit import SandboxController, SandboxServer
from concord.local.sandboxes.netsuite import NetSuiteSandbox
from concord.local.scenarios.netsuite import AccountSession, FinanceClerk
from concord.local.vendors import netsuite_connection

TENANT = "erp"


def connection(server_url: str, tenant: str = TENANT, **extra: Any) -> dict[str, Any]:
    """The connection secret of the sandbox account (its integration record and demo certificate)."""
    return {**netsuite_connection(f"{server_url}/{tenant}"), **extra}


@dataclass
class NetSuiteSystems:
    erp: NetSuiteErp
    clerk: FinanceClerk
    control: SandboxController
    server: SandboxServer


@contextmanager
def netsuite_systems(sandbox: NetSuiteSandbox | None = None, **settings: Any) -> Iterator[NetSuiteSystems]:
    with SandboxServer(sandbox or NetSuiteSandbox(), [TENANT]) as server:
        secret = connection(server.url, **settings)
        context = ConnectorContext(default_legal_entity="concord-us", reload_connection=lambda: dict(secret))
        erp = netsuite.connect(Role.ERP, secret, context)
        clerk = FinanceClerk(AccountSession(f"{server.url}/{TENANT}"))
        control = SandboxController(server.url)
        try:
            yield NetSuiteSystems(erp, clerk, control, server)
        finally:
            erp.client.close()
            clerk.erp.close()
            control.close()
