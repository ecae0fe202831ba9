"""A stage whose Salesforce orgs relay change events (Event Relay): a rule on each partner bus
delivers them to the enrichment flow's queue, and the synth stays cdk-nag clean."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from app import build_app
from aws_cdk.assertions import Match, Template

from .conftest import _context, of_type

CRM_BUS = "aws.partner/salesforce.com/00DRM000000Fxts2AC/0YLRM0000004Dfg4AE"
PSA_BUS = "aws.partner/salesforce.com/00DRM000000Fxts2AC/0YLRM0000004Dfh5AE"


@pytest.fixture(scope="module")
def relayed(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    context = _context("dev")
    dev = context["concord:stages"]["dev"]
    context["concord:stages"] = {
        **context["concord:stages"],
        "dev": {
            **dev,
            "salesforce_event_relay": [
                {"event_bus_name": CRM_BUS, "system": "crm", "source": "salesforce"},
                {"event_bus_name": PSA_BUS, "system": "psa", "source": "certinia"},
            ],
        },
    }
    app, stack = build_app(context, outdir=str(tmp_path_factory.mktemp("cdk-relay")))
    assembly = app.synth()
    return assembly.get_stack_by_name(stack.stack_name).template, Path(assembly.directory)


def _enrichment_queue(template: dict[str, Any]) -> str:
    (queue,) = [
        lid
        for lid, q in of_type(template, "AWS::SQS::Queue").items()
        if q["Properties"].get("QueueName") == "concord-dev-enrichment"
    ]
    return queue


def test_each_relay_has_a_rule_on_its_partner_bus_targeting_the_enrichment_queue(
    relayed: tuple[dict[str, Any], Path],
) -> None:
    template, _ = relayed
    queue = _enrichment_queue(template)
    rules = {
        r["Properties"]["EventBusName"]: r["Properties"]
        for r in of_type(template, "AWS::Events::Rule").values()
        if str(r["Properties"].get("EventBusName", "")).startswith("aws.partner/")
    }

    assert set(rules) == {CRM_BUS, PSA_BUS}
    for bus, rule in rules.items():
        assert rule["EventPattern"] == {"source": [bus]}
        (target,) = rule["Targets"]
        assert target["Arn"] == {"Fn::GetAtt": [queue, "Arn"]}
        assert "DeadLetterConfig" in target


def test_the_enrichment_function_knows_the_relays_and_the_synth_is_nag_clean(
    relayed: tuple[dict[str, Any], Path],
) -> None:
    template, outdir = relayed
    Template.from_json(template).has_resource_properties(
        "AWS::Lambda::Function",
        {
            "FunctionName": "concord-dev-enrichment",
            "Environment": {
                "Variables": Match.object_like(
                    {"SALESFORCE_EVENT_RELAYS": Match.string_like_regexp("0YLRM0000004Dfh5AE")}
                )
            },
        },
    )
    report = json.loads((outdir / "validation-report.json").read_text())
    assert [v["ruleName"] for p in report["pluginReports"] for v in p["violations"]] == []


def test_without_relays_no_rule_listens_on_a_partner_bus(dev: dict) -> None:
    assert not [
        r
        for r in of_type(dev, "AWS::Events::Rule").values()
        if str(r["Properties"].get("EventBusName", "")).startswith("aws.partner/")
    ]
    notices = [
        r["Properties"]
        for r in of_type(dev, "AWS::Events::Rule").values()
        if r["Properties"].get("EventPattern", {}).get("detail-type") == ["ChangeNotified"]
    ]
    assert [n["EventPattern"]["source"] for n in notices] == [["concord.concord"]]
