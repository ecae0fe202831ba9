"""Approved time and expenses (PSA) → lines on the project's draft invoice in the ERP, billed
in batches; a line that fails alone goes back to its queue (then the DLQ) with its reason."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from concord.aws.flows import consume_batch
from concord.catalog import BILLING
from concord.observability import logger, metrics, tracer
from concord.sync.billing import bill


@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return consume_batch(event, context, consumer=BILLING.name, apply=bill)
