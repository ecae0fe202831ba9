"""The QuickBooks connector against an in-process QuickBooks sandbox, with the local scenario's
finance clerk (plain httpx, no connector code) converting estimates into invoices and recording
payments, for the connector's own tests and the port contract suite. Every exchange of the
connector is validated against Intuit's XSDs as it passes (`systems.recorder`). The caller lets
the test connect to 127.0.0.1 (pytest-socket), as tests/unit/sandboxes do.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from concord.connectors import quickbooks
from concord.connectors.quickbooks import QuickBooksErp
from concord.connectors.registry import ConnectorContext, Role
from concord.local.sandboxes.kit import SandboxServer
from concord.local.sandboxes.quickbooks import QuickBooksSandbox
from concord.local.scenarios.quickbooks import Finance
from concord.local.vendors import connection_for

from .recorder import Recorder

TENANT = "erp"


def connection(server_url: str, **extra: Any) -> dict[str, Any]:
    return {**connection_for("quickbooks", f"{server_url}/{TENANT}"), **extra}


@dataclass
class QuickBooksSystems:
    erp: QuickBooksErp
    finance: Finance
    server: SandboxServer
    recorder: Recorder


@contextmanager
def quickbooks_systems(sandbox: QuickBooksSandbox | None = None, **settings: Any) -> Iterator[QuickBooksSystems]:
    # Unit tests run far faster than 10 calls a second: the sandbox's limits are raised unless given.
    sandbox = sandbox or QuickBooksSandbox(per_second=1000, per_minute=100_000)
    settings.setdefault("rate", {"per_second": 10.0, "burst": 2.0})
    with SandboxServer(sandbox, [TENANT]) as server:
        secret = connection(server.url, **settings)
        context = ConnectorContext(default_legal_entity="concord-us", reload_connection=lambda: dict(secret))
        recorder = Recorder()
        erp = quickbooks.connect(Role.ERP, secret, context, transport=recorder)
        finance = Finance.at(f"{server.url}/{TENANT}")
        try:
            yield QuickBooksSystems(erp, finance, server, recorder)
        finally:
            erp.client.close()
            finance.close()
