"""Scheduled reconciliation: a function that compares the three systems and reports drift.

Scheduled by an EventBridge rule like change capture (the local stack runs those); operators
invoke the same function on demand with `concord reconcile`.
"""

from __future__ import annotations

from collections.abc import Callable

from aws_cdk import Duration
from aws_cdk import aws_events as events
from constructs import Construct

from concord.naming import Names

from .data import DataTables
from .functions import ConcordFunction
from .ops import AlarmTopics
from .quote_to_cash import Access, QuoteToCash
from .scheduled import ScheduledRuns


class Reconciliation(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        names: Names,
        make_function: Callable[..., ConcordFunction],
        tables: DataTables,
        bus: events.IEventBus,
        topics: AlarmTopics,
        quote_to_cash: QuoteToCash,
        every_hours: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = make_function(
            "reconcile",
            "Compares CRM, PSA and ERP through the cross-reference registry; publishes DriftDetected",
            environment={**quote_to_cash.systems_environment, "RECONCILE_REPAIR": "false"},
            timeout=Duration.minutes(10),
        )
        # Compares all three systems; publishes what differs (repairs write through the systems).
        quote_to_cash.grant_systems_access(
            self.function, tables, bus, Access(systems=("crm", "psa", "erp"), publishes=("DriftDetected",))
        )
        tables.xref.grant(self.function.function, "dynamodb:Scan")
        self.schedule = ScheduledRuns(
            self,
            "Runs",
            name=names.function("reconcile"),
            function=self.function,
            every=Duration.hours(every_hours),
            topics=topics,
            missed_means="drift goes unseen until the next run",
        )
