"""`concord saga`: the stage's quote-to-cash sagas (one per trigger, with all its runs), and redrive.

A redrive starts a new run of a saga whose runs all failed (`<event id>-redrive-<n>`, the same
input), recorded first; it is refused while a run is going on or once one succeeded.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from ..aws.sagas import plan_redrive, start_redrive
from ..clock import Clock, utc_now
from ..naming import Names
from ..stores.audit_items import RedriveKey, RedriveRecord
from .actor import Actor
from .calls import OperationsError, aws_call
from .dlq import start_redrive_record
from .executions import executions, state_machine_arns, trigger_of_execution
from .stores import StageStores

SagaState = Literal["running", "succeeded", "failed"]


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if isinstance(moment, dt.datetime) else None


@dataclass(frozen=True)
class SagaAttempt:
    name: str
    arn: str
    status: str  # RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED
    started_at: dt.datetime | None
    stopped_at: dt.datetime | None

    @classmethod
    def from_listing(cls, execution: dict[str, Any]) -> SagaAttempt:
        return cls(
            execution["name"],
            execution["executionArn"],
            execution["status"],
            execution.get("startDate"),
            execution.get("stopDate"),
        )


@dataclass
class Saga:
    """Every run of one saga trigger: the first execution and its redrives, oldest first."""

    state_machine: str
    state_machine_arn: str
    trigger_event_id: str
    attempts: list[SagaAttempt]

    @property
    def latest(self) -> SagaAttempt:
        return self.attempts[-1]

    @property
    def state(self) -> SagaState:
        if any(a.status == "RUNNING" for a in self.attempts):
            return "running"
        if any(a.status == "SUCCEEDED" for a in self.attempts):
            return "succeeded"
        return "failed"

    def refusal(self) -> str | None:
        """Why this saga must not be redriven (None: its runs all failed, so it may be)."""
        running = [a for a in self.attempts if a.status == "RUNNING"]
        if running:
            return (
                f"saga {self.trigger_event_id} is running ({running[-1].name}, started "
                f"{_iso(running[-1].started_at)}): let it finish, then redrive it if it fails"
            )
        succeeded = [a for a in self.attempts if a.status == "SUCCEEDED"]
        if succeeded:
            return (
                f"saga {self.trigger_event_id} already succeeded ({succeeded[-1].name}, "
                f"{_iso(succeeded[-1].stopped_at)}): nothing to redrive"
            )
        return None

    def as_json(self) -> dict[str, Any]:
        return {
            "state_machine": self.state_machine,
            "trigger_event_id": self.trigger_event_id,
            "state": self.state,
            "latest_execution": self.latest.name,
            "latest_status": self.latest.status,
            "started_at": _iso(self.attempts[0].started_at),
            "latest_started_at": _iso(self.latest.started_at),
            "latest_stopped_at": _iso(self.latest.stopped_at),
            "attempts": [
                {
                    "name": a.name,
                    "status": a.status,
                    "started_at": _iso(a.started_at),
                    "stopped_at": _iso(a.stopped_at),
                    "execution_arn": a.arn,
                }
                for a in self.attempts
            ],
        }


_EPOCH = dt.datetime.min.replace(tzinfo=dt.UTC)


def _sagas_of(machine: str, arn: str, listing: Iterable[dict[str, Any]]) -> list[Saga]:
    by_trigger: dict[str, list[SagaAttempt]] = defaultdict(list)
    for execution in listing:
        by_trigger[trigger_of_execution(execution["name"])].append(SagaAttempt.from_listing(execution))
    return [
        Saga(machine, arn, trigger, sorted(attempts, key=lambda a: (a.started_at or _EPOCH, a.name)))
        for trigger, attempts in by_trigger.items()
    ]


def list_sagas(sfn: Any, names: Names, state: SagaState | None = None) -> list[Saga]:
    """The stage's sagas (one per trigger, with all its runs), most recently started first."""
    sagas = []
    for machine, arn in sorted(state_machine_arns(sfn, names).items()):
        sagas += _sagas_of(machine, arn, executions(sfn, arn))
    sagas.sort(key=lambda s: s.latest.started_at or _EPOCH, reverse=True)
    return [s for s in sagas if state is None or s.state == state]


