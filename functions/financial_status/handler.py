"""Invoice posted / payment received (ERP) → financial status of the deal (CRM) and the
project (PSA)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from concord.aws.flows import consume_each
from concord.catalog import FINANCIAL_STATUS
from concord.clock import utc_now
from concord.observability import logger, metrics, tracer
from concord.sync.financials import propagate


@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return consume_each(
        event,
        context,
        consumer=FINANCIAL_STATUS.name,
        apply=lambda canonical, systems: propagate(canonical, systems, utc_now().date()),
    )
