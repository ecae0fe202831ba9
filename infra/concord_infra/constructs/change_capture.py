"""Scheduled change capture: the poller that closes the gaps push (webhooks) leaves."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from concord.catalog import ANNOUNCED, CHANGE_CAPTURE
from concord.events.types import System
from concord.naming import Names

from .bus import grant_publish
from .data import DataTables
from .functions import ConcordFunction
from .ops import AlarmTopics
from .scheduled import ScheduledRuns
from .token_write_back import grant_token_write_back


class ChangeCapture(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        names: Names,
        make_function: Callable[..., ConcordFunction],
        tables: DataTables,
        bus: events.IEventBus,
        system_secrets: Mapping[str, secretsmanager.ISecret],
        connector_environment: dict[str, str],
        watches: list[dict[str, str]],
        every_minutes: int,
        topics: AlarmTopics,
        erp_token_write_back: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = make_function(
            CHANGE_CAPTURE.folder,
            CHANGE_CAPTURE.description,
            environment={
                "CHECKPOINTS_TABLE_NAME": tables.checkpoints.table_name,
                "EVENT_BUS_NAME": bus.event_bus_name,
                **connector_environment,
                "POLL_WATCHES": json.dumps(watches, sort_keys=True),
            },
            timeout=Duration.seconds(CHANGE_CAPTURE.timeout_seconds),
            scope=self,
        )
        function = self.function.function
        tables.checkpoints.grant(function, "dynamodb:GetItem", "dynamodb:PutItem")
        tables.rate_budget.grant(function, "dynamodb:GetItem", "dynamodb:UpdateItem")
        # Only the watched systems' secrets, only the events their watches announce, and the
        # exception raised for a change no event can be made of.
        grant_publish(bus, function, {ANNOUNCED[watch["record_type"]] for watch in watches} | {"SyncExceptionRaised"})
        watched = {watch["system"] for watch in watches}
        for system in sorted(watched):
            system_secrets[system].grant_read(function)
        if erp_token_write_back and System.ERP.value in watched:
            grant_token_write_back(function, system_secrets[System.ERP.value], tables.rate_budget)
        self.schedule = ScheduledRuns(
            self,
            "Runs",
            flow=CHANGE_CAPTURE,
            prefix=names.prefix,
            function=self.function,
            every=Duration.minutes(every_minutes),
            topics=topics,
        )
