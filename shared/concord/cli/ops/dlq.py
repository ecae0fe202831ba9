"""`concord dlq show | redrive`: understand a parked message, fix it, send it back."""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
import subprocess
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.syntax import Syntax
from rich.table import Table

from ...clock import utc_now
from ...naming import source_queue_of
from ...operator.actor import Actor
from ...operator.calls import OperationsError
from ...operator.dlq import (
    Editor,
    EditOutcome,
    RedriveOutcome,
    RedriveRun,
    apply_edit,
    editable_text,
    record_move_task,
    start_message_move_task,
)
from ...operator.queues import (
    DlqMessage,
    QueueRef,
    find_dlq_message,
    flow_and_severity,
    queue_attributes,
    queue_ref,
    stage_dlqs,
)
from ...operator.trace import correlated_events, records_named
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
    Target,
    UsageError,
    console,
    errors,
    failures,
    target,
)
from .filters import combine

dlq_app = typer.Typer(help="Dead-letter queues: show a parked message, redrive selected ones.", no_args_is_help=True)

QueueOption = Annotated[
    str | None,
    typer.Option(
        "--queue", "-q", help="A DLQ: its full name, or short (audit-trail, quote-to-cash-dlq). Default: all."
    ),
]


def _dlqs(where: Target, queue: str | None) -> list[QueueRef]:
    sqs = where.client("sqs")
    if queue:
        return [queue_ref(sqs, where.names.resolve_dlq(queue))]
    return stage_dlqs(sqs, where.names)


# --------------------------------------------------------------------------- show


def _show_data(where: Target, message: DlqMessage) -> dict[str, Any]:
    stores, event = where.stores(), message.event
    with stores.audit_call("dynamodb:Query"):
        failures_ = stores.audit.failures_of(message.message_id)
        redrives = stores.audit.redrives(event_id=message.event_id, message_id=message.message_id)
    try:
        payload: Any = json.loads(message.body)
    except json.JSONDecodeError:
        payload = message.body
    first, last = (failures_[0], failures_[-1]) if failures_ else (None, None)
    return {
        "queue": message.queue,
        "source_queue": source_queue_of(message.queue),
        "flow": flow_and_severity(where.names, message.queue)[0],
        "message_id": message.message_id,
        "event_id": message.event_id,
        "event_type": message.event_type,
        "sent_at": message.sent_at.isoformat() if message.sent_at else None,
        "receive_count": message.receive_count,
        "failed_attempts": len(failures_),
        "attributes": message.attributes,
        "message_attributes": message.message_attributes,
        "payload": payload,
        "validation_errors": message.validation_errors(),
        "failures": [
            f.model_dump(
                mode="json", include={"consumer", "receive_count", "failed_at", "error_class", "reason", "event_id"}
            )
            for f in failures_
        ],
        "first_failure": first.failed_at.isoformat() if first else None,
        "last_failure": last.failed_at.isoformat() if last else None,
        "last_error": {"error_class": last.error_class.value, "reason": last.reason} if last else None,
        "lineage": {
            "correlation_id": (event or {}).get("correlation_id"),
            "events": [
                {
                    "event_id": e.event_id,
                    "type": e.event_type,
                    "source_system": e.source_system,
                    "occurred_at": e.occurred_at.isoformat() if e.occurred_at else None,
                    "recorded_at": e.recorded_at.isoformat() if e.recorded_at else None,
                }
                for e in correlated_events(stores, event)
            ],
            "records": records_named(stores, event),
        },
        "redrives": [
            {
                "record": r.key.pk,
                **r.model_dump(
                    mode="json",
                    include={
                        "who",
                        "started_at",
                        "status",
                        "dlq",
                        "target_queue",
                        "dlq_message_id",
                        "new_message_id",
                        "edited",
                    },
                ),
            }
            for r in redrives
        ]
        if message.event_id
        else [],
    }


