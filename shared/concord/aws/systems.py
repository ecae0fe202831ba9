"""Building the sync flows' Systems inside a Lambda function, once per warm function."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, cached_property
from typing import Any, cast

from pydantic import Field

from ..connectors.registry import SystemSecrets
from ..ownership import load_system_of_record
from ..ports import CrmPort, ErpPort, PsaPort
from ..settings import Settings
from ..sync.rules import parse_rules
from ..sync.systems import Systems
from .bus import EventBusPublisher
from .clients import client
from .xref import DynamoCrossReferences


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


def connectors_for(settings: ConnectorSettings) -> tuple[CrmPort, PsaPort, ErpPort]:
    """The CRM, PSA and ERP connectors each role's secret names, each connected when first
    used; they keep their sessions across invocations of a warm function."""
    return _connectors(SystemSecrets(
        prefix=settings.systems_secret_prefix,
        cache_seconds=settings.secret_cache_seconds,
        default_legal_entity=settings.default_legal_entity,
        rate_budget_table=settings.rate_budget_table_name,
    ))


class ConnectedOnFirstUse:
    """Stands for a connector until a member is used, then connects (reads its secret) once.

    A function reads only the secrets of the systems it calls: its role may read no other
    (infra grants each function the secrets of its systems only)."""

    def __init__(self, connect: Callable[[], Any]) -> None:
        self._connect = connect

    @cached_property
    def _connector(self) -> Any:
        return self._connect()  # not cached when it raises: the next use tries again

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connector, name)


@cache
def _connectors(secrets: SystemSecrets) -> tuple[CrmPort, PsaPort, ErpPort]:
    return (
        cast(CrmPort, ConnectedOnFirstUse(secrets.crm)),
        cast(PsaPort, ConnectedOnFirstUse(secrets.psa)),
        cast(ErpPort, ConnectedOnFirstUse(secrets.erp)),
    )


@cache
def systems_for(settings: SystemsSettings) -> Systems:
    crm, psa, erp = connectors_for(settings)
    return Systems(
        crm=crm,
        psa=psa,
        erp=erp,
        xref=DynamoCrossReferences(client("dynamodb"), settings.xref_table_name),
        bus=EventBusPublisher(settings.event_bus_name, client("events")),
        rules=parse_rules(settings.legal_entities),
        ownership=load_system_of_record(settings.system_of_record),
    )
