"""`concord exceptions`: what needs an operator, grouped by flow and business severity."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from ...clock import utc_now
from ...events.types import Severity
from ...operator import exceptions as ops
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
    parse_since,
    target,
)


def exceptions(
    severity: Annotated[
        Severity | None, typer.Option(help="Only this severity and worse (critical > high > warning > info).")
    ] = None,
    flow: Annotated[str | None, typer.Option(help="Only this flow, e.g. quote_to_cash or audit_trail.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Only what happened since: a duration back (30m, 2h, 7d) or an ISO time.")
    ] = None,
    local: Local = False,
    state_dir: StateDir = None,
    stage: Stage = None,
    profile: Profile = None,
    region: Region = None,
    as_json: AsJson = False,
) -> None:
    """Open sync exceptions and DLQ messages, grouped by flow and severity, oldest first.

    A sync exception (SyncExceptionRaised in the audit trail) is open until a later run of the
    same saga trigger succeeded. Exit code 1 when anything is open.
    """
    now = utc_now()
    with failures():
        where = target(local, state_dir, stage, profile, region)
        since_at = parse_since(since, now)
        stores, sfn, sqs = where.stores(), where.client("stepfunctions"), where.client("sqs")
        with errors.status(f"reading the audit trail, sagas and DLQs of the {where.label}…"):
            still_open, closed, notes = ops.open_sync_exceptions(stores, sfn)
            items = ops.exception_items(still_open) + ops.dlq_items(sqs, stores)

    def wanted(item: ops.OpenItem) -> bool:
        if flow and item.flow != flow:
            return False
        if severity and ops.SEVERITY_RANK[item.severity] > ops.SEVERITY_RANK[severity]:
            return False
        return not (since_at and item.since and item.since < since_at)

    items = [i for i in items if wanted(i)]
    groups = ops.group_items(items)
    if as_json:
        render.print_json(
            {
                "target": where.label,
                "stage": where.names.stage,
                "generated_at": now.isoformat(),
                "open": [item.as_json(now) for _, group in groups for item in group],
                "groups": [{"flow": f, "severity": s.value, "count": len(group)} for (f, s), group in groups],
                "closed_exceptions": [
                    {
                        "event_id": event_id,
                        "closed_by_execution": run.execution_name,
                        "succeeded_at": run.stopped_at.isoformat() if run.stopped_at else None,
                    }
                    for event_id, run in sorted(closed.items())
                ],
                "notes": notes,
            }
        )
        raise typer.Exit(EXIT_PROBLEM if items else EXIT_OK)

    exceptions_count = sum(i.kind == "sync_exception" for i in items)
    console.print(
        f"[bold]Open exceptions[/] · {where.label}: {exceptions_count} sync exception(s), "
        f"{len(items) - exceptions_count} DLQ message(s)"
    )
    if not items:
        console.print("[green]nothing open[/]")
    for (flow_name, level), group in groups:
        style = render.SEVERITY_STYLES[level.value]
        table = Table(title=f"[bold]{flow_name}[/] · [{style}]{level.value}[/] ({len(group)})", title_justify="left")
        table.add_column("age", justify="right")
        table.add_column("kind")
        table.add_column("step / event")
        table.add_column("class")
        table.add_column("reason", overflow="fold", max_width=90)
        table.add_column("id (exception event / DLQ message)", overflow="fold")
        for item in group:
            reference = item.id
            if item.kind == "dlq_message":
                reference += f"\n[dim]{item.details.get('queue')}[/]"
            elif item.details.get("caused_by_event_id"):
                reference += f"\n[dim]trigger {item.details['caused_by_event_id']}[/]"
            table.add_row(
                render.age(item.since, now),
                "saga exception" if item.kind == "sync_exception" else "DLQ message",
                item.what,
                render.error_class(item.error_class),
                render.short(item.reason, 300),
                reference,
            )
        console.print(table)
    if closed:
        console.print(f"[dim]{len(closed)} exception(s) not shown: a later run of their saga succeeded.[/]")
    for note in notes:
        console.print(f"[yellow]note:[/] {note}")
    if any(i.kind == "dlq_message" for i in items):
        console.print("[dim]next: concord dlq show <message id> · concord dlq redrive --filter … --dry-run[/]")
    raise typer.Exit(EXIT_PROBLEM if items else EXIT_OK)