@dlq_app.command("show")
def show(
    message_id: Annotated[str, typer.Argument(help="The DLQ message id (or the id of the event it carries).")],
    queue: QueueOption = None,
    local: Local = False,
    state_dir: StateDir = None,
    stage: Stage = None,
    profile: Profile = None,
    region: Region = None,
    as_json: AsJson = False,
) -> None:
    """A parked message: payload, attributes, failures and their reasons, the entity's lineage."""
    with failures():
        where = target(local, state_dir, stage, profile, region)
        queues = _dlqs(where, queue)
        with errors.status("looking for the message…"):
            message = find_dlq_message(where.client("sqs"), queues, message_id)
            if message is None:
                searched = ", ".join(q.name for q in queues) or "(no DLQs)"
                raise OperationsError(f"no message {message_id} in {searched} ({where.label})")
            data = _show_data(where, message)
    if as_json:
        render.print_json(data)
        raise typer.Exit(EXIT_OK)
    _print_show(data)


def _print_show(data: dict[str, Any]) -> None:
    head = Table(show_header=False, title=f"[bold]DLQ message {data['message_id']}[/]", title_justify="left")
    head.add_row("queue", f"{data['queue']} → redrives to {data['source_queue']}")
    head.add_row("flow", data["flow"])
    head.add_row("event", f"{data['event_type'] or '?'} {data['event_id'] or ''}")
    head.add_row("sent", render.when(data["sent_at"]))
    head.add_row(
        "failed attempts",
        f"{data['failed_attempts']} (audit trail); SQS receive count {data['receive_count']} (counts peeks too)",
    )
    head.add_row("first failure", render.when(data["first_failure"]))
    head.add_row("last failure", render.when(data["last_failure"]))
    if data["last_error"]:
        head.add_row("last error", render.error_class(str(data["last_error"]["error_class"])))
        head.add_row("reason", str(data["last_error"]["reason"]))
    if data["validation_errors"]:
        head.add_row("schema", "[magenta]" + "\n".join(data["validation_errors"]) + "[/]")
    else:
        head.add_row("schema", "[green]valid canonical event[/]")
    console.print(head)

    attributes = Table(title="attributes", title_justify="left", show_header=False)
    for name, value in sorted(data["attributes"].items()):
        if name.endswith("Timestamp"):
            value = f"{value} ({render.when(dt.datetime.fromtimestamp(int(value) / 1000, tz=dt.UTC))})"
        attributes.add_row(name, str(value))
    for name, value in sorted(data["message_attributes"].items()):
        attributes.add_row(f"[dim]message attribute[/] {name}", str(value.get("StringValue", value)))
    console.print(attributes)

    console.print("[bold]payload[/]")
    payload = data["payload"]
    console.print(
        Syntax(json.dumps(payload, indent=2) if not isinstance(payload, str) else payload, "json", word_wrap=True)
    )

    if data["failures"]:
        table = Table(title="failed attempts", title_justify="left")
        for column in ("#", "consumer", "failed at", "class", "reason"):
            table.add_column(column, overflow="fold")
        for failure in data["failures"]:
            table.add_row(
                str(failure["receive_count"]),
                str(failure["consumer"]),
                render.when(failure["failed_at"]),
                render.error_class(str(failure["error_class"])),
                str(failure["reason"]),
            )
        console.print(table)
    else:
        console.print(
            "[yellow]no failed attempt recorded for this message id[/] (parked by EventBridge, or recorded "
            "under another message id before a redrive)"
        )

    lineage = data["lineage"]
    if lineage["correlation_id"]:
        table = Table(title=f"lineage: correlation {lineage['correlation_id']}", title_justify="left")
        for column in ("occurred", "event", "source", "event id"):
            table.add_column(column)
        for event in lineage["events"]:
            table.add_row(
                render.when(event["occurred_at"]),
                str(event["type"]),
                str(event["source_system"]),
                str(event["event_id"]),
            )
        if not lineage["events"]:
            table.add_row("-", "no recorded event about these records shares this correlation id", "", "")
        console.print(table)
    else:
        console.print("[dim]lineage: the payload carries no correlation id[/]")
    for entry in lineage["records"]:
        systems = ", ".join(f"{s} {r['record_id']}" for s, r in sorted(entry["records"].items())) or "no records linked"
        console.print(
            f"entity {entry['named_as']} → {entry['object_type']} {entry['canonical_id'] or '(not in the registry)'}"
            f": {systems}"
        )
    for redrive in data["redrives"]:
        console.print(
            f"[dim]redriven before: {redrive['record']} by {redrive['who']} at {render.when(redrive['started_at'])}"
            f" ({redrive['status']})[/]"
        )


