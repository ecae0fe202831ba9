"""How Concord connects to a Tryton database: the role's connection secret, validated, and the
connector for the role it plays (see concord.connectors.registry)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from concord.connectors.kit.urls import SystemUrl
from concord.connectors.registry import ConnectorContext, Role
from concord.errors import ConfigurationError

from .crm import TrytonCrm
from .erp import TrytonErp
from .psa import TrytonPsa
from .rpc import TrytonRpcClient


class TrytonConnection(BaseModel):
    """A role's connection secret for Tryton, e.g. {"kind": "tryton", "url":
    "https://erp.example.com", "database": "erp", "login": "concord", "password": "..."}.

    No legal entity: a Tryton database names none for its records, Concord's configuration
    does (ConnectorContext.default_legal_entity)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["tryton"]
    url: SystemUrl  # https; http only to loopback (the local stack); no user:password@
    database: str
    login: str
    password: SecretStr

    def client(self, reload_credentials: Callable[[], tuple[str, str]] | None = None) -> TrytonRpcClient:
        """A session as Concord's own user: its writes are not pushed back to it."""
        return TrytonRpcClient(
            self.url.rstrip("/"),
            self.database,
            self.login,
            self.password.get_secret_value(),
            reload_credentials=reload_credentials,
        )

    @property
    def credentials(self) -> tuple[str, str]:
        return self.login, self.password.get_secret_value()


def parse_connection(role: Role, connection: dict[str, Any]) -> TrytonConnection:
    try:
        return TrytonConnection.model_validate(connection)
    except ValidationError as exc:
        # The errors name fields only: pydantic never echoes a SecretStr's value, but the
        # input of other fields could be a pasted secret, so it is left out.
        fields = sorted({".".join(map(str, e["loc"])) for e in exc.errors()})
        raise ConfigurationError(f"Tryton connection for the {role.value.upper()} is invalid: {fields}") from None


def connect(role: Role, connection: dict[str, Any], context: ConnectorContext) -> TrytonCrm | TrytonPsa | TrytonErp:
    """The Tryton connector playing `role` over the database `connection` names. When Tryton
    refuses the login, the client re-reads the secret (a rotated password) and tries once more."""
    settings = parse_connection(role, connection)
    client = settings.client(lambda: parse_connection(role, context.reload_connection()).credentials)
    if role is Role.CRM:
        return TrytonCrm(client, legal_entity=context.default_legal_entity)
    if role is Role.PSA:
        return TrytonPsa(client)
    return TrytonErp(client)
