"""Stage configuration (dev, prod, ...) read from CDK context and validated."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from concord.ingress.sources import SourceConfig
from concord.ingress.vendors.salesforce.change_events import EventRelay, parse_relays
from concord.mappings.vendors import RenderedConnectors
from concord.naming import Names
from concord.ownership import SystemOfRecord, load_system_of_record
from concord.sync.rules import LegalEntityRules

REPO_ROOT = Path(__file__).resolve().parents[2]
StageName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9]{0,11}$")]


class WebAclConfig(BaseModel):
    """An AWS WAF web ACL on the webhook API's stage (constructs/waf.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Requests one source IP may send in any 5 minutes before WAF blocks it. Vendors deliver
    # from a few egress addresses: leave room for their bursts (a bulk update in the CRM).
    rate_limit_per_ip: Annotated[int, Field(ge=10, le=2_000_000_000)] = 3000


class SubscriptionRenewalConfig(BaseModel):
    """The ERP is Business Central with webhook subscriptions (its connection secret holds
    `subscriptions`): a scheduled function keeps them alive (constructs/subscription_renewal.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Subscriptions lapse 3 days after a renewal and are renewed within a day of that: a run
    # at most every 12 hours leaves a failed run time for the next.
    every_hours: Annotated[int, Field(ge=1, le=12)] = 12


class StageConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    account: str | None = None
    region: str = "us-east-1"
    # Data retained on stack deletion in prod; dev stacks clean up after themselves.
    retain_data: bool = False
    log_retention_days: Literal[7, 14, 30, 60, 90, 180, 365, 731, 1827, 3653] = 14
    webhook_sources: dict[str, SourceConfig]
    # API Gateway stage throttles (requests/s and burst) for the webhook API.
    webhook_rate_limit: Annotated[int, Field(gt=0)] = 50
    webhook_burst_limit: Annotated[int, Field(gt=0)] = 100
    # AWS WAF in front of the webhook API (rate limit per source IP, managed rule sets): None
    # leaves it off (local, dev); prod turns it on in cdk.json.
    web_acl: WebAclConfig | None = None
    # Signature failures of one source within 5 minutes that alarm (a wrong secret after a
    # rotation, or someone probing the endpoint).
    signature_failures_alarm: Annotated[int, Field(ge=1)] = 10
    # At most this many of each sync flow's functions run at once (reserved concurrency, and the
    # same cap on its SQS event source so messages wait in the queue instead of being throttled):
    # protects the vendors' API limits. None: unreserved (accounts with a small concurrency quota).
    flow_reserved_concurrency: Annotated[int, Field(ge=2, le=1000)] | None = None
    # How long the ingest function caches signing secrets: a rotation takes effect within it.
    secret_cache_seconds: Annotated[int, Field(ge=0, le=3600)] = 300
    # How often a consumer may fail a message before it is parked in the DLQ.
    max_receive_count: Annotated[int, Field(ge=1, le=20)] = 5
    # Base of the consumers' exponential back-off between attempts (visibility timeout).
    retry_base_seconds: Annotated[int, Field(ge=0, le=900)] = 10
    # Saga Tasks: first retry interval (doubling, full jitter) and attempts on transient errors.
    saga_retry_interval_seconds: Annotated[int, Field(ge=1, le=300)] = 2
    saga_retry_attempts: Annotated[int, Field(ge=0, le=10)] = 4
    # Change capture by polling (functions/change_capture): what to watch, and how often.
    poll_watches: list[dict[str, str]] = [
        {"system": "crm", "record_type": "opportunity", "source": "crm"},
        {"system": "crm", "record_type": "customer", "source": "crm"},
        {"system": "psa", "record_type": "time_entry", "source": "psa"},
        {"system": "erp", "record_type": "invoice", "source": "erp"},
        {"system": "erp", "record_type": "payment", "source": "erp"},
        # Service items: polled where the ERP declares capabilities.service_items; for any other
        # ERP each run skips it (a warning once, the WatchesNotServed metric), it does not fail.
        {"system": "erp", "record_type": "service_item", "source": "erp"},
    ]
    poll_every_minutes: Annotated[int, Field(ge=1, le=60)] = 1
    # Salesforce orgs (CRM, Certinia) relaying their change events to an EventBridge partner bus
    # (Event Relay): each is routed to the enrichment flow. None by default (docs/sync-flows.md).
    salesforce_event_relay: list[EventRelay] = []
    # None: the ERP has no Business Central webhook subscriptions to renew (nothing deployed).
    business_central_subscriptions: SubscriptionRenewalConfig | None = None
    # True when the ERP rotates its OAuth refresh token on every refresh (QuickBooks Online; Xero's
    # custom connection needs none): the functions that connect to the ERP may then write the new
    # token back to the ERP connection secret (PutSecretValue on that secret only) and take the
    # refresh lock, an item `lock#...` of the rate-budget table (conditional put and delete).
    # Off: they only read the secret.
    # constructs/token_write_back.py; docs/infra.md.
    erp_token_write_back: bool = False
    # How often reconciliation compares the three systems (functions/reconciliation).
    reconcile_every_hours: Annotated[int, Field(ge=1, le=168)] = 24
    # Business rules per legal entity (concord.sync.rules.LegalEntityRules).
    legal_entities: dict[str, LegalEntityRules]
    # The legal entity of records whose system names none (e.g. a CRM without that field).
    default_legal_entity: str = "us-01"
    # The system-of-record table (concord.ownership.SystemOfRecord), relative to the repository.
    system_of_record_file: str = "config/system_of_record.json"
    # The connectors whose requests the audit trail renders and keeps with each event, the
    # baseline of `concord mappings diff`: the stage's own (and one it is moving to). None: every
    # connector, which loads all eleven and stores their requests with every event.
    rendered_connectors: RenderedConnectors | None = None

    @model_validator(mode="after")
    def _relays_name_each_role_once_per_bus(self) -> StageConfig:
        parse_relays([relay.model_dump() for relay in self.salesforce_event_relay])
        return self

    @model_validator(mode="after")
    def _default_legal_entity_is_configured(self) -> StageConfig:
        if self.default_legal_entity not in self.legal_entities:
            raise ValueError(f"default_legal_entity {self.default_legal_entity!r} has no rules in legal_entities")
        return self

    def system_of_record(self) -> SystemOfRecord:
        """The table, validated at synth time: a broken file fails the deploy, not a flow."""
        return load_system_of_record(REPO_ROOT / self.system_of_record_file)


class AppConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: StageName
    stage: StageConfig
    # "full" installs the runtime dependencies into the layer (for deploys); "code" ships only
    # Concord's own code (tests and the local stack, which never run the bundle).
    bundle: Literal["full", "code"] = "full"

    @property
    def names(self) -> Names:
        """Physical names of the stage's resources (concord.naming)."""
        return Names(self.name)


def load_config(context: dict[str, Any]) -> AppConfig:
    stage_name = context.get("concord:stage", "dev")
    stages = context.get("concord:stages", {})
    if stage_name not in stages:
        raise ValueError(f"unknown stage {stage_name!r}; cdk.json defines {sorted(stages)}")
    return AppConfig(
        name=stage_name,
        stage=StageConfig.model_validate(stages[stage_name]),
        bundle=context.get("concord:bundle", "full"),
    )