# --------------------------------------------------------------------------- redrive


def _editor(command: str) -> Editor:
    def edit(message: DlqMessage) -> EditOutcome:
        handle, name = tempfile.mkstemp(prefix=f"concord-{message.message_id[:8]}-", suffix=".json")
        path = Path(name)
        try:
            with os.fdopen(handle, "w") as file:
                file.write(editable_text(message))
            errors.print(
                f"editing {message.event_type or 'message'} {message.event_id or message.message_id} with {command}…"
            )
            finished = subprocess.run([*shlex.split(command), str(path)], check=False)
            if finished.returncode != 0:
                return EditOutcome(None, None, [f"the editor exited with code {finished.returncode}: edit abandoned"])
            edited = path.read_text()
        finally:
            path.unlink(missing_ok=True)
        return apply_edit(message, edited)

    return edit


STATUS_STYLES = {"redriven": "green", "would_redrive": "cyan", "refused": "magenta", "failed": "bold red"}


@dlq_app.command("redrive")
def redrive(
    queue: QueueOption = None,
    filter_: Annotated[
        list[str] | None,
        typer.Option(
            "--filter",
            "-f",
            help="Only events matching EXPR, e.g. type=AccountChanged or "
            "data.account_id=42 (see docs/operations.md); repeat to combine.",
        ),
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most N messages.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be redriven; change nothing.")] = False,
    edit: Annotated[
        bool, typer.Option("--edit", help="Edit each event in $EDITOR; it is validated against its schema first.")
    ] = False,
    move_task: Annotated[
        bool, typer.Option("--move-task", help="AWS only: move whole DLQs with SQS's own message-move task.")
    ] = False,
    local: Local = False,
    state_dir: StateDir = None,
    stage: Stage = None,
    profile: Profile = None,
    region: Region = None,
    as_json: AsJson = False,
) -> None:
    """Send DLQ messages back to their source queue (the DLQ's name without -dlq).

    A message leaves the DLQ only after it was resent; each redrive is recorded in the audit
    trail (REDRIVE#<run id>). Exit 1 when nothing matched or a message was refused or failed.
    """
    with failures():
        expression = combine(filter_ or [])
        editor = None
        if edit:
            command = os.environ.get("EDITOR") or os.environ.get("VISUAL")
            if not command:
                raise UsageError("--edit needs an editor: set $EDITOR (e.g. EDITOR=nano)")
            editor = _editor(command)
        if move_task and (local or filter_ or edit or limit):
            raise UsageError("--move-task moves whole queues on AWS: not with --local, --filter, --edit or --limit")
        where = target(local, state_dir, stage, profile, region)
        sqs, stores = where.client("sqs"), where.stores()
        dlqs = _dlqs(where, queue)
        pairs: list[tuple[QueueRef, QueueRef]] = []
        notes: list[str] = []
        for dlq in dlqs:
            source_name = source_queue_of(dlq.name)
            try:
                pairs.append((dlq, queue_ref(sqs, source_name)))
            except OperationsError as error:
                if queue:
                    raise OperationsError(f"{dlq.name} has no source queue to redrive to: {error}") from None
                parked = int(queue_attributes(sqs, dlq).get("ApproximateNumberOfMessages", 0))
                if parked:
                    notes.append(f"{dlq.name} skipped ({parked} message(s)): it has no source queue {source_name}")
        if move_task:
            _move_tasks(where, pairs, dry_run, as_json)
            return
        actor = where.actor() if not dry_run else None
        outcomes: list[RedriveOutcome] = []
        runs = []
        for dlq, source in pairs:
            remaining = None if limit is None else limit - len(outcomes)
            if remaining is not None and remaining <= 0:
                break
            run = RedriveRun(
                sqs,
                stores,
                dlq,
                source,
                actor or Actor("dry run", ""),
                filter_text=str(expression) or None,
            )
            runs.append(run)
            select = lambda message: expression.matches(message.event)
            if dry_run:
                outcomes += run.plan(select, remaining, editor)
            else:
                outcomes += run.run(select, remaining, editor)

    matched_nothing = not outcomes
    problems = [o for o in outcomes if o.status in ("refused", "failed")]
    if as_json:
        render.print_json(
            {
                "target": where.label,
                "dry_run": dry_run,
                "filter": str(expression) or None,
                "queues": [d.name for d, _ in pairs],
                "records": sorted({o.record for o in outcomes if o.record}),
                "outcomes": [o.as_json() for o in outcomes],
                "notes": notes,
                "matched": len(outcomes),
            }
        )
        raise typer.Exit(EXIT_PROBLEM if matched_nothing or problems else EXIT_OK)

    searched = ", ".join(d.name for d, _ in pairs) or "no DLQ"
    if matched_nothing:
        what = f"matching {expression}" if str(expression) else "at all"
        console.print(f"[yellow]no message {what} in {searched}: nothing redriven[/]")
        for note in notes:
            console.print(f"[dim]{note}[/]")
        raise typer.Exit(EXIT_PROBLEM)
    table = Table(title=f"{'dry run: ' if dry_run else ''}redrive from {searched}", title_justify="left")
    table.add_column("message", no_wrap=True)
    table.add_column("event", no_wrap=True)
    table.add_column("→ queue", overflow="fold")
    table.add_column("result", no_wrap=True)
    table.add_column("detail", overflow="fold", ratio=1)
    for outcome in outcomes:
        detail = outcome.detail
        if outcome.errors:
            detail += "\n" + "\n".join(f"[magenta]{e}[/]" for e in outcome.errors)
        table.add_row(
            outcome.message_id,
            f"{outcome.event_type or '?'}\n[dim]{outcome.event_id or ''}[/]",
            outcome.target,
            f"[{STATUS_STYLES[outcome.status]}]{outcome.status.replace('_', ' ')}[/]"
            + (" (edited)" if outcome.edited else ""),
            detail,
        )
    console.print(table)
    counts = {status: sum(o.status == status for o in outcomes) for status in STATUS_STYLES}
    if dry_run:
        console.print(
            f"dry run: {counts['would_redrive']} message(s) would be redriven"
            + (f", {counts['refused']} edit(s) refused" if counts["refused"] else "")
            + "; nothing was sent, deleted or recorded"
        )
    else:
        recorded = {o.record for o in outcomes}
        console.print(
            f"redriven {counts['redriven']}, refused {counts['refused']}, failed {counts['failed']}; "
            f"recorded as {', '.join(r.record_pk for r in runs if r.record_pk in recorded) or 'nothing'}"
        )
        if counts["refused"]:
            console.print("[magenta]refused messages stay in the DLQ: run again with --edit to fix them[/]")
    for note in notes:
        console.print(f"[dim]{note}[/]")
    raise typer.Exit(EXIT_PROBLEM if problems else EXIT_OK)


def _move_tasks(where: Target, pairs: list[tuple[QueueRef, QueueRef]], dry_run: bool, as_json: bool) -> None:
    sqs = where.client("sqs")
    actor = where.actor()
    moved = []
    for dlq, source in pairs:
        depth = int(queue_attributes(sqs, dlq).get("ApproximateNumberOfMessages", 0))
        if not depth:
            continue
        if dry_run:
            moved.append({"dlq": dlq.name, "target": source.name, "messages": depth, "task": None, "record": None})
            continue
        handle = start_message_move_task(sqs, dlq, source)
        record = record_move_task(where.stores(), actor, dlq, source, handle, depth, utc_now())
        moved.append({"dlq": dlq.name, "target": source.name, "messages": depth, "task": handle, "record": record})
    if as_json:
        render.print_json({"target": where.label, "dry_run": dry_run, "move_tasks": moved})
    else:
        for move in moved:
            verb = "would move" if dry_run else "moving"
            console.print(
                f"{verb} ~{move['messages']} message(s) {move['dlq']} → {move['target']}"
                + (f" (task {move['task']}, recorded as {move['record']})" if move["task"] else "")
            )
        if not moved:
            console.print("[yellow]every DLQ is empty: nothing to move[/]")
    raise typer.Exit(EXIT_OK if moved else EXIT_PROBLEM)
