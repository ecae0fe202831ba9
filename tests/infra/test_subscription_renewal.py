"""The Business Central subscription renewal is deployed only for a stage that configures it
(`business_central_subscriptions`): a schedule at its period, the ERP connection's secret as its
one grant, and the DLQ and alarms every scheduled run has."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from app import build_app
from aws_cdk.assertions import Template

from concord import catalog

from .conftest import _context, of_type
from .test_hardening import _functions, _secrets_read, _statements

FOLDER = catalog.SUBSCRIPTION_RENEWAL.folder


@pytest.fixture(scope="module")
def renewing(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    context = _context("dev")
    dev = context["concord:stages"]["dev"]
    context["concord:stages"] = {**context["concord:stages"],
                                 "dev": {**dev, "business_central_subscriptions": {"every_hours": 6}}}
    app, stack = build_app(context, outdir=str(tmp_path_factory.mktemp("cdk-bc-subscriptions")))
    assembly = app.synth()
    return assembly.get_stack_by_name(stack.stack_name).template, Path(assembly.directory)


def test_not_configured_nothing_is_deployed(dev: dict) -> None:
    assert FOLDER not in _functions(dev)
    names = [r["Properties"].get("Name") for r in of_type(dev, "AWS::Events::Rule").values()]
    assert catalog.SUBSCRIPTION_RENEWAL.physical_name("concord-dev") not in names


def _actions(statement: dict[str, Any]) -> list[str]:
    return statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]


def test_configured_it_runs_on_its_schedule_and_reads_the_erp_secret_only(
    renewing: tuple[dict[str, Any], Path],
) -> None:
    template, _ = renewing
    lid, function = _functions(template)[FOLDER]
    name = catalog.SUBSCRIPTION_RENEWAL.physical_name("concord-dev")
    rules = of_type(template, "AWS::Events::Rule").values()
    (rule,) = [r["Properties"] for r in rules if r["Properties"].get("Name") == name]

    assert rule["ScheduleExpression"] == "rate(6 hours)"
    assert rule["Targets"][0]["Arn"] == {"Fn::GetAtt": [lid, "Arn"]} and "DeadLetterConfig" in rule["Targets"][0]
    assert _secrets_read(template, function) == {"concord/dev/systems/erp"}
    statements = _statements(template, function)
    actions = {action for statement in statements for action in _actions(statement)}
    assert not any(a.startswith(("dynamodb:", "events:")) for a in actions), actions  # no table, no bus
    queues = {lid: q["Properties"]["QueueName"] for lid, q in of_type(template, "AWS::SQS::Queue").items()}
    sent_to = {queues[statement["Resource"]["Fn::GetAtt"][0]] for statement in statements
               if any(action.startswith("sqs:") for action in _actions(statement))}
    assert sent_to == {f"{name}-dlq"}  # its failed runs (the on-failure destination), nothing else
    assert "RATE_BUDGET_TABLE_NAME" not in function["Environment"]["Variables"]
    assert function["Environment"]["Variables"]["SYSTEMS_SECRET_PREFIX"] == "concord/dev/systems"


def test_configured_its_failures_are_parked_and_alarm(renewing: tuple[dict[str, Any], Path]) -> None:
    template, outdir = renewing
    name = catalog.SUBSCRIPTION_RENEWAL.physical_name("concord-dev")
    queues = [q["Properties"]["QueueName"] for q in of_type(template, "AWS::SQS::Queue").values()]
    alarms = {a["Properties"]["AlarmName"] for a in of_type(template, "AWS::CloudWatch::Alarm").values()}

    assert f"{name}-dlq" in queues
    assert {f"{name}-dlq-not-empty", f"{name}-failed"} <= alarms
    Template.from_json(template).has_resource_properties("AWS::Lambda::EventInvokeConfig", {"MaximumRetryAttempts": 2})
    report = json.loads((outdir / "validation-report.json").read_text())
    assert [v["ruleName"] for p in report["pluginReports"] for v in p["violations"]] == []
