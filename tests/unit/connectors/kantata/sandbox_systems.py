"""The Kantata OX connector against an in-process Kantata sandbox, with the local scenario's
consultant (plain httpx, no connector code) logging and approving time, for the connector's
own tests and the port contract suite:

    with kantata_systems() as systems:
        project = systems.psa.create_project(plan)
        systems.consultant.approve([systems.consultant.log_time(project.project_id, 7.5)])

The caller lets the test connect to 127.0.0.1 (pytest-socket), as tests/unit/sandboxes do.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from concord.connectors import kantata
from concord.connectors.kantata import KantataPsa
from concord.connectors.registry import ConnectorContext, Role
from concord.local.sandboxes.kantata import KantataSandbox
from concord.local.sandboxes.kit import SandboxController, SandboxServer
from concord.local.scenarios.kantata import AccountSession, Consultant

TENANT = "psa"
TOKEN = "concord-sandbox-token"
BILLING_FIELD_ID = 501


def connection(server_url: str, tenant: str = TENANT, **extra: Any) -> dict[str, Any]:
    """The connection secret of a sandbox account (Concord's integration user)."""
    return {
        "kind": "kantata",
        "base_url": f"{server_url}/{tenant}/api/v1",
        "token": TOKEN,
        "billing_status_field_id": BILLING_FIELD_ID,
        **extra,
    }


@dataclass
class KantataSystems:
    psa: KantataPsa
    consultant: Consultant
    control: SandboxController
    server: SandboxServer

    def admin(self) -> AccountSession:
        """Concord's own user on the account (to look at what the connector wrote)."""
        return AccountSession(f"{self.server.url}/{TENANT}", TOKEN)


@contextmanager
def kantata_systems(sandbox: KantataSandbox | None = None, **settings: Any) -> Iterator[KantataSystems]:
    with SandboxServer(sandbox or KantataSandbox(), [TENANT]) as server:
        secret = connection(server.url, **settings)
        context = ConnectorContext(default_legal_entity="concord-us", reload_connection=lambda: dict(secret))
        psa = kantata.connect(Role.PSA, secret, context)
        consultant = Consultant(AccountSession(f"{server.url}/{TENANT}"))
        control = SandboxController(server.url)
        try:
            yield KantataSystems(psa, consultant, control, server)
        finally:
            psa.client.close()
            consultant.psa.close()
            control.close()
