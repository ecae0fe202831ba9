"""The Workday connector against an in-process Workday sandbox, with the local scenario's finance
clerk (plain SOAP over httpx, no connector code) submitting invoices and recording payments, for
the connector's own tests and the port contract suite:

    with workday_systems() as systems:
        draft = systems.erp.open_invoice_draft(customer_id, "USD", project_ref)
        systems.finance.post_invoice(project_ref)

The caller lets the test connect to 127.0.0.1 (pytest-socket), as tests/unit/sandboxes do.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from concord.connectors import workday
from concord.connectors.registry import ConnectorContext, Role
from concord.connectors.workday import WorkdayErp
from concord.local.sandboxes.kit import SandboxController, SandboxServer
from concord.local.sandboxes.workday import WorkdaySandbox
from concord.local.scenarios.finance import WorkdayFinance
from concord.local.scenarios.workday import FinanceClerk, WorkdaySession
from concord.local.vendors import connection_for

TENANT = "erp"


def connection(server_url: str, **extra: Any) -> dict[str, Any]:
    """The connection secret of the sandbox tenant (Concord's ISU), as the local stack writes it."""
    return {**connection_for("workday", f"{server_url}/{TENANT}"), **extra}


@dataclass
class WorkdaySystems:
    erp: WorkdayErp
    finance: WorkdayFinance
    control: SandboxController
    server: SandboxServer
    secret: dict[str, Any]


@contextmanager
def workday_systems(sandbox: WorkdaySandbox | None = None, **settings: Any) -> Iterator[WorkdaySystems]:
    with SandboxServer(sandbox or WorkdaySandbox(), [TENANT]) as server:
        secret = connection(server.url, **settings)
        context = ConnectorContext(default_legal_entity="concord-us", reload_connection=lambda: dict(secret))
        erp = workday.connect(Role.ERP, secret, context)
        session = WorkdaySession(f"{server.url}/{TENANT}")
        control = SandboxController(server.url)
        try:
            yield WorkdaySystems(erp, WorkdayFinance(FinanceClerk(session)), control, server, secret)
        finally:
            erp.client.close()
            session.close()
            control.close()
