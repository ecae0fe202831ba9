"""Starts the quote-to-cash saga for each OpportunityClosedWon event (SQS, partial batch
failures). The execution is named after the event: a duplicated trigger starts nothing."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from concord.aws.clients import client
from concord.aws.consumer import ConsumerSettings, RecordingBatchProcessor, parse_bus_record
from concord.aws.sagas import start_saga
from concord.catalog import QUOTE_TO_CASH
from concord.errors import ValidationFailed
from concord.events.envelope import OpportunityClosedWonEvent
from concord.observability import bind_event, logger, metrics, tracer
from concord.stores.audit import AuditTrail
from concord.sync.quote_to_cash import TRIGGER_ACCEPTS

CONSUMER = QUOTE_TO_CASH.name


class StartSettings(ConsumerSettings):
    state_machine_arn: str = Field(alias="STATE_MACHINE_ARN")


def start(record: SQSRecord, state_machine_arn: str) -> bool:
    event = parse_bus_record(record, TRIGGER_ACCEPTS)
    if not isinstance(event, OpportunityClosedWonEvent):
        raise ValidationFailed(f"expected OpportunityClosedWon, got {event.type}")
    bind_event(event.id, event.correlation_id, event.type)
    started = start_saga(client("stepfunctions"), state_machine_arn, event)
    metrics.add_metric(name="SagasStarted" if started else "DuplicateTriggersIgnored", unit=MetricUnit.Count, value=1)
    return started


@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    settings = StartSettings.from_env()
    trail = AuditTrail(client("dynamodb"), settings.audit_table_name)
    return process_partial_response(
        event=event,
        record_handler=lambda record: start(record, settings.state_machine_arn),
        processor=RecordingBatchProcessor(CONSUMER, trail, settings),
        context=context,
    )
