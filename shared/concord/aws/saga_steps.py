"""Running one saga step inside its Lambda function: settings, systems, idempotency, errors.

The state machine invokes each step with {"execution": <execution name>, "state": <saga
state>}; the step's result is idempotent per (execution, step), so a Task that Step
Functions retries after the work was done gets the first result back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError
from pydantic import BaseModel, Field

from ..connectors.registry import systems_from_secrets
from ..observability import bind_event, logger
from ..settings import Settings
from ..sync.quote_to_cash import SagaState, Systems
from ..sync.rules import parse_rules
from ..sync.saga import SagaStepInProgress, run_step
from .bus import EventBusPublisher
from .clients import client
from .idempotency import run_once
from .xref import DynamoCrossReferences

Step = Callable[[SagaState, Systems], BaseModel]


class SagaSettings(Settings):
    idempotency_table_name: str = Field(alias="IDEMPOTENCY_TABLE_NAME")
    xref_table_name: str = Field(alias="XREF_TABLE_NAME")
    event_bus_name: str = Field(alias="EVENT_BUS_NAME")
    systems_secret_prefix: str = Field(alias="SYSTEMS_SECRET_PREFIX")
    legal_entities: str = Field(alias="LEGAL_ENTITIES")  # JSON: legal entity -> LegalEntityRules
    secret_cache_seconds: int = Field(default=300, ge=0, alias="SECRET_CACHE_SECONDS")


@cache
def _systems(settings: SagaSettings) -> Systems:
    """Connectors keep their sessions across invocations of a warm function."""
    crm, psa, erp = systems_from_secrets(settings.systems_secret_prefix, settings.secret_cache_seconds)
    return Systems(
        crm=crm,
        psa=psa,
        erp=erp,
        xref=DynamoCrossReferences(client("dynamodb"), settings.xref_table_name),
        bus=EventBusPublisher(settings.event_bus_name, client("events")),
        rules=parse_rules(settings.legal_entities),
    )


def run_saga_step(name: str, event: dict[str, Any], context: Any, step: Step) -> dict[str, Any]:
    settings = SagaSettings.from_env()
    execution = str(event.get("execution", ""))
    state = run_step(lambda: SagaState.model_validate(event.get("state", {})))
    bind_event(state.event.id, state.event.correlation_id, state.event.type)
    logger.append_keys(saga_step=name, execution=execution)

    def execute(_: dict[str, Any]) -> dict[str, Any]:
        return run_step(lambda: step(state, _systems(settings))).model_dump(mode="json")

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


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
