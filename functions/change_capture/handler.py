"""Scheduled change capture: polls each watched system for what push missed, announces it.

Runs every minute (EventBridge schedule). Watches come from POLL_WATCHES, e.g.
[{"system": "psa", "record_type": "time_entry", "source": "psa"}] (see
concord.sync.change_capture.capture_watches for what a run does).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field, Json

from concord.aws.bus import EventBusPublisher
from concord.aws.clients import client
from concord.aws.systems import ConnectorSettings, connectors_for
from concord.observability import logger, metrics, tracer
from concord.stores.checkpoints import Checkpoints
from concord.sync.change_capture import CaptureRun, WatchConfig, capture_watches


class PollSettings(ConnectorSettings):
    checkpoints_table_name: str = Field(alias="CHECKPOINTS_TABLE_NAME")
    event_bus_name: str = Field(alias="EVENT_BUS_NAME")
    poll_watches: Json[list[WatchConfig]] = Field(alias="POLL_WATCHES")


# Watches this warm function has already warned about: a system's shape does not change between
# runs, so its log says it once (the WatchesNotServed metric says it every run).
_WARNED_NOT_SERVED: set[str] = set()


def _report(run: CaptureRun) -> None:
    for failure in run.failures:
        logger.error("poll failed", watch=failure.key, exc_info=failure.error)
    metrics.add_metric(name="WatchesNotServed", unit=MetricUnit.Count, value=len(run.not_served))
    for skipped in run.not_served:
        if skipped.key not in _WARNED_NOT_SERVED:
            _WARNED_NOT_SERVED.add(skipped.key)
            logger.warning(
                "watch skipped: not served by the configured system", watch=skipped.key, reason=str(skipped.error)
            )
    for report in run.reports:
        metrics.add_metric(name="ChangesSeen", unit=MetricUnit.Count, value=report.changes)
        metrics.add_metric(name="EventsAnnounced", unit=MetricUnit.Count, value=report.events)
        logger.info("polled", watch=report.key, changes=report.changes, events=report.events, started=report.started)


@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = PollSettings.from_env()
    run = capture_watches(
        settings.poll_watches,
        connectors_for(settings),
        Checkpoints(client("dynamodb"), settings.checkpoints_table_name),
        EventBusPublisher(settings.event_bus_name, client("events")),
        settings.default_legal_entity,
    )
    _report(run)
    run.raise_for_failures()
    return {
        "watches": [
            {"watch": r.key, "changes": r.changes, "events": r.events, "started": r.started} for r in run.reports
        ]
    }
