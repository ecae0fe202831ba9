"""The event-driven sync flows after quote-to-cash (concord.catalog.SYNC_FLOWS): one consumer
(rule → queue + DLQ → function) per flow, each working with the three systems like the saga's
steps do. Salesforce orgs that relay their change events (Event Relay) feed the enrichment flow's queue from their partner bus."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from constructs import Construct

from concord import catalog
from concord.ingress.vendors.salesforce.change_events import EventRelay
from concord.naming import Names

from .consumer import EventConsumer
from .data import DataTables, grant_items
from .functions import ConcordFunction
from .ops import AlarmTopics
from .quote_to_cash import QuoteToCash


class SyncFlows(Construct):
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
        retry_base_seconds: int,
        max_receive_count: int,
        reserved_concurrency: int | None,
        event_relays: Sequence[EventRelay] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.consumers: list[EventConsumer] = []
        # Enrichment: the relays it reads, and change capture's checkpoints (a notice without ids
        # is a delta read from there).
        enrichment_environment = {
            "SALESFORCE_EVENT_RELAYS": json.dumps([relay.model_dump() for relay in event_relays], sort_keys=True),
            "CHECKPOINTS_TABLE_NAME": tables.checkpoints.table_name,
        }
        for flow in catalog.SYNC_FLOWS:
            function = make_function(
                flow.folder,
                flow.description,
                environment={
                    **quote_to_cash.systems_environment,
                    "AUDIT_TABLE_NAME": tables.audit.table_name,
                    "RETRY_BASE_SECONDS": str(retry_base_seconds),
                    **(enrichment_environment if flow is catalog.ENRICHMENT else {}),
                },
                timeout=Duration.seconds(flow.timeout_seconds),
                # Each flow calls the vendors: cap how many run at once (stage config).
                reserved_concurrency=reserved_concurrency,
            )
            quote_to_cash.grant_systems_access(function, tables, bus, flow.access)
            grant_items(tables.audit, function.function, "dynamodb:PutItem")
            if flow is catalog.ENRICHMENT:
                tables.checkpoints.grant(function.function, "dynamodb:GetItem", "dynamodb:PutItem")
            self.consumers.append(
                EventConsumer(
                    self,
                    "".join(part.title() for part in flow.name.split("_")),
                    flow=flow,
                    names=names,
                    bus=bus,
                    function=function,
                    topics=topics,
                    max_receive_count=max_receive_count,
                )
            )
        enrichment = next(consumer for consumer in self.consumers if consumer.flow is catalog.ENRICHMENT)
        for index, bus_name in enumerate(sorted({relay.event_bus_name for relay in event_relays})):
            roles = sorted(relay.system for relay in event_relays if relay.event_bus_name == bus_name)
            self._relay_to(enrichment, bus_name, roles, index)

    def _relay_to(self, consumer: EventConsumer, bus_name: str, roles: Sequence[str], index: int) -> None:
        """One rule on an org's partner event bus sending its change events to the flow's queue
        (the function tells each object's role apart). Every event on that bus comes from its
        partner event source, named as the bus:
        https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-saas.html"""
        partner_bus = events.EventBus.from_event_bus_name(self, f"RelayBus{index}", bus_name)
        events.Rule(
            self,
            f"Relay{index}",
            event_bus=partner_bus,
            description=f"Salesforce change events ({', '.join(roles)}) → enrichment",
            event_pattern=events.EventPattern(source=[bus_name]),
            targets=[targets.SqsQueue(consumer.queue, dead_letter_queue=consumer.dlq)],
        )
