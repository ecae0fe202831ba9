"""Quote-to-cash failure report: a SyncExceptionRaised event with reason and severity."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from concord.aws.saga_steps import run_saga_step
from concord.catalog import SAGA
from concord.clock import utc_now
from concord.observability import logger, metrics, tracer
from concord.sync.quote_to_cash import FLOW, raise_exception


@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = run_saga_step(
        SAGA.step("raise_exception"), event, context, lambda state, systems: raise_exception(state, systems, utc_now())
    )
    metrics.add_dimension(name="flow", value=FLOW)
    metrics.add_metric(name="SyncExceptions", unit=MetricUnit.Count, value=1)
    return result
