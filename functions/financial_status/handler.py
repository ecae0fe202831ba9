"""Invoice posted / payment received (ERP) → financial status of the deal (CRM) and the
project (PSA), a batch at a time: one status write per system per batch, only where it changed
(a redelivered event is answered from the registry's invoice states)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from concord.aws.flows import consume_batch
from concord.catalog import FINANCIAL_STATUS
from concord.clock import utc_now
from concord.observability import logger, metrics, tracer
from concord.sync.financials import propagate_batch


@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return consume_batch(
        event,
        context,
        consumer=FINANCIAL_STATUS.name,
        apply=lambda records, systems: propagate_batch(records, systems, utc_now().date()),
    )
