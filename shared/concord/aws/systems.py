"""Building the sync flows' Systems inside a Lambda function, once per warm function."""

from __future__ import annotations

from functools import cache

from pydantic import Field

from ..connectors.registry import systems_from_secrets
from ..ownership import load_system_of_record
from ..settings import Settings
from ..sync.rules import parse_rules
from ..sync.systems import Systems
from .bus import EventBusPublisher
from .clients import client
from .xref import DynamoCrossReferences


class SystemsSettings(Settings):
    idempotency_table_name: str = Field(alias="IDEMPOTENCY_TABLE_NAME")
    xref_table_name: str = Field(alias="XREF_TABLE_NAME")
    event_bus_name: str = Field(alias="EVENT_BUS_NAME")
    systems_secret_prefix: str = Field(alias="SYSTEMS_SECRET_PREFIX")
    legal_entities: str = Field(alias="LEGAL_ENTITIES")  # JSON: legal entity -> LegalEntityRules
    system_of_record: str = Field(alias="SYSTEM_OF_RECORD")  # JSON: concord.ownership.SystemOfRecord
    secret_cache_seconds: int = Field(default=300, ge=0, alias="SECRET_CACHE_SECONDS")


@cache
def systems_for(settings: SystemsSettings) -> Systems:
    """Connectors keep their sessions across invocations of a warm function."""
    crm, psa, erp = systems_from_secrets(settings.systems_secret_prefix, settings.secret_cache_seconds)
    return Systems(
        crm=crm,
        psa=psa,
        erp=erp,
        xref=DynamoCrossReferences(client("dynamodb"), settings.xref_table_name),
        bus=EventBusPublisher(settings.event_bus_name, client("events")),
        rules=parse_rules(settings.legal_entities),
        ownership=load_system_of_record(settings.system_of_record),
    )
