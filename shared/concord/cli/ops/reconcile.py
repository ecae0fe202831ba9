"""`concord reconcile`: compare CRM, PSA and ERP through the cross-reference registry, show the
drift, and with --repair re-apply from the authoritative system, then check again."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from ...operator.reconcile import invoke_reconcile
from ...operator.trace import resolve_entity
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
    target,
)

OBJECTS = ("customer", "project")


def reconcile(
    objects: Annotated[
        list[str] | None, typer.Option("--objects", "-o", help="customer and/or project (default: both).")
    ] = None,
    entity: Annotated[
        list[str] | None,
        typer.Option(
            "--entity",
            "-e",
            help="Only this entity (customer-…, project-…, or system:type:id, e.g. "
            "crm:opportunity:42); a project brings its customer. Repeatable.",
        ),
    ] = None,
    repair: Annotated[
        bool, typer.Option("--repair", help="Re-apply each repairable drift from its authority.")
    ] = False,
    local: Local = False,
    state_dir: StateDir = None,
    stage: Stage = None,
    profile: Profile = None,
    region: Region = None,
    as_json: AsJson = False,
) -> None:
    """Drift between the three systems, as a table; DriftDetected is published for each.

    Runs the stage's reconcile function. Exit code 0 when no drift is left, 1 otherwise.
    """
    chosen = list(dict.fromkeys(objects or OBJECTS))
    with failures():
        if unknown := [o for o in chosen if o not in OBJECTS]:
            raise UsageError(f"--objects {', '.join(unknown)}: expected {' or '.join(OBJECTS)}")
        where = target(local, state_dir, stage, profile, region)
        try:
            scope = [resolve_entity(where.stores(), e) for e in entity] if entity else None
        except ValueError as error:
            raise UsageError(str(error)) from None
        with errors.status(f"comparing the systems of the {where.label}…"):
            lambda_client = where.client("lambda")
            report = invoke_reconcile(lambda_client, where.names, chosen, repair, scope)
            remaining = invoke_reconcile(lambda_client, where.names, chosen, False, scope) if repair else report

    if as_json:
        render.print_json({"objects": chosen, "drift": report["drift"], "remaining": remaining["drift"]})
    else:
        _table(report["drift"], repaired=repair)
        if repair:
            console.print(f"after repair: {len(remaining['drift'])} drift(s) left")
    raise typer.Exit(EXIT_PROBLEM if remaining["drift"] else EXIT_OK)


def _table(drift: list[dict], *, repaired: bool) -> None:
    if not drift:
        console.print("[green]no drift[/]: the three systems agree on every linked customer and project")
        return
    table = Table(title=f"Drift between the systems ({len(drift)})")
    for column in ("object", "entity", "field", "authority", "values", "severity", *(("repair",) if repaired else ())):
        table.add_column(column)
    for row in drift:
        values = "; ".join(
            f"{system.upper()}: {value if value is not None else '—'}" for system, value in row["values"].items()
        )
        cells = [
            row["object_type"],
            row["canonical_id"][:24],
            row["field"],
            row["authority"].upper(),
            values,
            render.severity(row["severity"]),
        ]
        if repaired:
            cells.append(row.get("repair", ""))
        table.add_row(*cells)
    console.print(table)
