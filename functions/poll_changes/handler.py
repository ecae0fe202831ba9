"""Scheduled change capture: polls each watched system for what push missed, announces it.

Runs every minute (EventBridge schedule). Watches come from POLL_WATCHES, e.g.
[{"system": "crm", "record_type": "opportunity", "source": "crm"}]: `source` is the webhook
source whose push the poll backs up (event ids are derived from it, so both agree).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field, Json

from concord.aws.bus import EventBusPublisher
from concord.aws.checkpoints import DynamoCheckpoints
from concord.aws.clients import client, resource
from concord.connectors.registry import systems_from_secrets
from concord.observability import logger, metrics, tracer
from concord.settings import Settings
from concord.sync.change_capture import Watch, announce_won_opportunities, capture


class WatchConfig(BaseModel):
    system: Literal["crm"]
    record_type: Literal["opportunity"]
    source: str


class PollSettings(Settings):
    checkpoints_table_name: str = Field(alias="CHECKPOINTS_TABLE_NAME")
    event_bus_name: str = Field(alias="EVENT_BUS_NAME")
    systems_secret_prefix: str = Field(alias="SYSTEMS_SECRET_PREFIX")
    secret_cache_seconds: int = Field(default=300, ge=0, alias="SECRET_CACHE_SECONDS")
    legal_entity: str = Field(default="us-01", alias="DEFAULT_LEGAL_ENTITY")
    poll_watches: Json[list[WatchConfig]] = Field(alias="POLL_WATCHES")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = PollSettings.from_env()
    crm, _psa, _erp = systems_from_secrets(settings.systems_secret_prefix, settings.secret_cache_seconds)
    checkpoints = DynamoCheckpoints(resource("dynamodb").Table(settings.checkpoints_table_name))
    bus = EventBusPublisher(settings.event_bus_name, client("events"))
    reports = []
    for config in settings.poll_watches:
        watch = Watch(
            key=f"{config.system}:{config.record_type}",
            record_type=config.record_type,
            source=crm,
            announce=announce_won_opportunities(crm, config.source, settings.legal_entity, _now),
        )
        report = capture(watch, checkpoints, bus, _now())
        metrics.add_metric(name="ChangesSeen", unit=MetricUnit.Count, value=report.changes)
        metrics.add_metric(name="EventsAnnounced", unit=MetricUnit.Count, value=report.events)
        logger.info("polled", watch=report.key, changes=report.changes, events=report.events, started=report.started)
        reports.append({"watch": report.key, "changes": report.changes, "events": report.events, "started": report.started})
    return {"watches": reports}
