"""A function connects (reads the secret of) only the systems it uses: its role may read no
other system's secret (least privilege, infra)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol, runtime_checkable

import pytest

from concord.aws import systems as aws_systems
from concord.connectors.registry import LiveConnectors, Role, SystemSecrets
from concord.ports import capability


class Connector:
    def __init__(self, role: Role) -> None:
        self.role = role

    def get_customer(self, ref: str) -> str:
        return f"{self.role.value}:{ref}"


@pytest.fixture()
def read_secrets(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Role]]:
    """The roles whose secret was read, in order; connecting builds a stand-in connector."""
    roles: list[Role] = []

    def connection(self: SystemSecrets, role: Role) -> dict[str, Any]:
        roles.append(role)
        return {"kind": "stand-in", "role": role.value}

    monkeypatch.setattr(SystemSecrets, "connection", connection)
    monkeypatch.setattr(SystemSecrets, "connect", lambda self, role, connection: Connector(role))
    monkeypatch.setattr(aws_systems, "LIVE_CONNECTORS", LiveConnectors())
    for name, value in {"SYSTEMS_SECRET_PREFIX": "concord/test/systems", "SECRET_CACHE_SECONDS": "0"}.items():
        monkeypatch.setenv(name, value)
    yield roles


def test_only_the_systems_a_function_uses_are_read(read_secrets: list[Role]) -> None:
    _, _, erp = aws_systems.connectors_for(aws_systems.ConnectorSettings.from_env())
    assert read_secrets == []

    assert erp.get_customer("7") == "erp:7"
    assert erp.get_customer("8") == "erp:8"

    assert set(read_secrets) == {Role.ERP}


def test_a_failed_connection_is_tried_again_on_the_next_use(
    monkeypatch: pytest.MonkeyPatch, read_secrets: list[Role]
) -> None:
    attempts: list[int] = []

    def flaky(self: SystemSecrets, role: Role, connection: dict[str, Any]) -> Connector:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("secret store unreachable")
        return Connector(role)

    monkeypatch.setattr(SystemSecrets, "connect", flaky)
    crm, _, _ = aws_systems.connectors_for(aws_systems.ConnectorSettings.from_env())
    with pytest.raises(RuntimeError):
        crm.get_customer("1")
    assert crm.get_customer("1") == "crm:1"


@runtime_checkable
class CustomerReader(Protocol):
    def get_customer(self, ref: str) -> str: ...


def test_a_capability_check_sees_the_connector_the_role_holds(read_secrets: list[Role]) -> None:
    _, psa, _ = aws_systems.connectors_for(aws_systems.ConnectorSettings.from_env())

    connector = capability(psa, CustomerReader)

    assert isinstance(connector, Connector) and connector.role is Role.PSA
    assert read_secrets == [Role.PSA]
