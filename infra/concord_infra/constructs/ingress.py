"""Webhook ingress: API Gateway REST `POST /webhooks/{source}` → the ingest function.

One Secrets Manager secret per configured source holds its scheme's secrets (docs/ingress.md);
set them after the first deploy (`concord secrets set SOURCE` for standard-webhooks sources),
until then that source answers 503. The ingest function may also write one audit-trail
record per delivery that produced no canonical event (needs enrichment, not mapped, ...).
"""

from __future__ import annotations

import json

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_events as events
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from concord.ingress.schemes import scheme_for
from concord.ingress.sources import SourceConfig, secret_name
from concord.naming import Names

from ..config import WebAclConfig
from ..nag import LOG_KEY_REASON, SECRET_KEY_REASON, acknowledge, skip_checkov
from .bus import event_types_of, grant_publish
from .data import DataTables, grant_items
from .functions import RETENTION, ConcordFunction
from .waf import WebhookFirewall

WEBHOOK_API_ACKNOWLEDGED = {
    "AwsSolutions-APIG4": "Webhook senders (SaaS vendors) cannot use IAM or Cognito authorization; every "
    "request is authenticated by the vendor's HMAC signature, verified in constant time by the function.",
    "AwsSolutions-COG4": "As for APIG4: webhook requests are authenticated by signature, not by Cognito.",
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
    "AmazonAPIGatewayPushToCloudWatchLogs]": "API Gateway's account-level logging role uses the managed "
    "policy AWS documents for it; Concord's functions have inline least-privilege roles.",
}


