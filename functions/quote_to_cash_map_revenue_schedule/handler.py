"""Quote-to-cash step MapRevenueSchedule: applied where the ERP models revenue schedules,
recorded as not applicable (with the reason) where it does not."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from concord.aws.saga_steps import run_saga_step
from concord.catalog import SAGA
from concord.observability import logger, metrics, tracer
from concord.sync.quote_to_cash import map_revenue_schedule


@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_saga_step(SAGA.step("map_revenue_schedule"), event, context, map_revenue_schedule)
