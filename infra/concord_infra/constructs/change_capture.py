"""Scheduled change capture: the poller that closes the gaps push (webhooks) leaves."""

from __future__ import annotations

import json
from collections.abc import Callable

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from concord.events.types import Severity

from ..nag import acknowledge
from .data import DataTables
from .functions import ConcordFunction
from .ops import AlarmTopics


class ChangeCapture(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        prefix: str,
        make_function: Callable[..., ConcordFunction],
        tables: DataTables,
        bus: events.IEventBus,
        system_secrets: dict[str, secretsmanager.ISecret],
        systems_secret_prefix: str,
        watches: list[dict[str, str]],
        every_minutes: int,
        secret_cache_seconds: int,
        topics: AlarmTopics,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dlq = sqs.Queue(
            self,
            "UndeliveredRuns",
            queue_name=f"{prefix}-poll-changes-dlq",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge(self.dlq, "AwsSolutions-SQS3", "This queue is itself the dead-letter queue of the schedule.")
        topics.alarm(
            self,
            "RunsNotDelivered",
            metric=self.dlq.metric_approximate_number_of_messages_visible(period=Duration.minutes(5), statistic="Maximum"),
            name=f"{prefix}-poll-changes-dlq-not-empty",
            description="change capture: scheduled polls could not be delivered (webhook gaps stay open)",
            severity=Severity.WARNING,
        )
        self.function = make_function(
            "poll_changes",
            "Polls the systems for changes push missed and announces them",
            environment={
                "CHECKPOINTS_TABLE_NAME": tables.checkpoints.table_name,
                "EVENT_BUS_NAME": bus.event_bus_name,
                "SYSTEMS_SECRET_PREFIX": systems_secret_prefix,
                "SECRET_CACHE_SECONDS": str(secret_cache_seconds),
                "POLL_WATCHES": json.dumps(watches, sort_keys=True),
            },
            timeout=Duration.seconds(60),
        )
        function = self.function.function
        tables.checkpoints.grant(function, "dynamodb:GetItem", "dynamodb:PutItem")
        bus.grant_put_events_to(function)
        for secret in system_secrets.values():
            secret.grant_read(function)
        # A missed run is harmless (the next one catches up from the checkpoint); runs the
        # scheduler could not deliver are parked for an operator all the same.
        self.rule = events.Rule(
            self,
            "Schedule",
            rule_name=f"{prefix}-poll-changes",
            schedule=events.Schedule.rate(Duration.minutes(every_minutes)),
            targets=[targets.LambdaFunction(function, retry_attempts=2, dead_letter_queue=self.dlq)],
        )
