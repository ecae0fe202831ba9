"""Quote-to-cash step PublishProjectActivated: announce the active project on the bus."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from concord.aws.saga_steps import run_saga_step
from concord.catalog import SAGA
from concord.clock import utc_now
from concord.observability import logger, metrics, tracer
from concord.sync.quote_to_cash import publish_project_activated


@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_saga_step(
        SAGA.step("publish_project_activated"),
        event,
        context,
        lambda state, systems: publish_project_activated(state, systems, utc_now()),
    )
