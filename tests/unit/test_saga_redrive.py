"""`concord saga` (concord.operator.saga) against moto, in-process: a failed saga
found by trigger or ARN, redriven with its input and recorded; what is refused; exit codes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from concord.operator import saga as ops
from concord.operator.calls import OperationsError
from concord.operator.executions import trigger_of_execution
from concord.stores.audit_items import RedriveKey, RedriveRecord

from .test_replay import ACTOR, NAMES, NOW, Stage, concord

PASS_OR_FAIL = json.dumps(
    {
        "StartAt": "Decide",
        "States": {
            "Decide": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.fail", "BooleanEquals": True, "Next": "Fail"}],
                "Default": "Done",
            },
            "Done": {"Type": "Pass", "End": True},
            "Fail": {"Type": "Fail", "Error": "SagaTransientError"},
        },
    }
)


class Sagas:
    def __init__(self, stage: Stage) -> None:
        self.stage, self.sfn = stage, boto3.client("stepfunctions")
        self.machine = self.sfn.create_state_machine(
            name=NAMES.state_machine("quote_to_cash"),
            definition=PASS_OR_FAIL,
            roleArn="arn:aws:iam::123456789012:role/saga",
        )["stateMachineArn"]

    def start(self, name: str, fail: bool) -> dict[str, Any]:
        trigger = trigger_of_execution(name)
        arn = self.sfn.start_execution(
            stateMachineArn=self.machine, name=name, input=json.dumps({"fail": fail, "event": {"id": trigger}})
        )["executionArn"]
        return self.finished(arn)

    def finished(self, arn: str) -> dict[str, Any]:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            described = self.sfn.describe_execution(executionArn=arn)
            if described["status"] != "RUNNING":
                return described
            time.sleep(0.02)
        raise TimeoutError(arn)

    def names(self) -> list[str]:
        return sorted(e["name"] for e in self.sfn.list_executions(stateMachineArn=self.machine)["executions"])

    def records(self) -> list[RedriveRecord]:
        return self.stage.stores.audit.redrives()


@pytest.fixture
def sagas() -> Iterator[Sagas]:
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield Sagas(Stage())


def test_a_failed_saga_is_found_by_trigger_name_or_arn_and_redriven_with_its_input_and_recorded(sagas: Sagas) -> None:
    failed = sagas.start("t-1", fail=True)
    assert failed["status"] == "FAILED"
    for given in ("t-1", failed["executionArn"]):
        found = ops.find_saga(sagas.sfn, NAMES, given)
        assert (found.trigger_event_id, found.state, found.refusal()) == ("t-1", "failed", None)

    dry = ops.redrive_failed_saga(
        sagas.sfn, sagas.stage.stores, ACTOR, ops.find_saga(sagas.sfn, NAMES, "t-1"), dry_run=True
    )
    assert (dry.status, dry.new_execution) == ("would_redrive", "t-1-redrive-1")
    assert sagas.names() == ["t-1"] and sagas.records() == []

    outcome = ops.redrive_failed_saga(sagas.sfn, sagas.stage.stores, ACTOR, ops.find_saga(sagas.sfn, NAMES, "t-1"))

    assert (outcome.status, outcome.new_execution) == ("redriven", "t-1-redrive-1")
    again = sagas.finished(outcome.new_execution_arn or "")
    assert again["input"] == failed["input"]
    (record,) = sagas.records()
    assert (record.key, record.key.pk, record.record_type) == (
        RedriveKey.execution(record.run_id, "t-1"),
        outcome.record,
        "saga_redrive",
    )
    assert (record.who, record.event_id, record.failed_execution, record.new_execution) == (
        ACTOR.who,
        "t-1",
        "t-1",
        "t-1-redrive-1",
    )
    assert record.status == "started" and record.new_execution_arn == outcome.new_execution_arn
    # it failed again (same input): the next redrive is the second, named by its latest attempt
    found = ops.find_saga(sagas.sfn, NAMES, "t-1-redrive-1")
    assert [a.name for a in found.attempts] == ["t-1", "t-1-redrive-1"] and found.latest.name == "t-1-redrive-1"
    second = ops.redrive_failed_saga(sagas.sfn, sagas.stage.stores, ACTOR, found)
    assert second.new_execution == "t-1-redrive-2"


def test_a_succeeded_or_running_saga_is_refused(sagas: Sagas) -> None:
    sagas.start("t-2", fail=True)
    sagas.start("t-2-redrive-1", fail=False)
    succeeded = ops.find_saga(sagas.sfn, NAMES, "t-2")
    assert succeeded.state == "succeeded"

    outcome = ops.redrive_failed_saga(sagas.sfn, sagas.stage.stores, ACTOR, succeeded)

    assert outcome.status == "refused" and "already succeeded (t-2-redrive-1" in outcome.detail
    assert sagas.names() == ["t-2", "t-2-redrive-1"] and sagas.records() == []
    running = ops.Saga(
        "m",
        "arn:m",
        "t-3",
        [
            ops.SagaAttempt("t-3", "arn:1", "FAILED", NOW, NOW),
            ops.SagaAttempt("t-3-redrive-1", "arn:2", "RUNNING", NOW, None),
        ],
    )
    assert running.state == "running" and "is running (t-3-redrive-1" in (running.refusal() or "")
    with pytest.raises(OperationsError, match="no saga execution t-9 in concord-t-quote-to-cash"):
        ops.find_saga(sagas.sfn, NAMES, "t-9")


def test_saga_commands_exit_codes(sagas: Sagas) -> None:
    sagas.start("t-ok", fail=False)
    sagas.start("t-bad", fail=True)

    listed = concord("saga", "list", "--status", "failed", "--json")
    assert listed.exit_code == 1, listed.output  # a failed saga is listed
    assert [s["trigger_event_id"] for s in json.loads(listed.stdout)["sagas"]] == ["t-bad"]
    fine = concord("saga", "list", "--status", "SUCCEEDED")
    assert fine.exit_code == 0 and "t-ok" in fine.stdout and "t-bad" not in fine.stdout

    dry = concord("saga", "redrive", "t-bad", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "would redrive" in dry.stdout and "t-bad-redrive-1" in dry.stdout and sagas.names() == ["t-bad", "t-ok"]

    done = concord("saga", "redrive", "t-bad", "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["new_execution"] == "t-bad-redrive-1"
    assert "t-bad-redrive-1" in sagas.names()
    assert sagas.records()[0].who.startswith("arn:aws:")  # the caller identity (moto's STS)

    refused = concord("saga", "redrive", "t-ok")
    assert refused.exit_code == 1 and "already succeeded" in refused.output
    missing = concord("saga", "redrive", "nothing-like-it")
    assert missing.exit_code == 1 and "no saga execution nothing-like-it" in missing.output
