"""A stage's Step Functions state machines and their executions.

Saga executions are named after their trigger: `<event id>` or `<event id>-redrive-<n>`
(concord.aws.sagas), so the runs of one trigger are found by name.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from ..aws.sagas import REDRIVE_SEPARATOR
from ..naming import Names
from .calls import aws_call

FAILED_STATUSES = ("FAILED", "TIMED_OUT", "ABORTED")


def trigger_of_execution(name: str) -> str:
    """`<event id>` or `<event id>-redrive-<n>` → `<event id>`."""
    return name.split(REDRIVE_SEPARATOR)[0]


def state_machine_arns(sfn: Any, names: Names) -> dict[str, str]:
    """The stage's state machines, name → ARN."""
    found = {}
    with aws_call("state machines", "states:ListStateMachines"):
        for page in sfn.get_paginator("list_state_machines").paginate():
            for machine in page["stateMachines"]:
                if machine["name"].startswith(f"{names.prefix}-"):
                    found[machine["name"]] = machine["stateMachineArn"]
    return found


def executions(sfn: Any, state_machine_arn: str, status: str | None = None) -> list[dict[str, Any]]:
    """ListExecutions of one state machine (all pages), optionally of one status."""
    kwargs: dict[str, Any] = {"stateMachineArn": state_machine_arn}
    if status:
        kwargs["statusFilter"] = status
    found: list[dict[str, Any]] = []
    with aws_call(f"state machine {state_machine_arn.rsplit(':', 1)[-1]}", "states:ListExecutions"):
        for page in sfn.get_paginator("list_executions").paginate(**kwargs):
            found.extend(page["executions"])
    return found


@dataclass(frozen=True)
class SuccessfulRun:
    """A SUCCEEDED saga execution and the trigger event id its input carries."""

    trigger_event_id: str
    execution_name: str
    execution_arn: str
    stopped_at: dt.datetime | None


def _input_trigger(described: dict[str, Any]) -> str | None:
    try:
        trigger = json.loads(described.get("input") or "{}").get("event", {}).get("id")
    except (json.JSONDecodeError, AttributeError):
        return None
    return str(trigger) if trigger is not None else None


def successful_runs(sfn: Any, state_machine_arn: str, trigger_ids: set[str]) -> list[SuccessfulRun]:
    """SUCCEEDED executions whose input event id is one of `trigger_ids`.

    Candidates by name (executions are named after their trigger), confirmed by their input.
    """
    runs = []
    machine = state_machine_arn.rsplit(":", 1)[-1]
    for execution in executions(sfn, state_machine_arn, "SUCCEEDED"):
        if trigger_of_execution(execution["name"]) not in trigger_ids:
            continue
        with aws_call(f"execution {execution['name']} of {machine}", "states:DescribeExecution"):
            described = sfn.describe_execution(executionArn=execution["executionArn"])
        trigger = _input_trigger(described)
        if trigger in trigger_ids:
            runs.append(
                SuccessfulRun(
                    trigger,
                    execution["name"],
                    execution["executionArn"],
                    described.get("stopDate") or execution.get("stopDate"),
                )
            )
    return runs
