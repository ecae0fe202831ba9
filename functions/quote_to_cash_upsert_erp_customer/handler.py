"""Quote-to-cash step UpsertErpCustomer: create or update the ERP customer and link it."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from concord.aws.saga_steps import run_saga_step
from concord.catalog import SAGA
from concord.observability import logger, metrics, tracer
from concord.sync.quote_to_cash import upsert_erp_customer


@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_saga_step(SAGA.step("upsert_erp_customer"), event, context, upsert_erp_customer)
