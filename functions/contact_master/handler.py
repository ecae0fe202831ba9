"""Contact changed (CRM) → the ERP customer's and PSA client's contacts, under the
system-of-record rules, a batch at a time: each contact once, for its newest change."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from concord.aws.flows import consume_batch
from concord.catalog import CONTACT_MASTER
from concord.clock import utc_now
from concord.observability import logger, metrics, tracer
from concord.sync.contacts import sync_contacts


@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return consume_batch(
        event,
        context,
        consumer=CONTACT_MASTER.name,
        apply=lambda records, systems: sync_contacts(records, systems, utc_now()),
    )
