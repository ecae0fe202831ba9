"""Alarms on the webhook ingest path, routed by business severity like the DLQ alarms.

A webhook the API cannot take is retried by its vendor for a while, then lost: the ingest
path failing is HIGH (every flow starts there); throttles and signature failures are WARNING
(a burst the vendor retries; a wrong secret after a rotation, or someone probing).
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from concord.events.types import Severity
from concord.naming import Names
from constructs import Construct

from .functions import METRICS_NAMESPACE, ConcordFunction
from .ops import AlarmTopics

PERIOD = Duration.minutes(5)
INGEST_SERVICE = "webhook_ingest"  # Powertools' `service` dimension of the ingest function
# 503 answers (bus, secret store or audit table unreachable) in 5 minutes that alarm: one is
# a blip the vendor's retry absorbs; several mean the path is down.
DEFERRALS_THRESHOLD = 5


class IngressAlarms(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        names: Names,
        api: apigw.RestApi,
        function: ConcordFunction,
        sources: Sequence[str],
        topics: AlarmTopics,
        signature_failures_threshold: int,
    ) -> None:
        super().__init__(scope, construct_id)
        name = names.webhooks_api
        # API Gateway metrics: https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html
        topics.alarm(
            self,
            "Api5xx",
            metric=api.metric_server_error(period=PERIOD, statistic="Sum"),
            name=f"{name}-5xx",
            description="webhook API answered 5xx (incl. 503 deferrals): vendors retry, then give up",
            severity=Severity.HIGH,
        )
        # WebhooksDeferred is published with the `source` dimension, or without it when the
        # source configuration itself is broken: a Metrics Insights query sums every series.
        # https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-metrics-insights-alarms.html
        topics.alarm(
            self,
            "Deferrals",
            metric=cloudwatch.MathExpression(
                expression=f"SELECT SUM(WebhooksDeferred) FROM {METRICS_NAMESPACE} WHERE service = '{INGEST_SERVICE}'",
                period=PERIOD,
                label="deliveries deferred (503)",
                using_metrics={},
            ),
            name=f"{name}-deferred",
            description="webhook deliveries answered 503: the bus, secret store or audit table is unreachable",
            severity=Severity.HIGH,
            threshold=DEFERRALS_THRESHOLD,
        )
        topics.alarm(
            self,
            "FunctionErrors",
            metric=function.function.metric_errors(period=PERIOD),
            name=f"{name}-ingest-errors",
            description="the ingest function failed (crash, timeout): the vendor got a 5xx",
            severity=Severity.HIGH,
        )
        topics.alarm(
            self,
            "FunctionThrottles",
            metric=function.function.metric_throttles(period=PERIOD),
            name=f"{name}-ingest-throttles",
            description="the ingest function was throttled: deliveries refused until the vendor retries",
            severity=Severity.WARNING,
        )
        for source in sources:
            topics.alarm(
                self,
                f"SignatureFailures-{source}",
                metric=cloudwatch.Metric(
                    namespace=METRICS_NAMESPACE,
                    metric_name="SignatureFailures",
                    dimensions_map={"service": INGEST_SERVICE, "source": source},
                    statistic="Sum",
                    period=PERIOD,
                ),
                name=f"{name}-{source}-signature-failures",
                description=f"{source}: many deliveries failed signature checks (a wrong secret after a "
                "rotation, or someone probing the endpoint)",
                severity=Severity.WARNING,
                threshold=signature_failures_threshold,
            )
