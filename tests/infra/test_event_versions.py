"""The deprecated event version alarm: low severity, over every series of the metric."""

from __future__ import annotations

from .conftest import of_type


def test_a_deprecated_event_version_alarms_on_the_lowest_severity_topic(dev: dict) -> None:
    alarms = {a["Properties"]["AlarmName"]: a["Properties"] for a in of_type(dev, "AWS::CloudWatch::Alarm").values()}
    topics = {lid: t["Properties"]["TopicName"] for lid, t in of_type(dev, "AWS::SNS::Topic").items()}

    alarm = alarms["concord-dev-deprecated-event-versions"]

    (query,) = alarm["Metrics"]
    assert query["Expression"] == "SELECT SUM(DeprecatedEventVersion) FROM Concord"
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    (action,) = alarm["AlarmActions"]
    assert topics[action["Ref"]] == "concord-dev-alarms-warning"
