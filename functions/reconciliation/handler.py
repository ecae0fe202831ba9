"""Reconciliation: compares the three systems through the cross-reference registry, publishes
DriftDetected for what differs and, when asked, repairs it from the authoritative system.

Runs on a schedule (detect only, unless RECONCILE_REPAIR says otherwise) and on demand from
`concord reconcile`, which invokes it with {"objects": [...], "repair": true|false}.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from concord.aws.systems import SystemsSettings, systems_for
from concord.observability import logger, metrics, tracer
from concord.sync.reconcile import ReconcileRequest, reconcile


class ReconcileSettings(SystemsSettings):
    repair_on_schedule: bool = Field(default=False, alias="RECONCILE_REPAIR")


@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = ReconcileSettings.from_env()
    # A scheduled event carries EventBridge's fields too: only the request's are read.
    request = ReconcileRequest.model_validate({k: v for k, v in event.items() if k in ReconcileRequest.model_fields})
    report = reconcile(systems_for(settings), request, settings.default_legal_entity, settings.repair_on_schedule)
    metrics.add_metric(name="DriftFound", unit=MetricUnit.Count, value=len(report.drift))
    logger.info("reconciled", objects=report.objects, drift=len(report.drift), repaired=report.repair)
    return report.model_dump(mode="json")
