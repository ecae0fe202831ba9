"""The benchmarks' pure parts: the cost model's arithmetic on a small template, what is
counted as a billable request, and the report's figures, summary and chart."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from benchmarks import _audit_units, cost_model, report
from benchmarks.cost_model import (
    PRICES,
    Measured,
    Model,
    happy_path,
    load_measured,
    matches,
    per_million,
)
from benchmarks.memory import request_items
from concord.local.template import read_topology
from concord.stores.audit import AuditTrail
from concord.stores.audit_items import DeliveryTimings


def _function(name: str, folder: str, memory_mb: int, arch: str) -> dict[str, Any]:
    return {
        "Type": "AWS::Lambda::Function",
        "Metadata": {"concord:source": f"functions/{folder}"},
        "Properties": {
            "FunctionName": name,
            "Handler": "handler.handler",
            "MemorySize": memory_mb,
            "Timeout": 30,
            "Architectures": [arch],
        },
    }


def _queue_route(rule: str, queue: str, pattern: dict[str, Any], function: str) -> dict[str, Any]:
    return {
        f"{queue}Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": queue}},
        f"{rule}Rule": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "Name": rule,
                "EventBusName": "fake-bus",
                "EventPattern": pattern,
                "Targets": [{"Id": "t", "Arn": {"Fn::GetAtt": [f"{queue}Queue", "Arn"]}}],
            },
        },
        f"{queue}Mapping": {
            "Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {
                "BatchSize": 10,
                "EventSourceArn": {"Fn::GetAtt": [f"{queue}Queue", "Arn"]},
                "FunctionName": {"Ref": function},
            },
        },
    }


SAGA = {
    "StartAt": "Validate",
    "States": {
        "Validate": {
            "Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:123456789012:function:fake-validate",
            "Next": "Done",
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}],
        },
        "Done": {"Type": "Succeed"},
        "Failed": {"Type": "Fail"},
    },
}


@pytest.fixture()
def template(tmp_path: Path) -> Path:
    resources = {
        "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "fake-bus"}},
        "Ingest": _function("fake-ingest", "webhook_ingest", 512, "x86_64"),
        "Audit": _function("fake-audit", "audit_trail", 1024, "arm64"),
        "Start": _function("fake-start", "quote_to_cash", 256, "x86_64"),
        "Validate": _function("fake-validate", "quote_to_cash_validate_customer", 256, "x86_64"),
        **_queue_route("audit", "fake-audit-q", {"source": ["concord.crm", "concord.psa"]}, "Audit"),
        **_queue_route(
            "start", "fake-start-q", {"source": ["concord.crm"], "detail-type": ["OpportunityClosedWon"]}, "Start"
        ),
        "Machine": {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {"StateMachineName": "fake-q2c", "DefinitionString": json.dumps(SAGA)},
        },
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "fake-webhooks"}},
        "Firewall": {"Type": "AWS::WAFv2::WebACLAssociation", "Properties": {}},
    }
    path = tmp_path / "concord-prod.template.json"
    path.write_text(json.dumps({"Resources": resources}))
    return path


MEASURED = Measured(
    duration_ms={"webhook_ingest": 100.0, "audit_trail": 50.0, "quote_to_cash": 20.0, "saga:Validate": 300.0},
    writes_per_record={"webhook_ingest": 2.0, "quote_to_cash": 0.0},
    audit_write_units={"AccountChanged": 3.0, "OpportunityClosedWon": 4.0, "ProjectActivated": 1.0},
    records_per_measure={"audit_trail": 10, "quote_to_cash": 10},
    sources={},
)


def model(template: Path, batch_fill: int | None = None) -> Model:
    return Model(json.loads(template.read_text()), read_topology(template, cost_model.STACK_NAME), MEASURED, batch_fill)


def usd(price: str, quantity: float) -> float:
    return PRICES[price][0] * quantity * 1e6


def test_a_webhook_event_costs_the_api_call_ingest_bus_and_its_one_consumer_in_full_batches(template: Path) -> None:
    items = model(template).webhook("AccountChanged")

    expected = (
        usd("api_gateway_rest_request", 1)
        + usd("waf_request", 1)
        + usd("lambda_request", 1)
        + usd("lambda_gb_second_x86_64", 0.5 * 0.1)  # 512 MB for 100 ms
        + usd("dynamodb_read_unit", 1)  # the delivery ledger's consistent read
        + usd("dynamodb_write_unit", 2)
        + usd("eventbridge_event", 1)
        + usd("sqs_request", 1 + 2 / 10)  # sent by the rule; one receive and one delete per 10
        + usd("lambda_request", 1 / 10)
        + usd("lambda_gb_second_arm64", 1 / 10 * 1.0 * 0.05)  # 10 records x 5 ms at 1 GB
        + usd("dynamodb_write_unit", 3)  # the audit record of an AccountChanged
    )
    assert per_million(items) == pytest.approx(expected)
    assert not any("fake-start-q" in item.what for item in items)  # that rule wants OpportunityClosedWon only


def test_an_http_api_without_a_web_acl_is_priced_as_such(template: Path) -> None:
    resources = json.loads(template.read_text())["Resources"]
    del resources["Api"], resources["Firewall"]
    resources["HttpApi"] = {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"ProtocolType": "HTTP"}}
    template.write_text(json.dumps({"Resources": resources}))

    [front] = [item for item in model(template).webhook("AccountChanged") if item.service in ("API Gateway", "WAF")]

    assert (front.price, front.quantity) == ("api_gateway_http_request", 1)


def test_batches_of_one_pay_a_receive_a_delete_and_an_invocation_per_record(template: Path) -> None:
    full, single = model(template).webhook("AccountChanged"), model(template, batch_fill=1).webhook("AccountChanged")

    extra = per_million(single) - per_million(full)

    assert extra == pytest.approx(usd("sqs_request", 2 - 0.2) + usd("lambda_request", 1 - 0.1))


def test_a_won_opportunity_also_runs_the_saga_along_its_happy_path(template: Path) -> None:
    items = model(template).webhook("OpportunityClosedWon")

    [transitions] = [item for item in items if item.service == "Step Functions"]
    assert transitions.quantity == 2  # Validate, Done: the Catch branch is not taken
    validate = [item for item in items if item.what.startswith("Validate")]
    assert sum(item.quantity for item in validate if item.price == "lambda_request") == 1
    assert sum(item.quantity for item in validate if item.price == "lambda_gb_second_x86_64") == pytest.approx(
        0.25 * 0.3
    )
    assert per_million(items) > per_million(model(template).webhook("AccountChanged"))


def test_happy_path_follows_next_until_the_machine_ends() -> None:
    assert [name for name, _ in happy_path(SAGA)] == ["Validate", "Done"]
    chained = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Task", "End": True}}}
    assert [name for name, _ in happy_path(chained)] == ["A", "B"]


def test_patterns_match_on_source_and_detail_type_and_refuse_what_the_model_cannot_read() -> None:
    assert matches({"source": ["concord.crm"]}, "concord.crm", "AccountChanged")
    assert not matches(
        {"source": ["concord.crm"], "detail-type": ["OpportunityClosedWon"]}, "concord.crm", "AccountChanged"
    )
    with pytest.raises(ValueError, match="detail"):
        matches({"source": ["concord.crm"], "detail": {"legal_entity": ["us-01"]}}, "concord.crm", "AccountChanged")


def test_measurements_replace_assumptions_when_their_results_exist(tmp_path: Path) -> None:
    assumed = load_measured(tmp_path)
    assert assumed.duration_ms["audit_trail"] == cost_model.ASSUMED_DURATION_MS["audit_trail"]
    assert assumed.sources["audit_trail"] == "assumed"

    (tmp_path / "memory.json").write_text(
        json.dumps(
            {
                "functions": [
                    {
                        "function": "audit_trail",
                        "warm_invocation_ms": 42.0,
                        "records": 10,
                        "aws_requests": {"dynamodb:PutItem": 10, "dynamodb:GetItem": 3},
                    },
                    {
                        "function": "webhook_ingest",
                        "warm_invocation_ms": 30.0,
                        "records": 2,
                        "aws_requests": {"dynamodb:PutItem": 2, "dynamodb:GetItem": 2},
                    },
                    {"function": "quote_to_cash_compensate", "peak_rss_mb": 60.0},
                ]
            }
        )
    )
    (tmp_path / "saga_latency.json").write_text(json.dumps({"step_ms": {"Validate": {"median": 123.0}}}))
    measured = load_measured(tmp_path)

    assert measured.duration_ms["audit_trail"] == 42.0
    assert measured.records_per_measure["audit_trail"] == 10
    assert "audit_trail" not in measured.writes_per_record  # sized per event type, not counted
    assert measured.writes_per_record["webhook_ingest"] == 1.0  # reads are not writes
    assert measured.duration_ms["saga:Validate"] == 123.0
    assert measured.sources["audit_trail"].startswith("memory.json")


@pytest.mark.parametrize(
    ("operation", "params", "items"),
    [
        ("PutEvents", {"Entries": [{}, {}, {}]}, 3),
        ("TransactWriteItems", {"TransactItems": [{}, {}]}, 2),
        ("BatchWriteItem", {"RequestItems": {"a": [{}, {}], "b": [{}]}}, 3),
        ("PutItem", {"Item": {}}, 1),
    ],
)
def test_billable_items_of_a_request(operation: str, params: dict[str, Any], items: int) -> None:
    assert request_items(operation, params) == items


def _results(folder: Path) -> None:
    (folder / "record_cpu.json").write_text(
        json.dumps(
            {
                "commit": "abc1234",
                "figures": [
                    {
                        "name": "ingest CPU/record: crm",
                        "value": 80.0,
                        "unit": "µs",
                        "floor": 4.0,
                        "floor_name": "json.loads(body)",
                        "note": "",
                    }
                ],
            }
        )
    )
    point = {"median": 30.0, "p95": 40.0, "p99": 50.0, "n": 10}
    (folder / "webhook_latency.json").write_text(
        json.dumps(
            {
                "commit": "def5678",
                "webhook_to_handler_ms": point,
                "webhook_ack_ms": point,
                "emulator_floor_ms": {"median": 15.0, "p95": 20.0, "p99": 25.0, "n": 10},
            }
        )
    )
    (folder / "saga_latency.json").write_text(json.dumps({"saga_ms": point, "step_ms": {"Validate": point}}))
    (folder / "summary.json").write_text(json.dumps({"figures": [{"name": "stale"}]}))


def test_the_report_reads_every_result_with_ratios_only_against_a_floor(tmp_path: Path) -> None:
    _results(tmp_path)

    rows = report.collect(tmp_path)

    by_name = {row["name"]: row for row in rows}
    assert by_name["ingest CPU/record: crm"]["ratio"] == 20.0
    assert by_name["webhook -> audit record p95"]["ratio"] == 2.0
    assert by_name["webhook -> audit record p95"]["commit"] == "def5678"
    assert by_name["quote-to-cash saga median"]["ratio"] is None
    assert "stale" not in by_name  # the previous summary is not a result


def test_the_report_prints_the_table_and_draws_the_chart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _results(tmp_path)
    rows = report.collect(tmp_path)

    report.print_table(rows)
    report.chart(rows, tmp_path / "bench.png")

    assert "ingest CPU/record: crm" in capsys.readouterr().out
    assert (tmp_path / "bench.png").read_bytes().startswith(b"\x89PNG")


def test_item_sizes_follow_dynamodbs_rules() -> None:
    """Names and values in bytes; a number about a byte per two digits plus one; a map or list 3
    bytes plus a byte per element (the item-size page of DynamoDB's developer guide)."""
    assert _audit_units.item_bytes({"pk": {"S": "EVENT#é"}}) == 2 + 8
    assert _audit_units.item_bytes({"n": {"N": "12345"}, "b": {"B": b"\x00" * 10}}) == 1 + 4 + 1 + 10
    assert _audit_units.item_bytes({"m": {"M": {"a": {"BOOL": True}}}, "l": {"L": [{"NULL": True}]}}) == (
        1 + (3 + 1 + 1 + 1) + 1 + (3 + 1 + 1)
    )


def test_an_audit_record_costs_a_unit_per_started_kb_of_each_item_it_writes() -> None:
    events = _audit_units.corpus_events()
    assert {"AccountChanged", "TimeApproved", "PaymentReceived", "ProjectActivated"} <= set(events)
    account = events["AccountChanged"][0]

    def units(rendering: str | None) -> int:
        written = _audit_units._WrittenItems()
        AuditTrail(written, "audit").record_event(account, DeliveryTimings(None, None), rendering)
        assert written.transactional == []
        return sum(-(-_audit_units.item_bytes(item) // 1024) for item in written.items)

    assert units(None) == 2  # the event (under 1 KB) and the customer's index item
    assert units("x" * 5000) == 2  # compressed
    assert units(random.Random(0).randbytes(3000).hex()) >= 2 + 3  # over 3 KB left after compression
    assert units(None) <= _audit_units.record_write_units(account, "prod") <= units("x" * 60_000) + 2
