"""POST /webhooks/{source}: verify, normalize, publish once, answer as the vendor expects.

Only verification, normalization, PutEvents and (for what a delivery could not turn into
events) one audit-trail write happen before the response, so vendors get their
acknowledgement well inside their deadlines. Every refusal is a JSON body with a 4xx; an
unreachable bus or audit table is a 503 with Retry-After, so the vendor retries and nothing is
lost. Each source's scheme (ingress.schemes) decides how a delivery is verified and answered.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field, Json, ValidationError

from concord.aws.secrets import webhook_source_secret
from concord.clock import utc_now
from concord.errors import ConfigurationError, TransientError
from concord.ingress.delivery import Handshake, Reply
from concord.ingress.errors import DeliveryRejected
from concord.ingress.http import routed_path, webhook_request
from concord.ingress.publishing import publish_once
from concord.ingress.schemes import scheme_for
from concord.ingress.service import Limits, accept_delivery, find_source
from concord.ingress.sources import SourceConfig, parse_sources, secret_name
from concord.observability import bind_event, logger, metrics, tracer
from concord.settings import Settings

RETRY_AFTER_SECONDS = 30


class IngestSettings(Settings):
    event_bus_name: str = Field(alias="EVENT_BUS_NAME")
    idempotency_table_name: str = Field(alias="IDEMPOTENCY_TABLE_NAME")
    # Where deliveries that produced no canonical event are recorded (vendor sources).
    audit_table_name: str | None = Field(default=None, alias="AUDIT_TABLE_NAME")
    webhook_sources: Json[dict[str, Any]] = Field(alias="WEBHOOK_SOURCES")
    webhook_secret_prefix: str = Field(alias="WEBHOOK_SECRET_PREFIX")
    max_body_bytes: int = Field(default=256 * 1024, gt=0, le=6 * 1024 * 1024, alias="MAX_BODY_BYTES")
    # At least 25 h: a HubSpot v1 delivery signs no time, so its replays are stopped by remembering
    # its event ids for longer than the 25 h after which its events are refused as too old.
    remember_deliveries_seconds: int = Field(default=7 * 86400, ge=25 * 3600, alias="REMEMBER_DELIVERIES_SECONDS")
    secret_cache_seconds: int = Field(default=300, ge=0, le=3600, alias="SECRET_CACHE_SECONDS")

    def sources(self) -> dict[str, SourceConfig]:
        try:
            return parse_sources(self.webhook_sources)
        except ValidationError as error:
            raise ConfigurationError(f"WEBHOOK_SOURCES is invalid: {error.error_count()} problems") from error


app = APIGatewayRestResolver()


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers)


def _reply(reply: Reply) -> Response:
    return Response(
        status_code=reply.status, content_type=reply.content_type, body=reply.body, headers=dict(reply.headers)
    )


@app.post("/webhooks/<source>")
def receive_webhook(source: str) -> Response:
    settings = IngestSettings.from_env()
    config = find_source(settings.sources(), source)
    metrics.add_dimension(name="source", value=source)
    request = webhook_request(app.current_event.raw_event, source, config.public_url)
    secret = webhook_source_secret(
        secret_name(settings.webhook_secret_prefix, source), config.scheme, settings.secret_cache_seconds
    )
    outcome = accept_delivery(
        request, config, secret, now=utc_now(), limits=Limits(max_body_bytes=settings.max_body_bytes)
    )
    if isinstance(outcome, Handshake):
        metrics.add_metric(name="WebhookHandshakes", unit=MetricUnit.Count, value=1)
        logger.info("subscription handshake answered", source=source)
        return _reply(outcome.reply)
    scheme = scheme_for(config.scheme)
    if outcome.events:
        first = outcome.events[0]
        bind_event(first.id, first.correlation_id, first.type)
    result: dict[str, Any] = {"delivery_id": outcome.delivery_id, "events": [], "unprocessed": 0}
    if outcome.has_effect:
        result = publish_once(
            outcome,
            bus_name=settings.event_bus_name,
            idempotency_table=settings.idempotency_table_name,
            remember_seconds=settings.remember_deliveries_seconds,
            audit_table=settings.audit_table_name,
        )

    metrics.add_metric(name="WebhooksAccepted", unit=MetricUnit.Count, value=1)
    if outcome.unprocessed:
        metrics.add_metric(name="WebhookItemsUnprocessed", unit=MetricUnit.Count, value=len(outcome.unprocessed))
    logger.info(
        "delivery accepted",
        source=source,
        delivery_id=outcome.delivery_id,
        events=len(outcome.events),
        unprocessed=len(outcome.unprocessed),
    )
    return _reply(scheme.reply(outcome, result))


@app.exception_handler(DeliveryRejected)
def refuse(error: DeliveryRejected) -> Response:
    metrics.add_metric(name="WebhooksRejected", unit=MetricUnit.Count, value=1)
    if error.status == HTTPStatus.UNAUTHORIZED:
        # Per source (its dimension): a surge alarms (infra IngressAlarms).
        metrics.add_metric(name="SignatureFailures", unit=MetricUnit.Count, value=1)
    logger.info("delivery rejected", status=error.status, code=error.code, reason=error.message)
    body: dict[str, Any] = {"error": error.code, "message": error.message}
    if error.details:
        body["details"] = error.details
    return _json(error.status, body)


@app.exception_handler([TransientError, ConfigurationError])
def ask_to_retry(error: Exception) -> Response:
    # Nothing was acknowledged: the vendor's retry delivers it again.
    metrics.add_metric(name="WebhooksDeferred", unit=MetricUnit.Count, value=1)
    logger.warning("delivery deferred", error_type=type(error).__name__, reason=str(error))
    return _json(
        HTTPStatus.SERVICE_UNAVAILABLE,
        {"error": "temporarily_unavailable", "message": "try again later"},
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


@app.exception_handler(Exception)
def fail_safely(error: Exception) -> Response:
    logger.exception("unexpected error while ingesting a webhook")
    return _json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "internal_error", "message": "internal error"})


@app.not_found
def no_route(_: Exception) -> Response:
    return _json(HTTPStatus.NOT_FOUND, {"error": "not_found", "message": "no such route"})


@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # Route on the resource API Gateway matched, not on the raw path (custom domains with a
    # base-path mapping prefix it); requestContext.path keeps the path the vendor called.
    return app.resolve({**event, "path": routed_path(event)}, context)
