"""Records every canonical event on the bus in the sync audit trail, once, with what the mappings
of the stage's connectors (RENDERED_CONNECTORS; unset: every connector) render for it when
LEGAL_ENTITIES and SYSTEM_OF_RECORD are set (concord.mappings).

Triggered by SQS (fed by an EventBridge rule matching all of Concord's events) with partial
batch failures; a record that keeps failing is parked in the queue's DLQ with its reason.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from concord.aws.clients import client
from concord.aws.consumer import ConsumerSettings, RecordingBatchProcessor, delivery_timings, parse_bus_record
from concord.catalog import AUDIT_TRAIL
from concord.events.versions import AS_SENT, as_current
from concord.mappings.inputs import MappingConfig, MappingSettings
from concord.mappings.render import rendering_to_keep
from concord.observability import bind_event, logger, metrics, tracer
from concord.stores.audit import AuditTrail

CONSUMER = AUDIT_TRAIL.name


def record_event(record: SQSRecord, trail: AuditTrail, mappings: MappingConfig | None = None) -> bool:
    """Record the event once, as it was published (every version that is not retired, not
    upcast), with what the deployed mappings render for it (the baseline of `concord mappings
    diff`; the mappers read the current version, as the consumers do)."""
    event = parse_bus_record(record, AS_SENT)
    bind_event(event.id, event.correlation_id, event.type)
    rendering = rendering_to_keep(as_current(event), mappings)
    recorded = trail.record_event(event, delivery_timings(record), rendering)
    if not recorded:
        metrics.add_metric(name="DuplicateEventsSkipped", unit=MetricUnit.Count, value=1)
    return recorded


@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    settings = ConsumerSettings.from_env()
    trail = AuditTrail(client("dynamodb"), settings.audit_table_name)
    processor = RecordingBatchProcessor(CONSUMER, trail, settings)
    mappings = MappingSettings.from_env().config()
    return process_partial_response(
        event=event,
        record_handler=lambda record: record_event(record, trail, mappings),
        processor=processor,
        context=context,
    )
