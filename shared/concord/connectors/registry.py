"""The composition root for systems: which connector serves each of CRM, PSA and ERP.

Each role's connection is a Secrets Manager secret `<prefix>/<crm|psa|erp>` whose JSON names
its `kind` (the vendor) and credentials, so a firm picks each product by configuration (CRM =
Salesforce, PSA = Certinia, ERP = Tryton, say), and credentials never live in code or
environment variables. A vendor package exposes `connect(role, connection, context)`; it is
imported only when a secret names it, so a function loads only its systems' connectors.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, cast

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError

from ..errors import ConfigurationError
from ..ports import CrmPort, ErpPort, PsaPort


class Role(StrEnum):
    CRM = "crm"
    PSA = "psa"
    ERP = "erp"


# kind -> the package that connects it, and the roles it can play
KINDS: dict[str, tuple[str, frozenset[Role]]] = {
    "tryton": ("concord.connectors.tryton", frozenset(Role)),
    "salesforce": ("concord.connectors.salesforce", frozenset({Role.CRM})),
    "certinia": ("concord.connectors.certinia", frozenset({Role.PSA})),
    "kantata": ("concord.connectors.kantata", frozenset({Role.PSA})),
    "hubspot": ("concord.connectors.hubspot", frozenset({Role.CRM})),
}


@dataclass(frozen=True)
class ConnectorContext:
    """What a connector gets besides its connection: configuration that is not a secret."""

    # The legal entity of records whose system does not name one (configuration, per stage).
    default_legal_entity: str
    # Re-reads the connection secret, bypassing the cache (after a rotation: the token
    # endpoint refused the credentials, or the system answered 401).
    reload_connection: Callable[[], dict[str, Any]]
    # The DynamoDB table holding the rate budget each vendor account shares across Lambdas
    # (None: no shared budget, e.g. Tryton or unit tests).
    rate_budget_table: str | None = None


class VendorPackage(Protocol):
    def connect(self, role: Role, connection: dict[str, Any], context: ConnectorContext) -> Any: ...


def read_connection(secret_name: str, cache_seconds: int) -> dict[str, Any]:
    try:
        raw = parameters.get_secret(secret_name, transform="json", max_age=cache_seconds)
    except (GetParameterError, TransformParameterError) as error:
        raise ConfigurationError(f"system connection {secret_name} is missing or malformed") from error
    if not isinstance(raw, dict) or not isinstance(raw.get("kind"), str):
        raise ConfigurationError(f"system connection {secret_name} names no kind")
    return raw


def connector_for(role: Role, secret_name: str, cache_seconds: int, context: ConnectorContext) -> Any:
    connection = read_connection(secret_name, cache_seconds)
    kind = connection["kind"]
    if kind not in KINDS:
        raise ConfigurationError(f"system connection {secret_name}: kind {kind!r} unknown; known: {sorted(KINDS)}")
    package, roles = KINDS[kind]
    if role not in roles:
        raise ConfigurationError(f"system connection {secret_name}: a {kind} connector cannot be the {role.upper()}")
    vendor = cast(VendorPackage, importlib.import_module(package))
    return vendor.connect(role, connection, context)


@dataclass(frozen=True)
class SystemSecrets:
    prefix: str
    cache_seconds: int
    default_legal_entity: str
    rate_budget_table: str | None = None

    def connect(self, role: Role) -> Any:
        name = f"{self.prefix.rstrip('/')}/{role.value}"
        context = ConnectorContext(
            default_legal_entity=self.default_legal_entity,
            reload_connection=lambda: read_connection(name, 0),
            rate_budget_table=self.rate_budget_table,
        )
        return connector_for(role, name, self.cache_seconds, context)

    def crm(self) -> CrmPort:
        return cast(CrmPort, self.connect(Role.CRM))

    def psa(self) -> PsaPort:
        return cast(PsaPort, self.connect(Role.PSA))

    def erp(self) -> ErpPort:
        return cast(ErpPort, self.connect(Role.ERP))
