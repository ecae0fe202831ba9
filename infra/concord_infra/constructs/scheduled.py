"""A function run on a schedule (EventBridge rule, an asynchronous invocation), with the runs it
could not deliver and the runs that failed parked in one queue, and alarms on both."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from concord.catalog import Flow, Schedule

from ..nag import acknowledge, skip_checkov
from .consumer import accept_sqs_managed_encryption
from .functions import ConcordFunction
from .ops import AlarmTopics

# Lambda's own retries of a failed asynchronous invocation (its default, stated).
ASYNC_RETRY_ATTEMPTS = 2


class ScheduledRuns(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        flow: Flow,
        prefix: str,
        function: ConcordFunction,
        every: Duration,
        topics: AlarmTopics,
    ) -> None:
        super().__init__(scope, construct_id)
        if not isinstance(flow.trigger, Schedule):
            raise ValueError(f"{flow.name} is triggered by events, not a schedule")
        name, missed_means = flow.physical_name(prefix), flow.trigger.missed_means
        # Queue `<name>-dlq`: `concord status` and `concord exceptions` list it with its flow.
        self.dlq = sqs.Queue(
            self,
            "UndeliveredRuns",
            queue_name=f"{name}-dlq",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge(self.dlq, "AwsSolutions-SQS3", "This queue is itself the dead-letter queue of the schedule.")
        accept_sqs_managed_encryption(self.dlq)
        topics.alarm(
            self,
            "RunsNotDelivered",
            metric=self.dlq.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(5), statistic="Maximum"
            ),
            name=f"{name}-dlq-not-empty",
            description=f"{name}: scheduled runs failed or could not be delivered ({missed_means})",
            severity=flow.severity,
        )
        # A run that fails after Lambda's retries is recorded there too, with its error
        # (on-failure destination of asynchronous invocation):
        # https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
        function.function.configure_async_invoke(
            on_failure=destinations.SqsDestination(self.dlq), retry_attempts=ASYNC_RETRY_ATTEMPTS
        )
        skip_checkov(
            function.function,
            "CKV_AWS_116",
            f"Its asynchronous failures go to the on-failure destination {name}-dlq "
            "(AWS::Lambda::EventInvokeConfig, which this check does not read), which alarms.",
        )
        topics.alarm(
            self,
            "RunsFailed",
            metric=function.function.metric_errors(period=min(every, Duration.hours(1), key=lambda d: d.to_seconds())),
            name=f"{name}-failed",
            description=f"{name}: a scheduled run failed ({missed_means}); see its log and {name}-dlq",
            severity=flow.severity,
        )
        # A missed run is caught up by the next; runs the scheduler could not deliver are
        # parked for an operator all the same.
        self.rule = events.Rule(
            self,
            "Schedule",
            rule_name=name,
            schedule=events.Schedule.rate(every),
            targets=[targets.LambdaFunction(function.function, retry_attempts=2, dead_letter_queue=self.dlq)],
        )
