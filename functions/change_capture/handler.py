"""Scheduled change capture: polls each watched system for what push missed, announces it.

Runs every minute (EventBridge schedule). Watches come from POLL_WATCHES, e.g.
[{"system": "psa", "record_type": "time_entry", "source": "psa"}]: `source` is the webhook
source whose push the poll backs up (event ids are derived from it, so both agree). One
watch failing (its system down) does not stop the others; the run then fails, so the
schedule's retry and alarm see it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from concord.aws.bus import EventBusPublisher
from concord.aws.checkpoints import DynamoCheckpoints
from concord.aws.clients import client, resource
from concord.aws.systems import ConnectorSettings, connectors_for
from concord.errors import TransientError
from concord.observability import logger, metrics, tracer
from concord.sync.change_capture import capture, watch_for
from pydantic import BaseModel, Field, Json


class WatchConfig(BaseModel):
    system: Literal["crm", "psa", "erp"]
    record_type: Literal["opportunity", "customer", "time_entry", "invoice", "payment"]
    source: str

    @property
    def key(self) -> str:
        return f"{self.system}:{self.record_type}"


class PollSettings(ConnectorSettings):
    checkpoints_table_name: str = Field(alias="CHECKPOINTS_TABLE_NAME")
    event_bus_name: str = Field(alias="EVENT_BUS_NAME")
    poll_watches: Json[list[WatchConfig]] = Field(alias="POLL_WATCHES")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = PollSettings.from_env()
    crm, psa, erp = connectors_for(settings)
    checkpoints = DynamoCheckpoints(resource("dynamodb").Table(settings.checkpoints_table_name))
    bus = EventBusPublisher(settings.event_bus_name, client("events"))
    reports: list[dict[str, Any]] = []
    failed: list[str] = []
    for config in settings.poll_watches:
        try:
            watch = watch_for(config.system, config.record_type, config.source, (crm, psa, erp),
                              settings.default_legal_entity, _now)
            report = capture(watch, checkpoints, bus, _now())
        except Exception as error:  # noqa: BLE001 - one system down must not blind the other watches
            logger.exception("poll failed", watch=config.key)
            failed.append(f"{config.key}: {type(error).__name__}: {error}")
            continue
        metrics.add_metric(name="ChangesSeen", unit=MetricUnit.Count, value=report.changes)
        metrics.add_metric(name="EventsAnnounced", unit=MetricUnit.Count, value=report.events)
        logger.info("polled", watch=report.key, changes=report.changes, events=report.events, started=report.started)
        reports.append({"watch": report.key, "changes": report.changes, "events": report.events, "started": report.started})
    if failed:
        raise TransientError("change capture failed for " + "; ".join(failed))
    return {"watches": reports}
