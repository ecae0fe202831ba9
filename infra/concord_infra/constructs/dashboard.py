"""Operations dashboard: one screen per stage with ingress, each flow's queues and outcomes,
sagas and exceptions."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_stepfunctions as sfn
from concord.catalog import INGRESS, SAGA
from constructs import Construct

from concord.naming import Names

from .consumer import EventConsumer
from .functions import METRICS_NAMESPACE


class OperationsDashboard(Construct):
    """One screen per stage: ingress, each flow's queues and outcomes, sagas, exceptions."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        names: Names,
        api: apigw.RestApi,
        consumers: list[EventConsumer],
        state_machines: list[sfn.StateMachine],
    ) -> None:
        super().__init__(scope, construct_id)
        five_minutes = Duration.minutes(5)
        dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=names.dashboard)

        def concord_metric(name: str, service: str, label: str) -> cloudwatch.IMetric:
            # Powertools publishes each metric with a `service` dimension (plus others, e.g.
            # `source`); SEARCH sums every series of that name and service.
            return cloudwatch.MathExpression(
                expression=f"SUM(SEARCH('{{{METRICS_NAMESPACE},service}} MetricName=\"{name}\" service=\"{service}\"', 'Sum', 300))",
                label=label,
                period=five_minutes,
            )

        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Webhooks: accepted, refused, deferred (503)",
                left=[
                    concord_metric("WebhooksAccepted", INGRESS, "accepted"),
                    concord_metric("WebhooksRejected", INGRESS, "refused (4xx)"),
                    concord_metric("WebhooksDeferred", INGRESS, "deferred (503)"),
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Webhook latency at API Gateway (p50, p95)",
                left=[api.metric_latency(statistic="p50", period=five_minutes), api.metric_latency(statistic="p95", period=five_minutes)],
                width=12,
            ),
        )
        for consumer in consumers:
            dashboard.add_widgets(
                cloudwatch.GraphWidget(
                    title=f"{consumer.name}: records applied and failed (failed = mapping or target errors)",
                    left=[
                        concord_metric("RecordsApplied", consumer.name, "applied"),
                        concord_metric("RecordsFailed", consumer.name, "failed attempts"),
                    ],
                    width=12,
                ),
                cloudwatch.GraphWidget(
                    title=f"{consumer.name}: retry queue and DLQ",
                    left=[
                        consumer.queue.metric_approximate_number_of_messages_visible(period=five_minutes, label="waiting"),
                        consumer.dlq.metric_approximate_number_of_messages_visible(period=five_minutes, label="parked in DLQ"),
                    ],
                    right=[consumer.queue.metric_approximate_age_of_oldest_message(period=five_minutes, label="oldest (s)")],
                    width=12,
                ),
            )
        for machine in state_machines:
            dashboard.add_widgets(
                cloudwatch.GraphWidget(
                    title=f"{machine.node.id}: sagas",
                    left=[
                        machine.metric_succeeded(period=five_minutes, label="completed"),
                        machine.metric_failed(period=five_minutes, label="failed (compensated)"),
                        machine.metric_timed_out(period=five_minutes, label="timed out"),
                    ],
                    right=[machine.metric_time(statistic="p95", period=five_minutes, label="p95 duration (ms)")],
                    width=12,
                ),
                cloudwatch.GraphWidget(
                    title="Business exceptions raised (SyncExceptionRaised)",
                    left=[concord_metric("SyncExceptions", SAGA.folder(SAGA.raise_exception), SAGA.flow.label)],
                    width=12,
                ),
            )
