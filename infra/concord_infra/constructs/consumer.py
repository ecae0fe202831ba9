"""An event flow's delivery: bus rule → SQS queue (+ DLQ) → Lambda, with alarms.

The event source mapping reports batch item failures; a message that fails
`max_receive_count` times is parked in the DLQ, and a DLQ that holds anything alarms at the
flow's business severity.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from concord.catalog import Events, Flow
from concord.naming import Names

from ..nag import skip_checkov
from .functions import ConcordFunction
from .ops import AlarmTopics

DLQ_RETENTION = Duration.days(14)


def accept_sqs_managed_encryption(queue: sqs.Queue) -> None:
    skip_checkov(
        queue,
        "CKV_AWS_27",
        "Encrypted at rest with SQS-managed keys (SqsManagedSseEnabled). A customer-managed key would "
        "have to be granted to every producer (EventBridge, Lambda destinations) and adds no boundary.",
    )


class EventConsumer(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        flow: Flow,
        names: Names,
        bus: events.IEventBus,
        function: ConcordFunction,
        topics: AlarmTopics,
        max_receive_count: int,
    ) -> None:
        """The event source runs at most as many of the function at once as its reserved
        concurrency, so messages wait in the queue rather than being throttled into the DLQ."""
        super().__init__(scope, construct_id)
        if not isinstance(flow.trigger, Events):
            raise ValueError(f"{flow.name} runs on a schedule, not from the bus")
        self.flow = flow
        self.name = name = flow.name
        severity = flow.severity
        queue_name = flow.physical_name(names.prefix)
        self.dlq = sqs.Queue(
            self,
            "Dlq",
            queue_name=names.dlq(name),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DLQ_RETENTION,
        )
        # Lambda's guidance: visibility timeout at least 6x the function timeout.
        self.queue = sqs.Queue(
            self,
            "Queue",
            queue_name=queue_name,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(function.timeout.to_seconds() * 6),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dlq, max_receive_count=max_receive_count),
        )
        self.rule = events.Rule(
            self,
            "Rule",
            rule_name=queue_name,
            event_bus=bus,
            event_pattern=events.EventPattern(
                source=list(flow.trigger.sources), detail_type=list(flow.trigger.detail_types) or None
            ),
            # Events the bus cannot deliver to the queue are parked in the same DLQ.
            targets=[targets.SqsQueue(self.queue, dead_letter_queue=self.dlq)],
        )
        function.function.add_event_source(
            sources.SqsEventSource(
                self.queue,
                batch_size=flow.batch_size,
                max_batching_window=(
                    Duration.seconds(flow.batching_window_seconds) if flow.batching_window_seconds else None
                ),
                report_batch_item_failures=True,
                max_concurrency=function.reserved_concurrency,
            )
        )
        skip_checkov(
            function.function,
            "CKV_AWS_116",
            "Invoked synchronously by its queue's event source mapping: a failed message returns to the "
            "queue and, after max_receive_count attempts, is parked in the queue's DLQ, which alarms.",
        )
        for queue in (self.queue, self.dlq):
            accept_sqs_managed_encryption(queue)
        self.queue.grant(function.function, "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl")

        topics.alarm(
            self,
            "DlqNotEmpty",
            metric=self.dlq.metric_approximate_number_of_messages_visible(period=Duration.minutes(1), statistic="Maximum"),
            name=f"{queue_name}-dlq-not-empty",
            description=f"{name}: messages parked in the DLQ need an operator ({severity.value})",
            severity=severity,
        )
        topics.alarm(
            self,
            "Backlog",
            metric=self.queue.metric_approximate_age_of_oldest_message(period=Duration.minutes(5), statistic="Maximum"),
            name=f"{queue_name}-backlog-age",
            description=f"{name}: oldest message older than 15 minutes",
            severity=severity,
            threshold=900,
        )
