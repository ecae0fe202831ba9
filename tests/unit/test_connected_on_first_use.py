"""A function connects (reads the secret of) only the systems it uses: its role may read no
other system's secret (least privilege, infra)."""

from __future__ import annotations

from typing import Any

import pytest

from concord.aws import systems as aws_systems
from concord.connectors.registry import Role, SystemSecrets


class Connector:
    def __init__(self, role: Role) -> None:
        self.role = role

    def get_customer(self, ref: str) -> str:
        return f"{self.role.value}:{ref}"


@pytest.fixture()
def connected(monkeypatch: pytest.MonkeyPatch) -> list[Role]:
    roles: list[Role] = []

    def connect(self: SystemSecrets, role: Role) -> Any:
        roles.append(role)
        return Connector(role)

    monkeypatch.setattr(SystemSecrets, "connect", connect)
    for name, value in {"SYSTEMS_SECRET_PREFIX": "concord/test/systems", "SECRET_CACHE_SECONDS": "0"}.items():
        monkeypatch.setenv(name, value)
    aws_systems._connectors.cache_clear()
    yield roles
    aws_systems._connectors.cache_clear()


def test_only_the_systems_a_function_uses_are_connected_and_each_once(connected: list[Role]) -> None:
    crm, psa, erp = aws_systems.connectors_for(aws_systems.ConnectorSettings.from_env())
    assert connected == []

    assert erp.get_customer("7") == "erp:7"
    assert erp.get_customer("8") == "erp:8"

    assert connected == [Role.ERP]


def test_a_failed_connection_is_tried_again_on_the_next_use(monkeypatch: pytest.MonkeyPatch, connected: list[Role]) -> None:
    attempts: list[int] = []

    def flaky() -> Connector:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("secret store unreachable")
        return Connector(Role.CRM)

    crm = aws_systems.ConnectedOnFirstUse(flaky)
    with pytest.raises(RuntimeError):
        crm.get_customer("1")
    assert crm.get_customer("1") == "crm:1"
    assert len(attempts) == 2
