"""`concord status`: one screen of queues, DLQs, sagas, poll checkpoints and open exceptions."""

from __future__ import annotations

import typer
from rich.table import Table

from ...clock import utc_now
from ...events.types import Severity
from ...operator import status as ops
from ...operator.exceptions import open_sync_exceptions
from ...stores.checkpoints import Checkpoint
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

# A watch whose checkpoint has not moved for this long is flagged (the poller runs every few minutes).
CHECKPOINT_WARNING_SECONDS = 15 * 60
CHECKPOINT_HIGH_SECONDS = 60 * 60
# Severity of failed sagas nobody redrove: the saga alarms' (infra: quote-to-cash-failed → warning).
SAGA_SEVERITY = Severity.WARNING


def _worst(levels: list[str]) -> str:
    order = ["critical", "high", "warning", "info", "ok"]
    return min(levels, key=order.index) if levels else "ok"


def status(
    local: Local = False,
    state_dir: StateDir = None,
    stage: Stage = None,
    profile: Profile = None,
    region: Region = None,
    as_json: AsJson = False,
) -> None:
    """Queue and DLQ depths, DLQ ages, running and failed sagas, poll checkpoints, open exceptions.

    Colours are the alarms' business severities. Exit code 1 when anything alarms.
    """
    now = utc_now()
    with failures():
        where = target(local, state_dir, stage, profile, region)
        sqs, sfn, stores = where.client("sqs"), where.client("stepfunctions"), where.stores()
        with errors.status(f"reading the {where.label}…"):
            queues = ops.queue_statuses(sqs, where.names, now)
            sagas = ops.saga_statuses(sfn, where.names)
            with stores.checkpoints_call("dynamodb:Scan"):
                marks = stores.checkpoints.all()
            still_open, _closed, _notes = open_sync_exceptions(stores, sfn)

    levels: list[str] = []
    queue_rows = []
    for queue in queues:
        level = queue.severity.value if queue.alarming else "ok"
        levels.append(level)
        queue_rows.append((queue, level))
    saga_rows = []
    for saga in sagas:
        level = SAGA_SEVERITY.value if saga.unresolved else "ok"
        levels.append(level)
        saga_rows.append((saga, level))
    mark_rows: list[tuple[Checkpoint, str, float | None]] = []
    for mark in marks:
        age = (now - mark.saved_at).total_seconds() if mark.saved_at else None
        level = (
            "high"
            if age is None or age > CHECKPOINT_HIGH_SECONDS
            else "warning"
            if age > CHECKPOINT_WARNING_SECONDS
            else "ok"
        )
        levels.append(level)
        mark_rows.append((mark, level, age))
    by_severity: dict[str, int] = {}
    for exception in still_open:
        by_severity[exception.severity.value] = by_severity.get(exception.severity.value, 0) + 1
        levels.append(exception.severity.value)
    overall = _worst(levels)

    if as_json:
        render.print_json(
            {
                "target": where.label,
                "stage": where.names.stage,
                "generated_at": now.isoformat(),
                "severity": overall,
                "queues": [q.as_json() for q in queues],
                "sagas": [s.as_json() for s in sagas],
                "checkpoints": [
                    {**m.model_dump(mode="json"), "age_seconds": round(a) if a is not None else None, "severity": level}
                    for m, level, a in mark_rows
                ],
                "open_exceptions": {"total": len(still_open), "by_severity": by_severity},
            }
        )
        raise typer.Exit(EXIT_OK if overall == "ok" else EXIT_PROBLEM)

    console.print(
        f"[bold]Concord status[/] · {where.label} · {render.when(now)} UTC · "
        f"overall {render.styled(overall, overall).markup}"
    )
    table = Table(title="queues", title_justify="left")
    for column, justify in (
        ("queue", "left"),
        ("flow", "left"),
        ("visible", "right"),
        ("in flight", "right"),
        ("delayed", "right"),
        ("oldest", "right"),
        ("state", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for queue, level in queue_rows:
        state = ("ALARM (" + queue.severity.value + ")") if queue.alarming else "ok"
        table.add_row(
            render.styled(where.names.short(queue.name), level),
            queue.flow,
            str(queue.visible),
            str(queue.in_flight),
            str(queue.delayed),
            render.duration(queue.oldest_age_seconds) if queue.kind == "dlq" else "",
            render.styled(state, level),
        )
    console.print(table)

    table = Table(title="sagas", title_justify="left")
    for column in ("state machine", "running", "oldest running", "succeeded", "failed", "unresolved failures"):
        table.add_column(column)
    for saga, level in saga_rows:
        unresolved = ", ".join(u["execution"] for u in saga.unresolved[-3:])
        if len(saga.unresolved) > 3:
            unresolved = f"… {unresolved}"
        table.add_row(
            where.names.short(saga.state_machine),
            str(saga.running),
            render.age(saga.oldest_running_since, now) if saga.oldest_running_since else "-",
            str(saga.succeeded),
            str(saga.failed),
            render.styled(f"{len(saga.unresolved)} {unresolved}".strip(), level),
        )
    if not saga_rows:
        table.add_row("no state machine", "", "", "", "", "")
    console.print(table)

    table = Table(title="poll checkpoints", title_justify="left")
    for column in ("watch", "cursor (the connector's own)", "saved", "age"):
        table.add_column(column)
    for mark, level, age in mark_rows:
        table.add_row(
            mark.watch, mark.cursor or "-", render.when(mark.saved_at), render.styled(render.duration(age), level)
        )
    if not mark_rows:
        table.add_row("no checkpoint yet (the poller has not run)", "", "", "")
    console.print(table)

    if still_open:
        parts = ", ".join(
            render.styled(f"{n} {s}", s).markup
            for s, n in sorted(by_severity.items(), key=lambda kv: ["critical", "high", "warning", "info"].index(kv[0]))
        )
        console.print(f"open sync exceptions: {parts} · see `concord exceptions`")
    else:
        console.print("[green]no open sync exception[/]")
    raise typer.Exit(EXIT_OK if overall == "ok" else EXIT_PROBLEM)
