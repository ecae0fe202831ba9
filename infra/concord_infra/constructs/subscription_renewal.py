"""Scheduled renewal of the ERP's Business Central webhook subscriptions (deployed only for a
stage whose ERP is Business Central: cdk.json `business_central_subscriptions`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from aws_cdk import Duration
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from concord.catalog import SUBSCRIPTION_RENEWAL
from concord.naming import Names

from .functions import ConcordFunction
from .ops import AlarmTopics
from .scheduled import ScheduledRuns


class SubscriptionRenewal(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        names: Names,
        make_function: Callable[..., ConcordFunction],
        system_secrets: Mapping[str, secretsmanager.ISecret],
        connector_environment: dict[str, str],
        every_hours: int,
        topics: AlarmTopics,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = make_function(
            SUBSCRIPTION_RENEWAL.folder,
            SUBSCRIPTION_RENEWAL.description,
            environment=connector_environment,
            timeout=Duration.seconds(SUBSCRIPTION_RENEWAL.timeout_seconds),
            scope=self,
        )
        # The ERP connection's secret (it holds the subscription settings) and nothing else: no
        # table, no bus. Without RATE_BUDGET_TABLE_NAME its few calls use an in-process budget.
        for system in SUBSCRIPTION_RENEWAL.access.systems:
            system_secrets[system].grant_read(self.function.function)
        self.schedule = ScheduledRuns(
            self,
            "Runs",
            flow=SUBSCRIPTION_RENEWAL,
            prefix=names.prefix,
            function=self.function,
            every=Duration.hours(every_hours),
            topics=topics,
        )
