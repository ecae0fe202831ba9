"""Service item changed (ERP) → the CRM's and PSA's catalogues, a batch at a time: each item
once, for its newest change."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from concord.aws.flows import consume_batch
from concord.catalog import SERVICE_ITEMS
from concord.observability import logger, metrics, tracer
from concord.sync.service_items import sync_service_items


@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return consume_batch(event, context, consumer=SERVICE_ITEMS.name, apply=sync_service_items)
