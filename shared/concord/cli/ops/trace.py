"""`concord trace`: one entity across CRM, PSA and ERP, and the events that made it so."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from ...operator import trace as ops
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

ROLE_STYLES = {"exception": "yellow", "changed": ""}


def trace(
    reference: Annotated[
        str,
        typer.Argument(
            metavar="ENTITY_OR_RECORD",
            help="A canonical id (customer-…, project-…) or system:type:record_id, e.g. crm:opportunity:31, "
            "crm:account:12, erp:customer:5, psa:project:7.",
        ),
    ],
    local: Local = False,
    state_dir: StateDir = None,
    stage: Stage = None,
    profile: Profile = None,
    region: Region = None,
    as_json: AsJson = False,
) -> None:
    """The canonical entity, its id in each system (cross-references) and its events.

    Exit code 1 when the cross-reference registry does not know the entity.
    """
    with failures():
        try:
            parsed = ops.parse_entity_reference(reference)
        except ValueError as error:
            raise UsageError(str(error)) from None
        where = target(local, state_dir, stage, profile, region)
        with errors.status("reading the cross-reference registry and the audit trail…"):
            found = ops.trace_entity(where.stores(), parsed, reference)
    known = found.canonical_id is not None and bool(found.links)
    if as_json:
        render.print_json({"target": where.label, "known": known, **found.as_json()})
        raise typer.Exit(EXIT_OK if known else EXIT_PROBLEM)

    title = f"[bold]{found.object_type} {found.canonical_id or '(not in the cross-reference registry)'}[/]"
    if found.derived:
        title += " [dim](derived from the CRM id)[/]"
    if found.name:
        title += f" · {found.name}"
    console.print(title)
    records = Table(title="records", title_justify="left")
    for column in ("system", "record id", "linked by event", "linked at"):
        records.add_column(column)
    for link in sorted(
        found.links,
        key=lambda link: ("crm", "psa", "erp").index(link.system) if link.system in ("crm", "psa", "erp") else 9,
    ):
        records.add_row(link.system.upper(), link.record_id, link.linked_by or "-", render.when(link.linked_at))
    if not found.links:
        records.add_row("-", "no cross-reference", "", "")
    console.print(records)

    events = Table(title="events (audit trail), oldest first", title_justify="left")
    for column in ("occurred", "event", "from"):
        events.add_column(column, no_wrap=True)
    events.add_column("role", overflow="fold")
    events.add_column("records", overflow="fold")
    events.add_column("summary", overflow="fold", ratio=1)
    events.add_column("event id", no_wrap=True)
    for event in found.events:
        role = str(event["role"])
        style = "green" if role.startswith("created") else ROLE_STYLES.get(role, "")
        events.add_row(
            render.when(event["occurred_at"]),
            str(event["type"]),
            str(event["source_system"]),
            f"[{style}]{role}[/]" if style else role,
            ", ".join(event["records"]),
            render.short(event["summary"], 90),
            str(event["event_id"]),
        )
    if not found.events:
        events.add_row("-", "no recorded event concerns it", "", "", "", "", "")
    console.print(events)
    if found.lineage:
        lineage = Table(title="lineage (what Concord did to its records), oldest first", title_justify="left")
        for column in ("at", "system", "record", "event", "what"):
            lineage.add_column(column, overflow="fold")
        for entry in found.lineage:
            lineage.add_row(
                render.when(entry["at"]),
                str(entry["system"]).upper(),
                str(entry["record_id"]),
                f"{entry['event_type']} {str(entry['event_id'])[:8]}…",
                str(entry["action"]),
            )
        console.print(lineage)
    if found.related:
        console.print("related: " + ", ".join(found.related))
    if not known:
        console.print(
            f"[yellow]{reference} is not in the cross-reference registry: no system record was linked to it (yet)[/]"
        )
    raise typer.Exit(EXIT_OK if known else EXIT_PROBLEM)
