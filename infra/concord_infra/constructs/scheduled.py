"""A function run on a schedule (EventBridge rule), with the runs it could not deliver parked."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_sqs as sqs
from concord.events.types import Severity
from constructs import Construct

from ..nag import acknowledge
from .functions import ConcordFunction
from .ops import AlarmTopics


class ScheduledRuns(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        function: ConcordFunction,
        every: Duration,
        topics: AlarmTopics,
        missed_means: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dlq = sqs.Queue(
            self,
            "UndeliveredRuns",
            queue_name=f"{name}-dlq",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge(self.dlq, "AwsSolutions-SQS3", "This queue is itself the dead-letter queue of the schedule.")
        topics.alarm(
            self,
            "RunsNotDelivered",
            metric=self.dlq.metric_approximate_number_of_messages_visible(period=Duration.minutes(5), statistic="Maximum"),
            name=f"{name}-dlq-not-empty",
            description=f"{name}: scheduled runs could not be delivered ({missed_means})",
            severity=Severity.WARNING,
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
