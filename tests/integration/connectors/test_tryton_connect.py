"""connect(): the role's connection secret, validated, to the Tryton connector for that role
(no server needed: a client logs in on its first call)."""

from __future__ import annotations

from typing import Any

import pytest

from concord.connectors.registry import KINDS, ConnectorContext, Role
from concord.connectors.tryton import TrytonConnection, TrytonCrm, TrytonErp, TrytonPsa, connect
from concord.errors import ConfigurationError

SECRET = {
    "kind": "tryton",
    "url": "http://127.0.0.1:8765",
    "database": "crm",
    "login": "concord",
    "password": "s3cret-value",
}


def _context(**overrides: Any) -> ConnectorContext:
    return ConnectorContext(default_legal_entity="de-02", reload_connection=lambda: SECRET, **overrides)


@pytest.mark.parametrize(("role", "kind"), [(Role.CRM, TrytonCrm), (Role.PSA, TrytonPsa), (Role.ERP, TrytonErp)])
def test_connect_builds_the_connector_of_each_role(role: Role, kind: type) -> None:
    connector = connect(role, {**SECRET, "database": role.value}, _context())

    assert isinstance(connector, kind)
    assert connector.client.database == role.value
    assert KINDS["tryton"][0] == "concord.connectors.tryton"


def test_the_crm_takes_its_legal_entity_from_the_context() -> None:
    crm = connect(Role.CRM, SECRET, _context())

    assert isinstance(crm, TrytonCrm) and crm.legal_entity == "de-02"


@pytest.mark.parametrize(
    "broken",
    [
        {**SECRET, "legal_entity": "us-01"},  # the legal entity is configuration, not the secret's
        {k: v for k, v in SECRET.items() if k != "password"},
        {**SECRET, "url": "not a url"},
        {**SECRET, "kind": "salesforce"},
    ],
)
def test_a_malformed_connection_is_a_configuration_error_that_names_no_secret(broken: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as caught:
        connect(Role.ERP, broken, _context())

    assert "s3cret-value" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_the_password_is_not_shown() -> None:
    connection = TrytonConnection.model_validate(SECRET)

    assert "s3cret-value" not in repr(connection) and "s3cret-value" not in connection.model_dump_json()
