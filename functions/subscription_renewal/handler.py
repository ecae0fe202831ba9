"""Keeps the ERP's Business Central webhook subscriptions alive: creates the configured ones
that are missing and renews those expiring within a day (they lapse after 3 days).

Runs on a schedule (EventBridge); deployed only for a stage whose ERP is Business Central
(cdk.json `business_central_subscriptions`). Reads the ERP connection secret only.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from concord.aws.systems import ConnectorSettings
from concord.clock import utc_now
from concord.connectors.registry import Role, SystemSecrets, keep_subscriptions
from concord.observability import logger, metrics, tracer


@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = ConnectorSettings.from_env()
    secrets = SystemSecrets(
        prefix=settings.systems_secret_prefix,
        cache_seconds=settings.secret_cache_seconds,
        default_legal_entity=settings.default_legal_entity,
        rate_budget_table=settings.rate_budget_table_name,
    )
    kept = keep_subscriptions(secrets, Role.ERP, utc_now())
    metrics.add_metric(name="SubscriptionsRenewed", unit=MetricUnit.Count, value=len(kept.renewed))
    expiries = {s.resource: s.expirationDateTime.isoformat() for s in kept.ensured}
    logger.info("subscriptions kept alive", renewed=len(kept.renewed), expiries=expiries)
    return {
        "subscriptions": [{"resource": s.resource, "expires": s.expirationDateTime.isoformat()} for s in kept.ensured],
        "renewed": len(kept.renewed),
    }
