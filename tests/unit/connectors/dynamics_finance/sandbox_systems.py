"""The Dynamics 365 Finance connector against an in-process Finance sandbox, with the local
scenario's finance clerk (plain httpx, no connector code) posting invoices and recording
payments, for the connector's own tests and the port contract suite:

    with finance_systems() as systems:
        draft = systems.erp.open_invoice_draft(customer_id, "USD", project_ref)
        systems.clerk.post(draft)

The caller lets the test connect to 127.0.0.1 (pytest-socket), as tests/unit/sandboxes do.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from concord.connectors import dynamics_finance
from concord.connectors.dynamics_finance import FinanceErp
from concord.connectors.registry import ConnectorContext, Role
from concord.local.sandboxes.dynamics_finance import FinanceSandbox
from concord.local.sandboxes.kit import SandboxController, SandboxServer
from concord.local.scenarios.dynamics_finance import EnvironmentSession, FinanceClerk
from concord.local.vendors import dynamics_finance_connection

TENANT = "erp"


def connection(server_url: str, tenant: str = TENANT, **extra: Any) -> dict[str, Any]:
    """The connection secret of the sandbox environment (its app, companies and reference data)."""
    return {**dynamics_finance_connection(f"{server_url}/{tenant}"), **extra}


@dataclass
class FinanceSystems:
    erp: FinanceErp
    clerk: FinanceClerk
    control: SandboxController
    server: SandboxServer


@contextmanager
def finance_systems(sandbox: FinanceSandbox | None = None, **settings: Any) -> Iterator[FinanceSystems]:
    with SandboxServer(sandbox or FinanceSandbox(), [TENANT]) as server:
        secret = connection(server.url, **settings)
        context = ConnectorContext(default_legal_entity="us-01", reload_connection=lambda: dict(secret))
        erp = dynamics_finance.connect(Role.ERP, secret, context)
        clerk = FinanceClerk(EnvironmentSession(f"{server.url}/{TENANT}"))
        control = SandboxController(server.url)
        try:
            yield FinanceSystems(erp, clerk, control, server)
        finally:
            erp.client.close()
            clerk.erp.close()
            control.close()
