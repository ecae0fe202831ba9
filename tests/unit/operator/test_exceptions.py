"""`concord exceptions` (concord.operator.exceptions): which sync exceptions are open, decided by
the saga runs in Step Functions (moto, in-process), and how open items are grouped."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from typing import Any

import boto3
from moto import mock_aws

from concord.events import new_event
from concord.events.envelope import SyncExceptionRaisedEvent
from concord.events.types import Severity
from concord.operator import exceptions as ops
from concord.operator.executions import SuccessfulRun, trigger_of_execution
from concord.operator.stores import StageStores
from concord.stores.audit import AuditTrail
from concord.stores.audit_items import DeliveryTimings

from ..tables import create_audit_table
from .helpers import NAMES, NOW


def exception(trigger: str | None, occurred_at: dt.datetime, *, severity: str = "warning") -> ops.SyncException:
    return ops.SyncException(
        event_id=f"x-{uuid.uuid4().hex[:6]}",
        flow="quote_to_cash",
        step="AssignBillingTerms",
        severity=Severity(severity),
        error_class="transient",
        reason="ERP down",
        caused_by_event_id=trigger,
        occurred_at=occurred_at,
        correlation_id="c",
        legal_entity="us-01",
    )


def run(trigger: str, stopped_at: dt.datetime, name: str | None = None) -> SuccessfulRun:
    return SuccessfulRun(trigger, name or f"{trigger}-redrive-1", f"arn:{trigger}", stopped_at)


def test_an_exception_is_closed_by_a_later_successful_run_of_its_trigger_only() -> None:
    closed_later = exception("t-1", NOW)
    success_before = exception("t-2", NOW)  # the only success for t-2 ended before it was raised
    other_trigger = exception("t-3", NOW)
    no_trigger = exception(None, NOW)
    older = exception("t-4", NOW - dt.timedelta(hours=1))

    still_open, closed = ops.split_open_exceptions(
        [closed_later, success_before, other_trigger, no_trigger, older],
        [
            run("t-1", NOW + dt.timedelta(minutes=5)),
            run("t-2", NOW - dt.timedelta(minutes=5)),
            run("t-9", NOW + dt.timedelta(minutes=5)),
        ],
    )

    assert [e.event_id for e in still_open] == [
        older.event_id,
        success_before.event_id,
        other_trigger.event_id,
        no_trigger.event_id,
    ]  # oldest first
    assert set(closed) == {closed_later.event_id}
    assert closed[closed_later.event_id].trigger_event_id == "t-1"


def test_two_failed_runs_of_one_trigger_are_both_closed_by_the_success_after_them() -> None:
    first, second = exception("t-1", NOW), exception("t-1", NOW + dt.timedelta(minutes=1))
    still_open, closed = ops.split_open_exceptions([first, second], [run("t-1", NOW + dt.timedelta(minutes=2))])
    assert still_open == [] and set(closed) == {first.event_id, second.event_id}


def test_execution_names_map_back_to_their_trigger() -> None:
    assert trigger_of_execution("abc") == "abc"
    assert trigger_of_execution("abc-redrive-3") == "abc"


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


def record_exception(trail: AuditTrail, trigger: str, occurred_at: dt.datetime, severity: str = "warning") -> str:
    event = new_event(
        SyncExceptionRaisedEvent,
        {
            "flow": "quote_to_cash",
            "step": "AssignBillingTerms",
            "severity": severity,
            "error_class": "transient",
            "reason": "ERP down",
            "caused_by_event_id": trigger,
            "records": [{"system": "psa", "record_type": "project", "record_id": "7"}],
        },
        legal_entity="us-01",
        occurred_at=occurred_at,
        correlation_id=f"corr-{trigger}",
        causation_id=trigger,
    )
    trail.record_event(event, DeliveryTimings(None, None))
    return event.id


def finished(sfn: Any, arn: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.02)
    raise TimeoutError(arn)


@mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
def test_open_exceptions_are_decided_by_the_saga_runs_in_step_functions() -> None:
    sfn = boto3.client("stepfunctions")
    create_audit_table(boto3.client("dynamodb"), NAMES.audit_table)
    store = StageStores.of(boto3.client("dynamodb"), NAMES)
    trail = store.audit
    machine = sfn.create_state_machine(
        name=NAMES.state_machine("quote_to_cash"),
        definition=PASS_OR_FAIL,
        roleArn="arn:aws:iam::123456789012:role/saga",
    )["stateMachineArn"]

    def start(name: str, trigger: str, fail: bool) -> dict[str, Any]:
        arn = sfn.start_execution(
            stateMachineArn=machine, name=name, input=json.dumps({"fail": fail, "event": {"id": trigger}})
        )["executionArn"]
        return finished(sfn, arn)

    past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
    # t-fixed failed, then its redrive succeeded: closed
    start("t-fixed", "t-fixed", fail=True)
    fixed = record_exception(trail, "t-fixed", past)
    start("t-fixed-redrive-1", "t-fixed", fail=False)
    # t-open failed and was never redriven
    start("t-open", "t-open", fail=True)
    still = record_exception(trail, "t-open", past, severity="high")
    # t-named: an execution with the trigger's name but another input does not count
    start("t-named", "someone-else", fail=False)
    named = record_exception(trail, "t-named", past)
    # t-again: succeeded once, then failed again later (a second exception after the success)
    start("t-again", "t-again", fail=False)
    again = record_exception(trail, "t-again", dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1))

    still_open, closed, notes = ops.open_sync_exceptions(store, sfn)

    assert {e.event_id for e in still_open} == {still, named, again}
    assert set(closed) == {fixed} and closed[fixed].execution_name == "t-fixed-redrive-1"
    assert notes == []
    items = ops.group_items(ops.exception_items(still_open))
    # most severe group first
    assert [(flow, severity) for (flow, severity), _ in items] == [
        ("quote_to_cash", Severity.HIGH),
        ("quote_to_cash", Severity.WARNING),
    ]


@mock_aws
def test_exceptions_of_a_flow_without_a_state_machine_stay_open_with_a_note() -> None:
    create_audit_table(boto3.client("dynamodb"), NAMES.audit_table)
    store = StageStores.of(boto3.client("dynamodb"), NAMES)
    trail = store.audit
    record_exception(trail, "t-1", NOW)

    still_open, closed, notes = ops.open_sync_exceptions(store, boto3.client("stepfunctions"))

    assert len(still_open) == 1 and closed == {}
    assert notes and "concord-t-quote-to-cash" in notes[0]
