"""Building the sync flows' Systems inside a Lambda function: the connectors are kept while
their connection secrets are unchanged, the rest once per warm function."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, cast

from pydantic import Field

from ..connectors.registry import LiveConnectors, Role, SystemSecrets
from ..ownership import SystemOfRecord, load_system_of_record
from ..ports import CrmPort, CrossReferences, ErpPort, EventPublisher, PsaPort
from ..settings import Settings
from ..stores.registry import Registry
from ..sync.rules import LegalEntityRules, parse_rules
from ..sync.systems import Systems
from .bus import EventBusPublisher
from .clients import client


class ConnectorSettings(Settings):
    systems_secret_prefix: str = Field(alias="SYSTEMS_SECRET_PREFIX")
    secret_cache_seconds: int = Field(default=300, ge=0, alias="SECRET_CACHE_SECONDS")
    # The legal entity of records whose system names none (configuration, not a system's secret).
    default_legal_entity: str = Field(default="us-01", alias="DEFAULT_LEGAL_ENTITY")
    rate_budget_table_name: str | None = Field(default=None, alias="RATE_BUDGET_TABLE_NAME")


class SystemsSettings(ConnectorSettings):
    idempotency_table_name: str = Field(alias="IDEMPOTENCY_TABLE_NAME")
    xref_table_name: str = Field(alias="XREF_TABLE_NAME")
    event_bus_name: str = Field(alias="EVENT_BUS_NAME")
    legal_entities: str = Field(alias="LEGAL_ENTITIES")  # JSON: legal entity -> LegalEntityRules
    system_of_record: str = Field(alias="SYSTEM_OF_RECORD")  # JSON: concord.ownership.SystemOfRecord


# The connectors of this (warm) function: rebuilt when a role's connection secret changes.
LIVE_CONNECTORS = LiveConnectors()


def connectors_for(settings: ConnectorSettings) -> tuple[CrmPort, PsaPort, ErpPort]:
    """The CRM, PSA and ERP connectors each role's secret names. Each connects when first used
    (a function reads only the secrets of the systems it calls: infra grants it no other), and
    keeps its session across invocations of a warm function until its secret changes (re-read
    every SECRET_CACHE_SECONDS)."""
    secrets = SystemSecrets(
        prefix=settings.systems_secret_prefix,
        cache_seconds=settings.secret_cache_seconds,
        default_legal_entity=settings.default_legal_entity,
        rate_budget_table=settings.rate_budget_table_name,
    )
    return (
        cast(CrmPort, RoleConnector(_live(secrets, Role.CRM))),
        cast(PsaPort, RoleConnector(_live(secrets, Role.PSA))),
        cast(ErpPort, RoleConnector(_live(secrets, Role.ERP))),
    )


def _live(secrets: SystemSecrets, role: Role) -> Callable[[], object]:
    """What LIVE_CONNECTORS holds for the role now (connected on first use, rebuilt after a rotation)."""
    return lambda: LIVE_CONNECTORS.get(secrets, role)


class RoleConnector:
    """Stands for a role's connector: nothing is read until a member is used; then it is
    whatever `connect` gives (for a function, what LIVE_CONNECTORS holds for the role). A
    failed connection is tried again at the next use.

    A Protocol's isinstance does not look through this proxy (it reads class attributes only):
    sync logic asks concord.ports.capability(), which does, through connected()."""

    def __init__(self, connect: Callable[[], object]) -> None:
        self._connect = connect

    def connected(self) -> object:
        """The connector this stands for now (connecting if need be)."""
        return self._connect()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connect(), name)


def systems_for(settings: SystemsSettings) -> Systems:
    """What the sync flows work with: the role connectors, and the rest, built once."""
    crm, psa, erp = connectors_for(settings)
    xref, bus, rules, ownership = _shared_parts(settings)
    return Systems(crm=crm, psa=psa, erp=erp, xref=xref, bus=bus, rules=rules, ownership=ownership)


@cache
def _shared_parts(
    settings: SystemsSettings,
) -> tuple[CrossReferences, EventPublisher, dict[str, LegalEntityRules], SystemOfRecord]:
    return (
        Registry(client("dynamodb"), settings.xref_table_name),
        EventBusPublisher(settings.event_bus_name, client("events")),
        parse_rules(settings.legal_entities),
        load_system_of_record(settings.system_of_record),
    )
