"""Starting and redriving saga executions.

An execution is named after the event that triggered it, so a duplicated trigger cannot
start a second saga (Step Functions refuses a second execution of the same name). A
redrive after a failure is a new execution named `<event id>-redrive-<n>` with the same
input: its steps find what the first run created and resume it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from ..events import Envelope

if TYPE_CHECKING:
    from types_boto3_stepfunctions import SFNClient

REDRIVE_SEPARATOR = "-redrive-"


def execution_name(event_id: str) -> str:
    return event_id


def start_saga(sfn: SFNClient, state_machine_arn: str, trigger: Envelope) -> bool:
    """Start the saga for `trigger`; False when it was already started (a duplicate)."""
    try:
        sfn.start_execution(
            stateMachineArn=state_machine_arn,
            name=execution_name(trigger.id),
            input=json.dumps({"event": trigger.model_dump(mode="json")}),
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ExecutionAlreadyExists":
            return False
        raise
    return True


@dataclass(frozen=True)
class RedrivePlan:
    """The next attempt of a saga: which state machine, the new execution's name, the input."""

    state_machine_arn: str
    trigger_event_id: str
    failed_execution: str
    name: str  # `<event id>-redrive-<n>`, n = the attempts so far
    input: str


def plan_redrive(sfn: SFNClient, execution_arn: str) -> RedrivePlan:
    """What `redrive_saga` would start for `execution_arn` (starts nothing)."""
    described = sfn.describe_execution(executionArn=execution_arn)
    base = described["name"].split(REDRIVE_SEPARATOR)[0]
    machine = described["stateMachineArn"]
    attempts = [
        e["name"]
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine)
        for e in page["executions"]
        if e["name"] == base or e["name"].startswith(base + REDRIVE_SEPARATOR)
    ]
    return RedrivePlan(machine, base, described["name"], f"{base}{REDRIVE_SEPARATOR}{len(attempts)}",
                       described["input"])


def start_redrive(sfn: SFNClient, plan: RedrivePlan) -> str:
    """Start a planned attempt; returns the new execution's ARN."""
    response = sfn.start_execution(stateMachineArn=plan.state_machine_arn, name=plan.name, input=plan.input)
    return response["executionArn"]


def redrive_saga(sfn: SFNClient, execution_arn: str) -> str:
    """Start the next attempt of a failed execution; returns the new execution's ARN."""
    return start_redrive(sfn, plan_redrive(sfn, execution_arn))
