"""The event-driven sync flows after quote-to-cash: one consumer (rule → queue + DLQ → function)
per flow, each working with the three systems like the saga's steps do. Salesforce orgs that
relay their change events (Event Relay) feed the enrichment flow's queue from their partner bus."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from concord.events.types import Severity
from concord.ingress.vendors.salesforce.change_events import EventRelay
from constructs import Construct

from .consumer import EventConsumer
from .data import DataTables, grant_items
from .functions import ConcordFunction
from .ops import AlarmTopics
from .quote_to_cash import Access, QuoteToCash


ENRICHMENT = "enrich_changes"  # the flow relayed Salesforce change events are delivered to
# What polling and enrichment announce (concord.sync.change_capture.watch_for), by record type.
ANNOUNCED = {
    "opportunity": "OpportunityClosedWon",
    "customer": "AccountChanged",
    "time_entry": "TimeApproved",
    "invoice": "InvoicePosted",
    "payment": "PaymentReceived",
}


@dataclass(frozen=True)
class Flow:
    name: str  # the function's folder
    description: str
    source: str
    detail_types: tuple[str, ...]
    # Business severity of a parked message: unbilled work and unrecorded payments cost cash.
    severity: Severity
    # The systems it calls and the events it publishes (concord.sync.<flow>).
    access: Access
    timeout_seconds: int = 30
    batch_size: int = 10
    batching_window_seconds: int = 0


FLOWS = (
    Flow(
        "post_billable",
        "Approved time and expenses → lines on the project's ERP draft invoice, in batches",
        "concord.psa",
        ("TimeApproved", "ExpenseApproved"),
        Severity.HIGH,
        Access(systems=("erp",)),
        timeout_seconds=60,
        # Lines are sent to the ERP per call in batches: gather a larger batch for a moment.
        batch_size=50,
        batching_window_seconds=2,
    ),
    Flow(
        "propagate_financials",
        "Invoice and payment status (ERP) → deal status (CRM) and billing status (PSA)",
        "concord.erp",
        ("InvoicePosted", "PaymentReceived"),
        Severity.HIGH,
        Access(systems=("crm", "psa")),
    ),
    Flow(
        "sync_customer",
        "Account changes (CRM) → ERP customer and PSA client, under the system-of-record rules",
        "concord.crm",
        ("AccountChanged",),
        Severity.WARNING,
        Access(systems=("crm", "psa", "erp"), publishes=("SyncExceptionRaised",)),
    ),
    Flow(
        "enrich_changes",
        "Records a system named without their content (ChangeNotified, Salesforce change events) → business events",
        "concord.concord",
        ("ChangeNotified",),
        Severity.WARNING,
        # A notice may name any system's records; what it becomes is what polling announces.
        Access(systems=("crm", "psa", "erp"), publishes=tuple(ANNOUNCED.values())),
        timeout_seconds=60,
    ),
    Flow(
        "sync_project_terms",
        "Staffing and contract changes (PSA) → ERP cost forecast and contract terms",
        "concord.psa",
        ("StaffingChanged", "ContractChanged"),
        Severity.WARNING,
        Access(systems=("erp",), publishes=("SyncExceptionRaised",)),
    ),
)


class SyncFlows(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        prefix: str,
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
        relays_environment = {
            "SALESFORCE_EVENT_RELAYS": json.dumps([relay.model_dump() for relay in event_relays], sort_keys=True)
        }
        for flow in FLOWS:
            function = make_function(
                flow.name,
                flow.description,
                environment={
                    **quote_to_cash.systems_environment,
                    "AUDIT_TABLE_NAME": tables.audit.table_name,
                    "RETRY_BASE_SECONDS": str(retry_base_seconds),
                    **(relays_environment if flow.name == ENRICHMENT else {}),
                },
                timeout=Duration.seconds(flow.timeout_seconds),
                # Each flow calls the vendors: cap how many run at once (stage config).
                reserved_concurrency=reserved_concurrency,
            )
            quote_to_cash.grant_systems_access(function, tables, bus, flow.access)
            grant_items(tables.audit, function.function, "dynamodb:PutItem")
            self.consumers.append(
                EventConsumer(
                    self,
                    "".join(part.title() for part in flow.name.split("_")),
                    name=flow.name,
                    prefix=prefix,
                    bus=bus,
                    pattern=events.EventPattern(source=[flow.source], detail_type=list(flow.detail_types)),
                    function=function,
                    topics=topics,
                    severity=flow.severity,
                    max_receive_count=max_receive_count,
                    batch_size=flow.batch_size,
                    max_batching_window=(
                        Duration.seconds(flow.batching_window_seconds) if flow.batching_window_seconds else None
                    ),
                )
            )
        enrichment = next(consumer for consumer in self.consumers if consumer.name == ENRICHMENT)
        for index, bus_name in enumerate(sorted({relay.event_bus_name for relay in event_relays})):
            roles = sorted(relay.system for relay in event_relays if relay.event_bus_name == bus_name)
            self._relay_to(enrichment, bus_name, roles, index)

    def _relay_to(self, consumer: EventConsumer, bus_name: str, roles: list[str], index: int) -> None:
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
