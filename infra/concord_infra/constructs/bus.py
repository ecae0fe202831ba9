"""The EventBridge bus every canonical event travels on, with an archive for replay, and who
may publish what on it."""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from concord.catalog import CANONICAL_SOURCES
from concord.events.envelope import EVENT_MODEL_BY_TYPE, producer_of
from concord.naming import Names


class EventBus(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, names: Names, archive_days: int) -> None:
        super().__init__(scope, construct_id)
        self.bus = events.EventBus(self, "Bus", event_bus_name=names.bus)
        self.archive = self.bus.archive(
            "Archive",
            archive_name=names.archive,
            description="All canonical events, for `concord replay`",
            event_pattern=events.EventPattern(source=list(CANONICAL_SOURCES)),
            retention=Duration.days(archive_days),
        )


def event_types_of(systems: Iterable[str]) -> set[str]:
    """Every canonical event type the given systems produce (`crm` → OpportunityClosedWon, ...)."""
    wanted = set(systems)
    return {event_type for event_type in EVENT_MODEL_BY_TYPE if producer_of(event_type).value in wanted}


def grant_publish(bus: events.IEventBus, function: lambda_.IFunction, event_types: Iterable[str]) -> None:
    """events:PutEvents on the bus for these canonical event types only: one statement per
    source (concord.<producer>) naming that producer's detail-types, so a function can neither
    publish another type nor pass one type off as another system's. Condition keys:
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-conditions.html"""
    by_source: dict[str, list[str]] = {}
    for event_type in sorted(set(event_types)):
        by_source.setdefault(f"concord.{producer_of(event_type).value}", []).append(event_type)
    for source, detail_types in sorted(by_source.items()):
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["events:PutEvents"],
                resources=[bus.event_bus_arn],
                conditions={"StringEquals": {"events:source": source, "events:detail-type": detail_types}},
            )
        )
