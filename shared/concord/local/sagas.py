"""Finding and watching quote-to-cash executions on the local stack (demo, tests, benchmarks)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..aws.saga_history import StepRun, execution_history, step_runs
from ..catalog import SAGA
from .stack import STACK_NAME

if TYPE_CHECKING:
    from types_boto3_stepfunctions import SFNClient

QUOTE_TO_CASH = SAGA.physical_name(STACK_NAME)


def machine_arn(sfn: SFNClient, name: str = QUOTE_TO_CASH) -> str:
    return next(m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"] if m["name"] == name)


# (Step Functions endpoint, execution ARN) -> the opportunity its input names. An execution's input
# never changes, so each is described once to learn it: a poll lists the executions and describes
# only new ones and the opportunity's own (describing every execution of a long-lived stack on
# every poll cost a busy CPU core while tests waited).
_OPPORTUNITY_OF: dict[tuple[str, str], object] = {}


def executions_for(sfn: Any, opportunity_id: str) -> list[dict[str, Any]]:
    """Every execution (first run and redrives) started for one CRM opportunity, oldest first."""
    found = []
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine_arn(sfn)):
        for execution in page["executions"]:
            key = (sfn.meta.endpoint_url, execution["executionArn"])
            described = None
            if key not in _OPPORTUNITY_OF:
                described = sfn.describe_execution(executionArn=execution["executionArn"])
                _OPPORTUNITY_OF[key] = json.loads(described["input"])["event"]["data"]["opportunity_id"]
            if _OPPORTUNITY_OF[key] == opportunity_id:
                found.append(described or sfn.describe_execution(executionArn=execution["executionArn"]))
    return sorted(found, key=lambda e: e["startDate"])


def wait_for_execution(sfn: Any, opportunity_id: str, timeout: float = 120, count: int = 1) -> dict[str, Any]:
    """The `count`-th execution for the opportunity, once it has finished."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        executions = executions_for(sfn, opportunity_id)
        if len(executions) >= count and executions[count - 1]["status"] != "RUNNING":
            return executions[count - 1]
        time.sleep(0.25)
    raise TimeoutError(f"no finished execution #{count} for opportunity {opportunity_id} within {timeout:.0f} s")


def when_state_entered(
    sfn: Any, opportunity_id: str, state: str, action: Callable[[], object], timeout: float = 60
) -> None:
    """Run `action` as soon as the opportunity's saga enters `state` (to break a system mid-saga)."""
    deadline = time.monotonic() + timeout
    while not (executions := executions_for(sfn, opportunity_id)):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no saga started for opportunity {opportunity_id}")
        time.sleep(0.05)
    arn = executions[-1]["executionArn"]
    while time.monotonic() < deadline:
        if any(run.state == state for run in steps(sfn, arn)):
            action()
            return
        time.sleep(0.01)
    raise TimeoutError(f"the saga of opportunity {opportunity_id} never entered {state}")


def steps(sfn: Any, execution_arn: str) -> list[StepRun]:
    return step_runs(execution_history(sfn, execution_arn))
