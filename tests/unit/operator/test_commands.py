"""The operator commands end to end through the CLI, against a "deployed" stage in moto."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from concord.cli.main import app

from .helpers import NAMES, STAGE, Refusing, Stage, account_changed


def concord(*args: str) -> Any:
    return CliRunner().invoke(app, [*args, "--stage", STAGE, "--region", "us-east-1"], env={"COLUMNS": "200"})


def test_commands_against_a_deployed_stage(stage: Stage) -> None:
    # (stage: moto is active, so the commands' own boto3 session talks to it)
    poison = account_changed("A-1", valid=False)
    stage.park(poison)

    listed = concord("exceptions", "--json")
    assert listed.exit_code == 1, listed.output
    (item,) = json.loads(listed.stdout)["open"]
    assert (item["kind"], item["flow"], item["severity"], item["event_id"]) == (
        "dlq_message",
        "audit_trail",
        "warning",
        poison["id"],
    )

    shown = concord("dlq", "show", poison["id"], "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["source_queue"] == NAMES.queue("audit-trail")

    nothing = concord("dlq", "redrive", "--filter", "type=InvoicePosted")
    assert nothing.exit_code == 1 and "nothing redriven" in nothing.stdout

    bad = concord("dlq", "redrive", "--filter", "type")
    assert bad.exit_code == 2 and "expected an operator" in bad.output

    redriven = concord("dlq", "redrive", "--json")
    assert redriven.exit_code == 0, redriven.output
    (outcome,) = json.loads(redriven.stdout)["outcomes"]
    assert outcome["status"] == "redriven"
    (record,) = stage.records()
    assert record.who.startswith("arn:aws:")  # the caller identity (moto's STS)

    stage.dynamodb.create_table(
        TableName=NAMES.checkpoints_table,
        KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    saved = dt.datetime.now(dt.UTC).isoformat()
    stage.dynamodb.put_item(
        TableName=NAMES.checkpoints_table,
        Item={"key": {"S": "crm:opportunity"}, "cursor": {"S": "opaque-31"}, "saved_at": {"S": saved}},
    )
    status = concord("status", "--json")
    assert status.exit_code == 0, status.output
    screen = json.loads(status.stdout)
    assert {(q["name"], q["visible"], q["alarm"]) for q in screen["queues"]} == {
        (NAMES.queue("audit-trail"), 1, False),
        (NAMES.dlq("audit-trail"), 0, False),
    }
    (checkpoint,) = screen["checkpoints"]
    assert (checkpoint["watch"], checkpoint["cursor"], checkpoint["severity"]) == ("crm:opportunity", "opaque-31", "ok")
    assert screen["severity"] == "ok"
    assert concord("trace", "not-an-entity").exit_code == 2


def test_a_local_command_without_a_running_stack_says_so(tmp_path: Any) -> None:
    result = CliRunner().invoke(app, ["status", "--local", "--state-dir", str(tmp_path)])
    assert result.exit_code == 1 and "concord local up" in result.output
    assert CliRunner().invoke(app, ["status", "--local", "--stage", "prod"]).exit_code == 2


def test_a_denied_call_names_the_resource_and_the_permission(stage: Stage, monkeypatch: pytest.MonkeyPatch) -> None:
    real = boto3.session.Session.client

    def client(self: Any, service: str, *args: Any, **kwargs: Any) -> Any:
        made = real(self, service, *args, **kwargs)
        return Refusing(made, "get_queue_attributes") if service == "sqs" else made

    monkeypatch.setattr(boto3.session.Session, "client", client)
    result = concord("status")

    assert result.exit_code == 1
    assert "access denied to queue concord-t-audit-trail" in " ".join(result.output.split())
    assert "sqs:GetQueueAttributes" in result.output
