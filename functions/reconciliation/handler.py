"""Reconciliation: compares the three systems through the cross-reference registry, publishes
DriftDetected for what differs and, when asked, repairs it from the authoritative system.

Runs on a schedule (detect only, unless RECONCILE_REPAIR says otherwise) and on demand from
`concord reconcile`, which invokes it with {"objects": [...], "repair": true|false}.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from concord.aws.systems import SystemsSettings, systems_for
from concord.observability import logger, metrics, tracer
from concord.sync.reconcile import (
    OBJECT_TYPES,
    ObjectType,
    drift_event,
    find_drift,
    repair,
)
from pydantic import BaseModel, Field


class ReconcileSettings(SystemsSettings):
    repair_on_schedule: bool = Field(default=False, alias="RECONCILE_REPAIR")


class Entity(BaseModel):
    object_type: ObjectType
    canonical_id: str


class ReconcileRequest(BaseModel):
    objects: list[ObjectType] = Field(default_factory=lambda: list(OBJECT_TYPES))
    entities: list[Entity] | None = None  # None: every linked entity
    repair: bool | None = None  # None: the scheduled default


@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = ReconcileSettings.from_env()
    request = ReconcileRequest.model_validate({k: v for k, v in event.items() if k in ReconcileRequest.model_fields})
    systems = systems_for(settings)
    now = dt.datetime.now(dt.UTC)
    scope = [(e.object_type, e.canonical_id) for e in request.entities] if request.entities is not None else None
    found = find_drift(systems, request.objects, now.date(), scope)
    events = [drift_event(drift, settings.default_legal_entity, now) for drift in found]
    if events:
        systems.bus.publish(events)
    do_repair = settings.repair_on_schedule if request.repair is None else request.repair
    rows = []
    for drift, detected in zip(found, events, strict=True):
        row = {**drift.model_dump(mode="json"), "event_id": detected.id}
        if do_repair:
            row["repair"] = repair(drift, detected, systems, now)
        rows.append(row)
    metrics.add_metric(name="DriftFound", unit=MetricUnit.Count, value=len(found))
    logger.info("reconciled", objects=request.objects, drift=len(found), repaired=do_repair)
    return {"objects": request.objects, "repair": do_repair, "drift": rows}
