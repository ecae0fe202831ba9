"""Staffing and contract changes (PSA) → the project's cost forecast and contract terms in the
ERP, a batch at a time (the newest change per project); a contract change that needs approval
is raised as an exception instead."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from concord.aws.flows import consume_batch
from concord.catalog import PROJECT_TERMS
from concord.clock import utc_now
from concord.observability import logger, metrics, tracer
from concord.sync.project_terms import apply_terms_batch


@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return consume_batch(
        event,
        context,
        consumer=PROJECT_TERMS.name,
        apply=lambda records, systems: apply_terms_batch(records, systems, utc_now()),
    )
