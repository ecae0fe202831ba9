"""Statuses Concord keeps on Tryton records as ir.notes ("Concord financial status: paid (set
by Concord <time>)"), written for many records at once: Tryton has no status field for them
(see TrytonCrm.set_financial_statuses and TrytonPsa.set_billing_statuses).

A batch costs three calls whatever its size: which records exist, the newest status note of
each, one create of the notes that say something new (none when every record already shows
its status: writing the same status twice adds no note).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from concord.domain import FinancialStatus
from concord.errors import ConcordError

from . import lookups, mapping, names
from .names import Model
from .rpc import TrytonRpcClient


@dataclass(frozen=True)
class NotedStatus:
    """Which records carry which status note."""

    model: str  # e.g. Model.OPPORTUNITY
    what: str  # how an error names the record: "opportunity"
    prefix: str  # the note's prefix (names.FINANCIAL_STATUS_NOTE)
    note: Callable[[FinancialStatus], str]  # the note's message
    domain: Sequence[Any] = ()  # what else a record of `model` must match


def write_statuses(
    client: TrytonRpcClient, kind: NotedStatus, statuses: Mapping[str, FinancialStatus]
) -> dict[str, ConcordError]:
    """Note each record's status unless its newest note says it already; the failures by
    record id (a record that does not exist is a RecordNotFound of its own)."""
    failed: dict[str, ConcordError] = {}
    ids: dict[str, int] = {}
    for record_id in statuses:
        try:
            ids[record_id] = names.record_id(record_id, kind.what)
        except ConcordError as error:
            failed[record_id] = error
    if not ids:
        return failed
    try:
        # https://docs.tryton.org/server/ref/models.html#trytond.model.ModelStorage.search_read
        rows = lookups.search_read(
            client, kind.model, [["id", "in", sorted(set(ids.values()))], *kind.domain], ["id"], active_test=False
        )
        existing = {int(row["id"]) for row in rows}
        failed.update(
            {rid: names.not_found(kind.what, id_, client.database) for rid, id_ in ids.items() if id_ not in existing}
        )
        present = {rid: id_ for rid, id_ in ids.items() if id_ in existing}
        latest = _latest_notes(client, kind, present.values())
        notes = [
            {"resource": lookups.resource(kind.model, id_), "message": kind.note(statuses[rid])}
            for rid, id_ in present.items()
            if mapping.status_of_note(latest.get(id_), kind.prefix) != statuses[rid]
        ]
        if notes:
            # https://docs.tryton.org/server/ref/models.html#trytond.model.ModelStorage.create
            client.create(Model.NOTE, notes)
    except ConcordError as error:
        failed.update({rid: error for rid in ids if rid not in failed})
    return failed


def _latest_notes(client: TrytonRpcClient, kind: NotedStatus, ids: Iterable[int]) -> dict[int, str]:
    """The newest status note of each record, by record id (one search)."""
    resources = sorted({lookups.resource(kind.model, id_) for id_ in ids})
    if not resources:
        return {}
    rows = lookups.search_read(
        client,
        Model.NOTE,
        [["resource", "in", resources], ["message", "like", f"{kind.prefix}%"]],
        ["resource", "message"],
        order=[("id", "ASC")],
    )
    return {int(str(row["resource"]).split(",", 1)[1]): str(row["message"]) for row in rows}
