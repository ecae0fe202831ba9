"""Operations: alarm topics by business severity (the dashboard is in dashboard.py)."""

from __future__ import annotations

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from concord.catalog import INGRESS, SAGA
from concord.events.types import Severity
from concord.naming import Names


class AlarmTopics(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, names: Names) -> None:
        super().__init__(scope, construct_id)
        # A customer-managed key: CloudWatch alarms cannot publish to topics under aws/sns.
        self.key = kms.Key(
            self, "Key", enable_key_rotation=True, description=f"{names.prefix} alarm topics"
        )
        self.key.grant(iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*")
        self.topics: dict[Severity, sns.Topic] = {
            severity: sns.Topic(
                self,
                f"{severity.value.title()}Topic",
                topic_name=names.alarm_topic(severity.value),
                master_key=self.key,
                enforce_ssl=True,
            )
            for severity in (Severity.CRITICAL, Severity.HIGH, Severity.WARNING)
        }

    def topic(self, severity: Severity) -> sns.Topic:
        return self.topics[Severity.WARNING if severity is Severity.INFO else severity]

    def alarm(
        self,
        scope: Construct,
        construct_id: str,
        *,
        metric: cloudwatch.IMetric,
        name: str,
        description: str,
        severity: Severity,
        threshold: float = 0,
    ) -> cloudwatch.Alarm:
        """An alarm when `metric` goes above `threshold`, routed to the topic of its severity."""
        alarm = cloudwatch.Alarm(
            scope,
            construct_id,
            metric=metric,
            alarm_name=name,
            alarm_description=description,
            threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic(severity)))
        return alarm
