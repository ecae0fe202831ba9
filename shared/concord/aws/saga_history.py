"""A saga execution's history, step by step: when each state ran, how often, how it ended."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StepRun:
    state: str
    kind: str  # Task, Pass, ...
    entered: dt.datetime
    exited: dt.datetime | None
    attempts: int  # Lambda invocations (1 + retries)
    failed_attempts: int

    @property
    def duration_ms(self) -> float | None:
        return (self.exited - self.entered).total_seconds() * 1000 if self.exited else None


def execution_history(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
        events.extend(page["events"])
    return events


def step_runs(events: list[dict[str, Any]]) -> list[StepRun]:
    runs: list[StepRun] = []
    current: dict[str, Any] | None = None
    for event in events:
        kind = event["type"]
        if kind.endswith("StateEntered"):
            details = event["stateEnteredEventDetails"]
            current = {
                "state": details["name"],
                "kind": kind.removesuffix("StateEntered"),
                "entered": event["timestamp"],
                "attempts": 0,
                "failed": 0,
            }
        elif current is not None and kind == "LambdaFunctionScheduled":
            current["attempts"] += 1
        elif current is not None and kind in ("LambdaFunctionFailed", "LambdaFunctionTimedOut"):
            current["failed"] += 1
        elif current is not None and kind.endswith("StateExited"):
            runs.append(
                StepRun(
                    current["state"],
                    current["kind"],
                    current["entered"],
                    event["timestamp"],
                    current["attempts"],
                    current["failed"],
                )
            )
            current = None
    if current is not None:  # still running, or failed inside the state
        runs.append(
            StepRun(current["state"], current["kind"], current["entered"], None, current["attempts"], current["failed"])
        )
    return runs
