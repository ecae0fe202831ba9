"""The Business Central connector against an in-process Business Central sandbox, with the
local scenario's finance user (plain httpx, no connector code) posting invoices and recording
payments, for the connector's own tests and the port contract suite:

    with business_central_systems() as systems:
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

from concord.connectors import business_central
from concord.connectors.business_central import BusinessCentralErp
from concord.connectors.registry import ConnectorContext, Role
from concord.local.sandboxes.business_central import BusinessCentralSandbox
from concord.local.sandboxes.kit import SandboxController, SandboxServer
from concord.local.scenarios.business_central import CompanySession, Finance
from concord.local.vendors import connection_for

from .spec import Recorder

TENANT = "erp"


def connection(server_url: str, **extra: Any) -> dict[str, Any]:
    """The connection secret of the sandbox company (Concord's app), as the local stack writes it."""
    return {**connection_for("business_central", f"{server_url}/{TENANT}"), **extra}


@dataclass
class BusinessCentralSystems:
    erp: BusinessCentralErp
    finance: Finance
    control: SandboxController
    server: SandboxServer
    recorder: Recorder


@contextmanager
def business_central_systems(
    sandbox: BusinessCentralSandbox | None = None, **settings: Any
) -> Iterator[BusinessCentralSystems]:
    with SandboxServer(sandbox or BusinessCentralSandbox(), [TENANT]) as server:
        secret = connection(server.url, **settings)
        context = ConnectorContext(default_legal_entity="concord-us", reload_connection=lambda: dict(secret))
        recorder = Recorder()
        erp = business_central.connect(Role.ERP, secret, context, transport=recorder)
        finance = Finance(CompanySession(f"{server.url}/{TENANT}"))
        control = SandboxController(server.url)
        try:
            yield BusinessCentralSystems(erp, finance, control, server, recorder)
        finally:
            erp.client.close()
            finance.company.close()
            control.close()
