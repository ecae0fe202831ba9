"""Running an event flow in its SQS-triggered Lambda function.

Every flow is: bus rule → queue (+ DLQ) → function, with partial batch failures and a reason
and back-off for each failed record (RecordingBatchProcessor). Two shapes:
  - `consume_each`: one event at a time, at most once per (flow, event id) through Powertools
    Idempotency, so a redelivered event costs no calls to the systems;
  - `consume_batch`: the whole batch is handed to the flow (to batch the calls to a target),
    which returns an outcome per record; the processor then reports each record on its own.
    A flow whose queue also takes another shape of message (a vendor's events on a partner
    bus) passes its own `parse`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
)
from pydantic import BaseModel

from ..errors import TransientError
from ..events import Envelope
from ..observability import bind_event
from ..stores.audit import AuditTrail
from ..sync.systems import Systems
from .clients import client
from .consumer import ConsumerSettings, RecordingBatchProcessor, parse_bus_record
from .idempotency import run_once
from .systems import SystemsSettings, systems_for

ApplyOne = Callable[[Envelope, Systems], BaseModel]
type ApplyBatch[T] = Callable[[Sequence[tuple[Hashable, T]], Systems], Mapping[Hashable, BaseModel | Exception]]


class FlowSettings(ConsumerSettings, SystemsSettings):
    pass


def _processor(consumer: str, settings: FlowSettings) -> RecordingBatchProcessor:
    trail = AuditTrail(client("dynamodb"), settings.audit_table_name)
    return RecordingBatchProcessor(consumer, trail, settings)


def consume_each(event: dict[str, Any], context: Any, *, consumer: str, apply: ApplyOne) -> PartialItemFailureResponse:
    settings = FlowSettings.from_env()
    systems = systems_for(settings)

    def handle(record: SQSRecord) -> dict[str, Any]:
        canonical = parse_bus_record(record)
        bind_event(canonical.id, canonical.correlation_id, canonical.type)
        try:
            return run_once(
                lambda _: apply(canonical, systems).model_dump(mode="json"),
                {"consumer": consumer, "event_id": canonical.id},
                table_name=settings.idempotency_table_name,
                key_jmespath="[consumer, event_id]",
                lambda_context=context,
                expires_after_seconds=7 * 86400,
            )
        except IdempotencyAlreadyInProgressError as error:
            raise TransientError(f"event {canonical.id} is being applied by another attempt") from error

    return process_partial_response(
        event=event, record_handler=handle, processor=_processor(consumer, settings), context=context
    )


def consume_batch[T](
    event: dict[str, Any],
    context: Any,
    *,
    consumer: str,
    apply: ApplyBatch[T],
    parse: Callable[[SQSRecord], T] = parse_bus_record,  # type: ignore[assignment]
) -> PartialItemFailureResponse:
    settings = FlowSettings.from_env()
    outcomes: dict[Hashable, BaseModel | Exception] = {}
    parsed: list[tuple[Hashable, T]] = []
    for raw in event.get("Records", []):
        record = SQSRecord(raw)
        try:
            parsed.append((record.message_id, parse(record)))
        except Exception as error:  # noqa: BLE001 - reported for this record by the processor
            outcomes[record.message_id] = error
    if parsed:
        outcomes.update(apply(parsed, systems_for(settings)))

    def handle(record: SQSRecord) -> dict[str, Any]:
        outcome = outcomes[record.message_id]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome.model_dump(mode="json")

    return process_partial_response(
        event=event, record_handler=handle, processor=_processor(consumer, settings), context=context
    )
