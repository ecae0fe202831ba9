"""An AWS WAF web ACL on the webhook API's stage (optional per stage: StageConfig.web_acl).

It stops floods and known-bad requests before they cost a Lambda invocation; what a delivery
may do is still decided by its signature, in the function.
"""

from __future__ import annotations

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from concord.naming import Names

from ..config import WebAclConfig

# The managed rule groups applied, in order, with the rules switched to count only (and why).
MANAGED_RULE_GROUPS: dict[str, dict[str, str]] = {
    # https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html
    "AWSManagedRulesCommonRuleSet": {
        # Blocks bodies over 8 KB, which vendors' batched deliveries exceed; the ingest function
        # enforces its own body limit (Limits.max_body_bytes).
        "SizeRestrictions_BODY": "vendors batch deliveries beyond 8 KB; the function enforces its own limit",
    },
    "AWSManagedRulesKnownBadInputsRuleSet": {},
}


def _visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric_name, sampled_requests_enabled=True
    )


class WebhookFirewall(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, names: Names, stage: apigw.Stage, config: WebAclConfig
    ) -> None:
        super().__init__(scope, construct_id)
        # Rate-based rule: https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based.html
        rules = [
            wafv2.CfnWebACL.RuleProperty(
                name="RateLimitPerSourceIp",
                priority=0,
                action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                        aggregate_key_type="IP", limit=config.rate_limit_per_ip, evaluation_window_sec=300
                    )
                ),
                visibility_config=_visibility(names.resource("webhooks", "rate_limit")),
            )
        ]
        for priority, (group, counted) in enumerate(MANAGED_RULE_GROUPS.items(), start=1):
            rules.append(
                wafv2.CfnWebACL.RuleProperty(
                    name=group,
                    priority=priority,
                    override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                            vendor_name="AWS",
                            name=group,
                            rule_action_overrides=[
                                wafv2.CfnWebACL.RuleActionOverrideProperty(
                                    name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})
                                )
                                for rule in counted
                            ]
                            or None,
                        )
                    ),
                    visibility_config=_visibility(names.resource("webhooks", group)),
                )
            )
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=names.webhooks_api,
            description="Concord webhook API: rate limit per source IP and AWS managed rule sets",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            rules=rules,
            visibility_config=_visibility(names.webhooks_api),
        )
        wafv2.CfnWebACLAssociation(self, "Association", resource_arn=stage.stage_arn, web_acl_arn=self.web_acl.attr_arn)
