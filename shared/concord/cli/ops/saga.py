"""`concord saga list | redrive`: failed sagas, and a new run of one (concord.aws.sagas.redrive_saga)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from ...clock import utc_now
from ...operator import saga as ops
from ...operator.actor import Actor
from . import render
from .context import (
    EXIT_OK,
    EXIT_PROBLEM,
    AsJson,
    Local,
    Profile,
    Region,
    Stage,
    StateDir,
    console,
    errors,
    failures,
    target,
)

saga_app = typer.Typer(help="Sagas (quote-to-cash): list them, redrive a failed one.", no_args_is_help=True)

STATE_STYLES = {"running": "cyan", "succeeded": "green", "failed": "bold red"}
OUTCOME_STYLES = {"redriven": "green", "would_redrive": "cyan", "refused": "magenta", "failed": "bold red"}


class SagaStateOption(StrEnum):
    FAILED = "FAILED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"


@saga_app.command("list")
def list_(
    status: Annotated[
        SagaStateOption | None,
        typer.Option(
            "--status",
            case_sensitive=False,
            help="Only sagas in this state: FAILED (every run failed: awaiting a redrive), RUNNING, SUCCEEDED.",
        ),
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most N sagas, most recent first.")] = None,
    local: Local = False,
    state_dir: StateDir = None,
    stage: Stage = None,
    profile: Profile = None,
    region: Region = None,
    as_json: AsJson = False,
) -> None:
    """Sagas, one line per trigger event (its first run and redrives), most recently started first.

    A saga is failed while none of its runs succeeded. Exit 1 when a listed saga is failed.
    """
    with failures():
        where = target(local, state_dir, stage, profile, region)
        with errors.status(f"reading the state machines of the {where.label}…"):
            sagas = ops.list_sagas(where.client("stepfunctions"), where.names, status.value.lower() if status else None)  # type: ignore[arg-type]
    sagas = sagas[:limit] if limit else sagas
    failed = [s for s in sagas if s.state == "failed"]
    if as_json:
        render.print_json(
            {"target": where.label, "status": status.value if status else None, "sagas": [s.as_json() for s in sagas]}
        )
        raise typer.Exit(EXIT_PROBLEM if failed else EXIT_OK)
    if not sagas:
        console.print(f"no saga{' ' + status.value.lower() if status else ''} in the {where.label}")
        raise typer.Exit(EXIT_OK)
    now = utc_now()
    table = Table(title=f"sagas · {where.label}", title_justify="left")
    for column in ("state machine", "trigger event", "state", "runs", "latest run", "started"):
        table.add_column(column, no_wrap=column != "latest run", overflow="fold")
    for saga in sagas:
        table.add_row(
            saga.state_machine,
            saga.trigger_event_id,
            f"[{STATE_STYLES[saga.state]}]{saga.state}[/]",
            str(len(saga.attempts)),
            f"{saga.latest.name} ({saga.latest.status})",
            f"{render.when(saga.latest.started_at)} ({render.age(saga.latest.started_at, now)} ago)",
        )
    console.print(table)
    if failed:
        console.print(
            f"[red]{len(failed)} failed saga(s)[/]: `concord saga redrive TRIGGER_EVENT_ID` once the cause is fixed"
        )
    raise typer.Exit(EXIT_PROBLEM if failed else EXIT_OK)


@saga_app.command("redrive")
def redrive(
    execution: Annotated[
        str,
        typer.Argument(
            metavar="EXECUTION_OR_EVENT_ID",
            help="The failed execution (ARN or name, <event id>[-redrive-<n>]) or its trigger event id.",
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be started; start and record nothing.")
    ] = False,
    local: Local = False,
    state_dir: StateDir = None,
    stage: Stage = None,
    profile: Profile = None,
    region: Region = None,
    as_json: AsJson = False,
) -> None:
    """Start a new run of a failed saga: `<event id>-redrive-<n>` with the same input.

    Its steps find what earlier runs created and resume. Refused when a run is going on or one
    already succeeded. Recorded in the audit trail (REDRIVE#<run id>, record_type saga_redrive)
    before it starts. Exit 1 when refused, not found or not started.
    """
    with failures():
        where = target(local, state_dir, stage, profile, region)
        sfn = where.client("stepfunctions")
        saga = ops.find_saga(sfn, where.names, execution)
        actor = where.actor() if not dry_run and saga.refusal() is None else Actor("dry run", "")
        outcome = ops.redrive_failed_saga(sfn, where.stores(), actor, saga, dry_run=dry_run)
    ok = outcome.status in ("redriven", "would_redrive")
    if as_json:
        render.print_json({"target": where.label, "dry_run": dry_run, **outcome.as_json()})
        raise typer.Exit(EXIT_OK if ok else EXIT_PROBLEM)
    runs = ", ".join(f"{a.name} ({a.status})" for a in saga.attempts)
    console.print(f"saga {saga.trigger_event_id} · {saga.state_machine}: {runs}")
    style = OUTCOME_STYLES[outcome.status]
    line = f"[{style}]{outcome.status.replace('_', ' ')}[/]: {outcome.detail}"
    if outcome.record:
        line += f"; recorded as {outcome.record}"
    (console if ok else errors).print(line)
    if dry_run and ok:
        console.print("dry run: nothing was started or recorded")
    raise typer.Exit(EXIT_OK if ok else EXIT_PROBLEM)
