"""`concord mappings diff`: what the current mappings would send for the audit trail's recent
events, against what was rendered when they were recorded. Sends nothing; exit code 1 when
anything would change (a pre-deploy check)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from ...clock import utc_now
from ...local.template import REPO_ROOT
from ...operator import mappings as ops
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
    failures,
    parse_moment,
    target,
)

mappings_app = typer.Typer(help="Mapping changes: what they would send differently.", no_args_is_help=True)

OUTCOME_STYLES = {ops.Outcome.UNCHANGED: "green", ops.Outcome.CHANGED: "bold red", ops.Outcome.NOT_RECORDED: "yellow"}


@mappings_app.command("diff")
def diff(
    since: Annotated[
        str, typer.Option("--from", help="Events published since: a duration back (30m, 2h, 7d) or an ISO time.")
    ] = "7d",
    until: Annotated[str, typer.Option("--to", help="Until: a duration back, an ISO time, or now.")] = "now",
    config_stage: Annotated[
        str | None,
        typer.Option(help="The cdk.json stage whose mapping configuration to render with (default: the target's)."),
    ] = None,
    local: Local = False,
    state_dir: StateDir = None,
    stage: Stage = None,
    profile: Profile = None,
    region: Region = None,
    as_json: AsJson = False,
) -> None:
    """For each event of the window: unchanged, or changed with a unified diff of the requests.

    The baseline is what Concord's mappings rendered for the event when the audit trail recorded
    it; the current rendering uses this checkout's mappers and the stage's cdk.json configuration.
    """
    now = utc_now()
    with failures():
        where = target(local, state_dir, stage, profile, region)
        start, end = parse_moment(since, now, "--from"), parse_moment(until, now, "--to")
        try:
            config = ops.stage_mapping_config(config_stage or where.names.stage, REPO_ROOT)
        except KeyError as error:
            raise UsageError(f"{error.args[0]}: pass --config-stage") from None
        diffs = ops.mapping_diffs(where.stores(), start, end, config)
    changed = [d for d in diffs if d.outcome is ops.Outcome.CHANGED]
    if as_json:
        render.print_json(
            {
                "target": where.label,
                "from": start.isoformat(),
                "to": end.isoformat(),
                "events": [
                    {"event_id": d.event_id, "event_type": d.event_type, "outcome": d.outcome.value, "diff": d.diff}
                    for d in diffs
                ],
            }
        )
        raise typer.Exit(EXIT_PROBLEM if changed else EXIT_OK)
    console.print(f"[bold]Mapping diff[/] · {where.label}: {len(diffs)} event(s) from {start:%Y-%m-%d %H:%M} UTC")
    for item in diffs:
        style = OUTCOME_STYLES[item.outcome]
        console.print(f"[{style}]{item.outcome.value}[/] {item.event_type} {item.event_id}")
        if item.diff:
            console.print(escape(item.diff), highlight=False, markup=False)
    not_recorded = sum(d.outcome is ops.Outcome.NOT_RECORDED for d in diffs)
    if not_recorded:
        console.print(f"[yellow]note:[/] {not_recorded} event(s) were recorded without their rendering: not compared")
    console.print(f"{len(changed)} of {len(diffs)} event(s) would be sent differently")
    raise typer.Exit(EXIT_PROBLEM if changed else EXIT_OK)
