"""Scheduled reconciliation: a function that compares the three systems and reports drift.

Scheduled by an EventBridge rule like change capture (the local stack runs those); operators
invoke the same function on demand with `concord reconcile`.
"""

from __future__ import annotations

from collections.abc import Callable

from aws_cdk import Duration
from aws_cdk import aws_events as events
from constructs import Construct

from concord.catalog import RECONCILIATION
from concord.naming import Names
from concord.stores.registry import BY_OBJECT_TYPE_INDEX

from .data import DataTables, grant_index_query
from .functions import ConcordFunction
from .ops import AlarmTopics
from .quote_to_cash import QuoteToCash
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
            RECONCILIATION.folder,
            RECONCILIATION.description,
            environment={**quote_to_cash.systems_environment, "RECONCILE_REPAIR": "false"},
            timeout=Duration.seconds(RECONCILIATION.timeout_seconds),
            scope=self,
        )
        quote_to_cash.grant_systems_access(self.function, tables, bus, RECONCILIATION.access)
        # Every entity of a type (Registry.canonical_ids).
        grant_index_query(tables.xref, BY_OBJECT_TYPE_INDEX, self.function.function)
        self.schedule = ScheduledRuns(
            self,
            "Runs",
            flow=RECONCILIATION,
            prefix=names.prefix,
            function=self.function,
            every=Duration.hours(every_hours),
            topics=topics,
        )
