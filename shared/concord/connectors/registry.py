"""The composition root for systems: which connector serves each of CRM, PSA and ERP.

Each role's connection is a Secrets Manager secret `<prefix>/<crm|psa|erp>` whose JSON names
its `kind` (the vendor) and credentials, so a firm picks each product by configuration (CRM =
Salesforce, PSA = Certinia, ERP = Tryton, say), and credentials never live in code or
environment variables. A vendor package exposes `connect(role, connection, context)`; it is
imported only when a secret names it, so a function loads only its systems' connectors.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, cast

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError

from ..errors import ConfigurationError


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
    "business_central": ("concord.connectors.business_central", frozenset({Role.ERP})),
    "netsuite": ("concord.connectors.netsuite", frozenset({Role.ERP})),
    "dynamics_finance": ("concord.connectors.dynamics_finance", frozenset({Role.ERP})),
    "quickbooks": ("concord.connectors.quickbooks", frozenset({Role.ERP})),
    "xero": ("concord.connectors.xero", frozenset({Role.ERP})),
    "workday": ("concord.connectors.workday", frozenset({Role.ERP})),
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
    # The connection secret's name, for a connector that writes it back (rotated refresh tokens).
    secret_name: str | None = None


class VendorPackage(Protocol):
    def connect(self, role: Role, connection: dict[str, Any], context: ConnectorContext) -> Any: ...


def read_connection(secret_name: str, cache_seconds: int, *, fresh: bool = False) -> dict[str, Any]:
    """The connection secret, from Powertools' cache unless older than `cache_seconds`; `fresh`
    reads it from the store now (and caches what it read)."""
    try:
        raw = parameters.get_secret(secret_name, transform="json", max_age=cache_seconds, force_fetch=fresh)
    except (GetParameterError, TransformParameterError) as error:
        raise ConfigurationError(f"system connection {secret_name} is missing or malformed") from error
    if not isinstance(raw, dict) or not isinstance(raw.get("kind"), str):
        raise ConfigurationError(f"system connection {secret_name} names no kind")
    return raw


def connector_for(role: Role, secret_name: str, connection: dict[str, Any], context: ConnectorContext) -> Any:
    """The connector of `role` over `connection` (the secret `secret_name` holds)."""
    kind = connection["kind"]
    if kind not in KINDS:
        raise ConfigurationError(f"system connection {secret_name}: kind {kind!r} unknown; known: {sorted(KINDS)}")
    package, roles = KINDS[kind]
    if role not in roles:
        raise ConfigurationError(f"system connection {secret_name}: a {kind} connector cannot be the {role.upper()}")
    vendor = cast(VendorPackage, importlib.import_module(package))
    return vendor.connect(role, connection, context)


def keep_subscriptions(secrets: SystemSecrets, role: Role, now: dt.datetime) -> Any:
    """Keep alive the webhook subscriptions of `role`'s vendor (Business Central's lapse after three
    days): its package's `keep_subscriptions(secrets, now)`; a vendor without any is a
    ConfigurationError, not a silent no-op."""
    kind = secrets.connection(role)["kind"]
    package = importlib.import_module(KINDS[kind][0]) if kind in KINDS else None
    keeper: Callable[[SystemSecrets, dt.datetime], Any] | None = getattr(package, "keep_subscriptions", None)
    if keeper is None:
        raise ConfigurationError(
            f"system connection {secrets.secret_name(role)}: a {kind} system has no webhook subscriptions to keep"
        )
    return keeper(secrets, now)


@dataclass(frozen=True)
class SystemSecrets:
    """Where each role's connection secret is, and what its connector is given besides."""

    prefix: str
    cache_seconds: int
    default_legal_entity: str
    rate_budget_table: str | None = None

    def secret_name(self, role: Role) -> str:
        return f"{self.prefix.rstrip('/')}/{role.value}"

    def connection(self, role: Role) -> dict[str, Any]:
        return read_connection(self.secret_name(role), self.cache_seconds)

    def connect(self, role: Role, connection: dict[str, Any]) -> Any:
        name = self.secret_name(role)
        context = ConnectorContext(
            default_legal_entity=self.default_legal_entity,
            # After a refusal the secret is read afresh and cached, so the next check of
            # LiveConnectors sees the rotated connection too.
            reload_connection=lambda: read_connection(name, self.cache_seconds, fresh=True),
            rate_budget_table=self.rate_budget_table,
            secret_name=name,
        )
        return connector_for(role, name, connection, context)


class LiveConnectors:
    """The connectors of a warm function, kept across invocations (their sessions and tokens
    stay warm) until their role's connection changes.

    Each `get` compares the connection secret, as Powertools caches it for `cache_seconds`,
    with the one the connector was built from: once the cache expires after a rotation, the
    connector is rebuilt from the new connection. A rotation noticed sooner, by a refused
    login or a 401, is handled by the connector's own auth, which re-reads the secret at once
    (ConnectorContext.reload_connection) and retries once."""

    def __init__(self) -> None:
        self._built: dict[tuple[SystemSecrets, Role], tuple[dict[str, Any], Any]] = {}

    def get(self, secrets: SystemSecrets, role: Role) -> Any:
        connection = secrets.connection(role)
        built = self._built.get((secrets, role))
        if built is not None and built[0] == connection:
            return built[1]
        connector = secrets.connect(role, connection)
        self._built[(secrets, role)] = (connection, connector)
        return connector
