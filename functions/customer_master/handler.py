"""Account changed (CRM) → ERP customer and PSA client, under the system-of-record rules."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from concord.aws.flows import consume_each
from concord.catalog import CUSTOMER_MASTER
from concord.clock import utc_now
from concord.observability import logger, metrics, tracer
from concord.sync.customer_master import sync_customer


@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return consume_each(
        event,
        context,
        consumer=CUSTOMER_MASTER.name,
        apply=lambda canonical, systems: sync_customer(canonical, systems, utc_now()),
    )
