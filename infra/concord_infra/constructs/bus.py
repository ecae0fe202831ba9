"""The EventBridge bus every canonical event travels on, with an archive for replay."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from constructs import Construct

from concord.events.types import System

# Every canonical event's `source` (concord.crm, concord.psa, ...): see Envelope.bus_source.
CANONICAL_SOURCES = [f"concord.{system.value}" for system in System]


class EventBus(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, prefix: str, archive_days: int) -> None:
        super().__init__(scope, construct_id)
        self.bus = events.EventBus(self, "Bus", event_bus_name=prefix)
        self.archive = self.bus.archive(
            "Archive",
            archive_name=f"{prefix}-events",
            description="All canonical events, for `concord replay`",
            event_pattern=events.EventPattern(source=CANONICAL_SOURCES),
            retention=Duration.days(archive_days),
        )