def find_saga(sfn: Any, names: Names, given: str) -> Saga:
    """A saga by an execution ARN, an execution name (`<event id>[-redrive-<n>]`) or its trigger event id."""
    if given.startswith("arn:") and ":execution:" in given:
        # arn:aws:states:<region>:<account>:execution:<machine>:<name>
        machine_name, name = given.split(":execution:", 1)[1].split(":", 1)
        machine_arn = given.split(":execution:", 1)[0] + f":stateMachine:{machine_name}"
        machines = {machine_name: machine_arn}
        trigger = trigger_of_execution(name)
    else:
        machines = state_machine_arns(sfn, names)
        trigger = trigger_of_execution(given.strip())
    found = []
    for machine, arn in sorted(machines.items()):
        runs = [e for e in executions(sfn, arn) if trigger_of_execution(e["name"]) == trigger]
        if runs:
            found += _sagas_of(machine, arn, runs)
    if not found:
        searched = ", ".join(sorted(machines)) or f"no state machine {names.prefix}-*"
        raise OperationsError(f"no saga execution {given} in {searched}")
    if len(found) > 1:
        raise OperationsError(
            f"{given} names runs of several state machines ({', '.join(s.state_machine for s in found)}):"
            " pass the execution ARN"
        )
    return found[0]


@dataclass
class SagaRedriveOutcome:
    saga: Saga
    status: Literal["would_redrive", "redriven", "refused", "failed"]
    detail: str
    new_execution: str | None = None
    new_execution_arn: str | None = None
    record: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "detail": self.detail,
            "trigger_event_id": self.saga.trigger_event_id,
            "state_machine": self.saga.state_machine,
            "failed_execution": self.saga.latest.name,
            "failed_status": self.saga.latest.status,
            "new_execution": self.new_execution,
            "new_execution_arn": self.new_execution_arn,
            "record": self.record,
            "saga": self.saga.as_json(),
        }


def redrive_failed_saga(
    sfn: Any,
    stores: StageStores,
    actor: Actor,
    saga: Saga,
    *,
    dry_run: bool = False,
    clock: Clock = utc_now,
) -> SagaRedriveOutcome:
    """A new run of a saga whose runs all failed, recorded before it starts.

    The record: `RedriveKey.execution(<run id>, <failed execution>)`, record_type `saga_redrive`.
    """
    refusal = saga.refusal()
    if refusal:
        return SagaRedriveOutcome(saga, "refused", refusal)
    failed = saga.latest
    with aws_call(
        f"execution {failed.name} of {saga.state_machine}", "states:DescribeExecution, states:ListExecutions"
    ):
        plan = plan_redrive(sfn, failed.arn)
    if dry_run:
        return SagaRedriveOutcome(
            saga, "would_redrive", f"would start {plan.name} with the input of {failed.name}", new_execution=plan.name
        )
    key = RedriveKey.execution(uuid.uuid4().hex, failed.name)
    record = key.pk
    start_redrive_record(
        stores,
        RedriveRecord(
            run_id=key.run_id,
            target=key.target,
            record_type="saga_redrive",
            stage=stores.names.stage,
            who=actor.who,
            os_user=actor.os_user,
            started_at=clock(),
            status="starting",
            state_machine=saga.state_machine,
            event_id=saga.trigger_event_id,
            failed_execution=failed.name,
            failed_status=failed.status,
            attempts_before=len(saga.attempts),
            new_execution=plan.name,
        ),
    )

    def update(**values: Any) -> None:
        try:
            with stores.audit_call("dynamodb:UpdateItem"):
                stores.audit.update_redrive(key, **values)
        except OperationsError:
            pass  # the record says "starting"; the execution itself is the truth

    try:
        with aws_call(f"state machine {saga.state_machine}", "states:StartExecution"):
            arn = start_redrive(sfn, plan)
    except OperationsError as error:
        update(status="start_failed", error=str(error)[:1000], finished_at=clock())
        return SagaRedriveOutcome(saga, "failed", f"{plan.name} not started: {error}", plan.name, record=record)
    update(status="started", new_execution_arn=arn, finished_at=clock())
    return SagaRedriveOutcome(saga, "redriven", f"started {plan.name}", plan.name, arn, record)
