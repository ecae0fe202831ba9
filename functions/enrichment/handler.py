"""Records a system named without their content (ChangeNotified; Salesforce change events
relayed to EventBridge) → the business events polling would announce, with the same ids."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from concord.aws.clients import client
from concord.aws.flows import consume_batch
from concord.catalog import ENRICHMENT
from concord.ingress.change_notices import EnrichmentSettings, notice_parser, relays_of
from concord.observability import logger, metrics, tracer
from concord.stores.checkpoints import Checkpoints
from concord.sync.enrichment import enrich_each


@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    settings = EnrichmentSettings.from_env()
    table = settings.checkpoints_table_name
    checkpoints = Checkpoints(client("dynamodb"), table) if table else None
    return consume_batch(
        event,
        context,
        consumer=ENRICHMENT.name,
        parse=notice_parser(relays_of(settings)),
        apply=lambda messages, systems: enrich_each(
            messages, (systems.crm, systems.psa, systems.erp), systems.bus, settings.default_legal_entity,
            checkpoints=checkpoints,
        ),
    )
