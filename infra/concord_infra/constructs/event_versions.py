"""The alarm on deprecated event versions: someone still produces or receives one.

concord.events.versions counts each deprecated event it publishes or parses in the
DeprecatedEventVersion metric (dimensions type, version and the function's service). Nothing
is lost yet (a deprecated version is upcast), so the alarm is of the lowest severity; it is
the reminder to move a producer before the version's sunset date, after which it is refused.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from concord.events.types import Severity
from concord.events.versions import DEPRECATED_METRIC
from concord.naming import Names

from .functions import METRICS_NAMESPACE
from .ops import AlarmTopics

PERIOD = Duration.hours(1)


class DeprecatedEventVersionAlarm(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, names: Names, topics: AlarmTopics) -> None:
        super().__init__(scope, construct_id)
        # A Metrics Insights query sums every series (each type, version and function):
        # https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-metrics-insights-alarms.html
        topics.alarm(
            self,
            "Alarm",
            metric=cloudwatch.MathExpression(
                expression=f"SELECT SUM({DEPRECATED_METRIC}) FROM {METRICS_NAMESPACE}",
                period=PERIOD,
                label="deprecated event versions produced or received",
                using_metrics={},
            ),
            name=f"{names.prefix}-deprecated-event-versions",
            description="a deprecated event version was produced or received: see the metric's type and version "
            "dimensions, and move its producer before the sunset date (docs/governance.md)",
            severity=Severity.INFO,
        )
