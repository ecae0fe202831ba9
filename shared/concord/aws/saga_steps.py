"""Running one saga step inside its Lambda function: settings, systems, idempotency, errors.

The state machine invokes each step with {"execution": <execution name>, "state": <saga
state>}; the step's result is idempotent per (execution, step), so a Task that Step
Functions retries after the work was done gets the first result back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
)
from pydantic import BaseModel

from .. import catalog
from ..observability import bind_event, logger
from ..sync.quote_to_cash import SagaState
from ..sync.saga import SagaStepInProgress, run_step
from ..sync.systems import Systems
from .idempotency import run_once
from .systems import SystemsSettings, systems_for

StepFunction = Callable[[SagaState, Systems], BaseModel]


def run_saga_step(step_of: catalog.Step, event: dict[str, Any], context: Any, step: StepFunction) -> dict[str, Any]:
    """Run `step`, the work of the catalog's step `step_of`, once per (execution, step)."""
    name = step_of.state
    settings = SystemsSettings.from_env()
    execution = str(event.get("execution", ""))
    state = run_step(lambda: SagaState.model_validate(event.get("state", {})))
    bind_event(state.event.id, state.event.correlation_id, state.event.type)
    logger.append_keys(saga_step=name, execution=execution)

    def execute(_: dict[str, Any]) -> dict[str, Any]:
        return run_step(lambda: step(state, systems_for(settings))).model_dump(mode="json")

    try:
        result = run_once(
            execute,
            {"execution": execution, "step": name},
            table_name=settings.idempotency_table_name,
            key_jmespath="[execution, step]",
            lambda_context=context,
            expires_after_seconds=7 * 86400,
        )
    except IdempotencyAlreadyInProgressError as error:
        raise SagaStepInProgress(f"{name} of {execution} is still marked in progress") from error
    logger.info("saga step done", result_keys=sorted(result))
    return result
