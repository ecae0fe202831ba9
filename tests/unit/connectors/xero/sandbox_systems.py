"""The Xero connector against an in-process Xero sandbox, with the local scenario's finance
user (plain httpx, no connector code) approving invoices and recording payments, for the
connector's own tests and the port contract suite:

    with xero_systems() as systems:
        draft = systems.erp.open_invoice_draft(customer_id, "USD", project_ref)
        systems.finance.post(draft)

Every exchange of the connector is kept (`systems.recorder`) for the spec checks. The caller
lets the test connect to 127.0.0.1 (pytest-socket), as tests/unit/sandboxes do.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from concord.connectors import xero
from concord.connectors.registry import ConnectorContext, Role
from concord.connectors.xero import XeroErp
from concord.local.sandboxes.kit import SandboxController, SandboxServer
from concord.local.sandboxes.xero import XeroSandbox
from concord.local.scenarios.xero import Finance, Organisation
from concord.local.vendors import connection_for
from tests.unit.connectors.business_central.spec import Recorder

TENANT = "erp"
# Tests run the organisation's limits a hundred times faster (the sandbox's and the budget's alike).
FAST = {"per_minute": 6000, "per_day": 500_000, "burst": 10}


def connection(server_url: str, **extra: Any) -> dict[str, Any]:
    """The connection secret of the sandbox organisation (Concord's app), as the local stack writes it."""
    return {**connection_for("xero", f"{server_url}/{TENANT}"), "rate": FAST, **extra}


@dataclass
class XeroSystems:
    erp: XeroErp
    finance: Finance
    control: SandboxController
    server: SandboxServer
    recorder: Recorder


@contextmanager
def xero_systems(sandbox: XeroSandbox | None = None, **settings: Any) -> Iterator[XeroSystems]:
    fast = XeroSandbox(per_minute=FAST["per_minute"], per_day=FAST["per_day"])
    with SandboxServer(sandbox or fast, [TENANT]) as server:
        secret = connection(server.url, **settings)
        context = ConnectorContext(default_legal_entity="concord-us", reload_connection=lambda: dict(secret))
        recorder = Recorder()
        erp = xero.connect(Role.ERP, secret, context, transport=recorder)
        finance = Finance(Organisation(f"{server.url}/{TENANT}"))
        control = SandboxController(server.url)
        try:
            yield XeroSystems(erp, finance, control, server, recorder)
        finally:
            erp.client.close()
            finance.organisation.close()
            control.close()