class WebhookIngress(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        names: Names,
        stage_name: str,
        function: ConcordFunction,
        bus: events.IEventBus,
        tables: DataTables,
        sources: dict[str, SourceConfig],
        secret_cache_seconds: int,
        rate_limit: int,
        burst_limit: int,
        log_retention_days: int,
        retain_logs: bool,
        web_acl: WebAclConfig | None,
    ) -> None:
        super().__init__(scope, construct_id)
        secret_prefix = names.webhook_secret_prefix
        self.secrets = {
            source: secretsmanager.Secret(
                self,
                f"Secret-{source}",
                secret_name=secret_name(secret_prefix, source),
                description=f"Secrets of webhook source {source} ({config.scheme}): JSON with "
                + ", ".join(f'"{field}"' for field in scheme_for(config.scheme).secret_model.model_fields),
                removal_policy=RemovalPolicy.RETAIN if retain_logs else RemovalPolicy.DESTROY,
            )
            for source, config in sources.items()
        }
        for secret in self.secrets.values():
            secret.grant_read(function.function)
            acknowledge(
                secret,
                "AwsSolutions-SMG4",
                "Signing secrets are issued by the sending vendor, not by AWS; they are rotated with "
                "`concord secrets set --rotate`, which keeps the old and the new secret active together.",
            )
            skip_checkov(secret, "CKV_AWS_149", SECRET_KEY_REASON)
        # What a delivery can become: the events of its source's system, or a notice naming
        # records without their content (ChangeNotified, enriched later).
        grant_publish(bus, function.function, event_types_of(c.system for c in sources.values()) | {"ChangeNotified"})
        skip_checkov(
            function.function,
            "CKV_AWS_116",
            "Invoked synchronously by API Gateway: a failure answers 5xx and the vendor delivers again; "
            "it alarms (IngressAlarms).",
        )
        # The delivery ledger (concord.aws.delivery_ledger): a read, then one conditional write
        # once published; a record is never updated or deleted by the function (TTL expires it).
        tables.idempotency.grant(function.function, "dynamodb:GetItem", "dynamodb:PutItem")
        function.function.add_environment("EVENT_BUS_NAME", bus.event_bus_name)
        # One record per delivery that produced no canonical event (concord.stores.audit).
        grant_items(tables.audit, function.function, "dynamodb:PutItem")
        function.function.add_environment("IDEMPOTENCY_TABLE_NAME", tables.idempotency.table_name)
        function.function.add_environment("AUDIT_TABLE_NAME", tables.audit.table_name)
        function.function.add_environment("WEBHOOK_SECRET_PREFIX", secret_prefix)
        function.function.add_environment("SECRET_CACHE_SECONDS", str(secret_cache_seconds))
        function.function.add_environment(
            "WEBHOOK_SOURCES",
            json.dumps({name: cfg.model_dump(mode="json") for name, cfg in sources.items()}, sort_keys=True),
        )

        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            log_group_name=f"/aws/apigateway/{names.webhooks_api}",
            retention=RETENTION[log_retention_days],
            removal_policy=RemovalPolicy.RETAIN if retain_logs else RemovalPolicy.DESTROY,
        )
        skip_checkov(access_logs, "CKV_AWS_158", LOG_KEY_REASON)
        self.api = apigw.RestApi(
            self,
            "Api",
            rest_api_name=names.webhooks_api,
            description="Concord webhook ingress",
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.DESTROY,
            endpoint_types=[apigw.EndpointType.REGIONAL],
            deploy_options=apigw.StageOptions(
                stage_name=stage_name,
                # Each configured source has its own route, throttled on its own.
                method_options={
                    f"/webhooks/{source}/POST": apigw.MethodDeploymentOptions(
                        throttling_rate_limit=config.rate_limit or rate_limit,
                        throttling_burst_limit=config.burst_limit or burst_limit,
                    )
                    for source, config in sources.items()
                },
                tracing_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                metrics_enabled=True,
                throttling_rate_limit=rate_limit,
                throttling_burst_limit=burst_limit,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
            ),
        )
        for finding, reason in WEBHOOK_API_ACKNOWLEDGED.items():
            acknowledge(self.api, finding, reason)
        if web_acl is None:
            acknowledge(
                self.api,
                "AwsSolutions-APIG3",
                "WAF is off on this stage (stage config web_acl; on in prod): the API is throttled per "
                "source and the function refuses unsigned requests before doing any work.",
            )
        else:
            WebhookFirewall(self, "Firewall", names=names, stage=self.api.deployment_stage, config=web_acl)
        skip_checkov(
            self.api.deployment_stage,
            "CKV_AWS_120",
            "No caching: every delivery is unique and must reach the function (a cached POST would be lost).",
        )
        validator = self.api.add_request_validator(
            "Validator",
            request_validator_name="body-and-parameters",
            validate_request_body=True,
            validate_request_parameters=True,
        )
        # Any JSON object or array (HubSpot and QuickBooks' CloudEvents send arrays); each
        # source's full schema is checked by the function after the signature, which must be
        # computed over the raw body. Salesforce's text/xml has no model: the function parses it.
        body_model = self.api.add_model(
            "WebhookBody",
            content_type="application/json",
            schema=apigw.JsonSchema(
                schema=apigw.JsonSchemaVersion.DRAFT4,
                type=[apigw.JsonSchemaType.OBJECT, apigw.JsonSchemaType.ARRAY],
            ),
        )
        integration = apigw.LambdaIntegration(function.function, proxy=True)
        webhooks = self.api.root.add_resource("webhooks")
        for source in sources:
            self._accept_signature_authentication(
                webhooks.add_resource(source).add_method(
                    "POST", integration, request_validator=validator, request_models={"application/json": body_model}
                )
            )
        # Any other name: the function answers 404 unknown_source (JSON, like every refusal).
        self._accept_signature_authentication(
            webhooks.add_resource("{source}").add_method(
                "POST",
                integration,
                request_parameters={"method.request.path.source": True},
                request_validator=validator,
                request_models={"application/json": body_model},
            )
        )

    @staticmethod
    def _accept_signature_authentication(method: apigw.Method) -> None:
        skip_checkov(method, "CKV_AWS_59", WEBHOOK_API_ACKNOWLEDGED["AwsSolutions-APIG4"])
