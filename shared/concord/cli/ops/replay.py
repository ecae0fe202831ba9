"""`concord replay`: canonical events of a window sent over the bus again (concord.operator.replay)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from ...clock import utc_now
from ...operator import replay as rp
from ...operator.trace import parse_entity_reference
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
    UsageError,
    console,
    errors,
    failures,
    parse_moment,
    target,
)

METHODS = {
    "archive": "EventBridge replay from the archive",
    "bus": "re-published on the bus, selected from the audit trail",
}


def _selection(start: str, end: str, types: list[str], entity: str | None, now: dt.datetime) -> rp.ReplaySelection:
    window_start, window_end = parse_moment(start, now, "--from"), parse_moment(end, now, "--to")
    if window_start >= window_end:
        raise UsageError(f"--from {start} is not before --to {end}: the window is empty")
    wanted = tuple(dict.fromkeys(t.strip() for given in types for t in given.split(",") if t.strip()))
    unknown = rp.unknown_types(wanted)
    if unknown:
        raise UsageError(f"unknown event type {', '.join(unknown)}; known: {', '.join(rp.known_event_types())}")
    reference = None
    if entity:
        try:
            reference = parse_entity_reference(entity)
        except ValueError as error:
            raise UsageError(f"--entity: {error}") from None
    return rp.ReplaySelection(window_start, window_end, wanted, entity, reference)


def replay(
    start: Annotated[
        str,
        typer.Option("--from", help="Start of the window: an ISO date/time (UTC if naive) or a duration back (2h)."),
    ],
    end: Annotated[str, typer.Option("--to", help="End of the window (inclusive), as --from; default now.")] = "now",
    types: Annotated[
        list[str] | None,
        typer.Option("--type", "-t", help="Only events of this type (repeat, or comma-separate, for several)."),
    ] = None,
    entity: Annotated[
        str | None,
        typer.Option(
            help="Only events about this entity, as `concord trace` lists them: a canonical id or "
            "system:type:record_id (crm:opportunity:31)."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be replayed; send and record nothing.")
    ] = False,
    local: Local = False,
    state_dir: StateDir = None,
    stage: Stage = None,
    profile: Profile = None,
    region: Region = None,
    as_json: AsJson = False,
) -> None:
    """Replay the canonical events published in a window (and of --type, about --entity) on the stage's bus.

    Consumers are idempotent on the event id, so a replayed event has no second effect. Each
    replay is recorded in the audit trail (REPLAY#<run id>) before anything is sent. On AWS a
    window alone is replayed by EventBridge from the archive; --type, --entity and the local
    stack re-publish the events selected from the audit trail (docs/operations.md). Exit 1 when
    nothing matched or an event could not be replayed.
    """
    now = utc_now()
    with failures():
        selection = _selection(start, end, types or [], entity, now)
        where = target(local, state_dir, stage, profile, region)
        method = rp.choose_method(where.local, selection)
        stores = where.stores()
        with errors.status(f"selecting events from the audit trail of the {where.label}…"):
            chosen = rp.select_events(stores, selection)
        outcome: rp.ReplayOutcome | None = None
        if chosen and not dry_run:
            run = rp.ReplayRun(where.client("events"), stores, where.actor(), selection)
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=errors,
                transient=True,
            ) as bar:
                task = bar.add_task("replaying", total=len(chosen))

                def progress(done: int, total: int, note: str) -> None:
                    bar.update(task, completed=done, total=max(total, 1), description=note)

                replay = run.from_archive if method == "archive" else run.republish
                outcome = replay(chosen, progress)

    problem = not chosen or (outcome is not None and outcome.status != "completed")
    if as_json:
        render.print_json(
            {
                "target": where.label,
                "dry_run": dry_run,
                "method": method,
                **selection.as_json(),
                "matched": len(chosen),
                "events": [e.as_json() for e in chosen],
                "outcome": outcome.as_json() if outcome else None,
            }
        )
        raise typer.Exit(EXIT_PROBLEM if problem else EXIT_OK)

    if not chosen:
        console.print(f"[yellow]no {selection.describe()} in the audit trail of the {where.label}: nothing replayed[/]")
        raise typer.Exit(EXIT_PROBLEM)
    _print_events(chosen, f"{'dry run: ' if dry_run else ''}replay of {len(chosen)} event(s) · {METHODS[method]}")
    if dry_run:
        console.print(
            f"dry run: {len(chosen)} event(s) would be replayed ({METHODS[method]}); nothing was sent or recorded"
        )
        if method == "archive":
            console.print(
                "[dim]EventBridge replays what the archive holds in the window: these are the events the "
                "audit trail recorded (it also holds events refused as invalid, which would fail again)[/]"
            )
        raise typer.Exit(EXIT_OK)
    assert outcome is not None
    _print_outcome(outcome)
    raise typer.Exit(EXIT_PROBLEM if problem else EXIT_OK)


def _print_events(chosen: list[rp.ReplayEvent], title: str) -> None:
    table = Table(title=title, title_justify="left")
    for column in ("published", "occurred", "event", "from", "event id"):
        table.add_column(column, no_wrap=True)
    for event in chosen:
        table.add_row(
            render.when(event.published_at),
            render.when(event.occurred_at),
            event.event_type,
            event.source_system,
            event.event_id,
        )
    console.print(table)


def _print_outcome(outcome: rp.ReplayOutcome) -> None:
    style = {"completed": "green", "partial": "yellow", "failed": "bold red"}[outcome.status]
    line = f"[{style}]{outcome.status}[/]: "
    if outcome.method == "archive":
        line += (
            f"EventBridge replay {outcome.replay_name} {str(outcome.state).lower()} "
            f"({outcome.selected} event(s) in the window per the audit trail)"
        )
    else:
        line += f"replayed {outcome.sent} of {outcome.selected} event(s) on the bus as {outcome.replay_name}"
    console.print(line + f"; recorded as {outcome.record}")
    for failure in outcome.failed:
        console.print(f"[red]not replayed {failure['event_id']}: {failure['error']}[/]")
    if outcome.error and not outcome.failed:
        console.print(f"[red]{outcome.error}[/]")
    console.print("[dim]consumers dedupe on the canonical event id: replayed events have no second effect[/]")
