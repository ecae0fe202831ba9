"""ConcordStack: composes the constructs; holds no resources of its own."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import CfnOutput, Duration, Environment, Stack
from constructs import Construct

from concord.catalog import AUDIT_TRAIL, INGRESS

from .config import AppConfig
from .constructs.bus import EventBus
from .constructs.change_capture import ChangeCapture
from .constructs.consumer import EventConsumer
from .constructs.dashboard import OperationsDashboard
from .constructs.data import DataTables, grant_items
from .constructs.event_versions import DeprecatedEventVersionAlarm
from .constructs.functions import ConcordFunction, SharedLayer
from .constructs.ingress import WebhookIngress
from .constructs.ingress_alarms import IngressAlarms
from .constructs.ops import AlarmTopics
from .constructs.quote_to_cash import QuoteToCash
from .constructs.reconciliation import Reconciliation
from .constructs.subscription_renewal import SubscriptionRenewal
from .constructs.sync_flows import SyncFlows

ARCHIVE_DAYS = 90


class ConcordStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: AppConfig, env: Environment, description: str
    ) -> None:
        super().__init__(scope, construct_id, env=env, description=description)
        stage = config.stage
        names = config.names

        tables = DataTables(self, "Data", names=names, retain=stage.retain_data)
        bus = EventBus(self, "Events", names=names, archive_days=ARCHIVE_DAYS)
        topics = AlarmTopics(self, "Alarms", names=names)
        DeprecatedEventVersionAlarm(self, "EventVersions", names=names, topics=topics)
        layer = SharedLayer(self, "Shared", with_dependencies=config.bundle == "full").layer

        def function(name: str, description: str, scope: Construct | None = None, **kwargs: Any) -> ConcordFunction:
            """`scope`: the construct the function belongs to when its id would clash with the stack's
            child of the same name (a flow's construct and its function share the flow's name)."""
            return ConcordFunction(
                scope or self,
                "".join(part.title() for part in name.split("_")),
                name=name,
                names=names,
                layer=layer,
                log_retention_days=stage.log_retention_days,
                retain_logs=stage.retain_data,
                description=description,
                **kwargs,
            )

        ingest = function(
            INGRESS,
            "Verifies webhooks, maps them to canonical events, publishes them once",
            environment={},
            timeout=Duration.seconds(10),
        )
        ingress = WebhookIngress(
            self,
            "Ingress",
            names=names,
            stage_name=config.name,
            function=ingest,
            bus=bus.bus,
            tables=tables,
            sources=stage.webhook_sources,
            secret_cache_seconds=stage.secret_cache_seconds,
            rate_limit=stage.webhook_rate_limit,
            burst_limit=stage.webhook_burst_limit,
            log_retention_days=stage.log_retention_days,
            retain_logs=stage.retain_data,
            web_acl=stage.web_acl,
        )
        IngressAlarms(
            self,
            "IngressAlarms",
            names=names,
            api=ingress.api,
            function=ingest,
            sources=list(stage.webhook_sources),
            topics=topics,
            signature_failures_threshold=stage.signature_failures_alarm,
        )

        audit = function(
            AUDIT_TRAIL.folder,
            AUDIT_TRAIL.description,
            environment={
                "AUDIT_TABLE_NAME": tables.audit.table_name,
                "RETRY_BASE_SECONDS": str(stage.retry_base_seconds),
                # The mapping configuration: each event's rendering is kept for `concord mappings diff`.
                "LEGAL_ENTITIES": json.dumps(
                    {k: v.model_dump(mode="json") for k, v in stage.legal_entities.items()}, sort_keys=True
                ),
                "SYSTEM_OF_RECORD": stage.system_of_record().model_dump_json(by_alias=True, exclude_none=True),
                **(
                    {}
                    if stage.rendered_connectors is None
                    else {"RENDERED_CONNECTORS": json.dumps(list(stage.rendered_connectors))}
                ),
            },
        )
        # An event's put, and its entity-index items in batches (concord.stores.audit.record_event).
        grant_items(tables.audit, audit.function, "dynamodb:PutItem", "dynamodb:BatchWriteItem")
        audit_delivery = EventConsumer(
            self,
            "AuditTrailDelivery",
            flow=AUDIT_TRAIL,
            names=names,
            bus=bus.bus,
            function=audit,
            topics=topics,
            max_receive_count=stage.max_receive_count,
        )

        quote_to_cash = QuoteToCash(
            self,
            "QuoteToCash",
            names=names,
            make_function=function,
            tables=tables,
            bus=bus.bus,
            topics=topics,
            legal_entities={k: v.model_dump(mode="json") for k, v in stage.legal_entities.items()},
            system_of_record=stage.system_of_record().model_dump_json(by_alias=True, exclude_none=True),
            retry_interval_seconds=stage.saga_retry_interval_seconds,
            retry_attempts=stage.saga_retry_attempts,
            secret_cache_seconds=stage.secret_cache_seconds,
            default_legal_entity=stage.default_legal_entity,
            max_receive_count=stage.max_receive_count,
            log_retention_days=stage.log_retention_days,
            retain=stage.retain_data,
            erp_token_write_back=stage.erp_token_write_back,
        )

        flows = SyncFlows(
            self,
            "SyncFlows",
            names=names,
            make_function=function,
            tables=tables,
            bus=bus.bus,
            topics=topics,
            quote_to_cash=quote_to_cash,
            retry_base_seconds=stage.retry_base_seconds,
            max_receive_count=stage.max_receive_count,
            reserved_concurrency=stage.flow_reserved_concurrency,
            event_relays=stage.salesforce_event_relay,
        )

        Reconciliation(
            self,
            "Reconciliation",
            names=names,
            make_function=function,
            tables=tables,
            bus=bus.bus,
            topics=topics,
            quote_to_cash=quote_to_cash,
            every_hours=stage.reconcile_every_hours,
        )

        connector_environment = {
            key: quote_to_cash.systems_environment[key]
            for key in (
                "SYSTEMS_SECRET_PREFIX",
                "SECRET_CACHE_SECONDS",
                "DEFAULT_LEGAL_ENTITY",
                "RATE_BUDGET_TABLE_NAME",
            )
        }
        ChangeCapture(
            self,
            "ChangeCapture",
            names=names,
            make_function=function,
            tables=tables,
            bus=bus.bus,
            system_secrets=quote_to_cash.system_secrets,
            connector_environment=connector_environment,
            watches=stage.poll_watches,
            every_minutes=stage.poll_every_minutes,
            topics=topics,
            erp_token_write_back=stage.erp_token_write_back,
        )

        if stage.business_central_subscriptions is not None:
            SubscriptionRenewal(
                self,
                "SubscriptionRenewal",
                names=names,
                make_function=function,
                system_secrets=quote_to_cash.system_secrets,
                # No rate budget table: the function is granted none (its calls are a handful a run).
                connector_environment={k: v for k, v in connector_environment.items() if k != "RATE_BUDGET_TABLE_NAME"},
                every_hours=stage.business_central_subscriptions.every_hours,
                topics=topics,
            )

        OperationsDashboard(
            self,
            "Operations",
            names=names,
            api=ingress.api,
            consumers=[audit_delivery, quote_to_cash.trigger, *flows.consumers],
            state_machines=[quote_to_cash.state_machine],
        )

        CfnOutput(self, "WebhookUrl", value=ingress.api.url_for_path("/webhooks"))
        CfnOutput(self, "EventBusName", value=bus.bus.event_bus_name)
        CfnOutput(self, "AuditTableName", value=tables.audit.table_name)
