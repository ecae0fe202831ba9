"""Statuses Concord keeps on Tryton records as ir.notes ("Concord financial status: paid (set
by Concord <time>)"), written for many records at once: Tryton has no status field for them
(see TrytonCrm.set_financial_statuses and TrytonPsa.set_billing_statuses).

A batch costs one call whatever its size: concord_sync's `concord.status_notes.note_statuses`
finds which records exist, reads the newest status note of each and notes only what is new,
in one transaction on the server (writing the same status twice adds no note).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from concord.domain import FinancialStatus
from concord.errors import ConcordError

from . import names
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
    messages = {str(id_): kind.note(statuses[rid]) for rid, id_ in ids.items()}
    try:
        # concord_sync's own method (its status.py), exposed through the model's __rpc__:
        # https://docs.tryton.org/server/ref/rpc.html
        method = f"model.{Model.STATUS_NOTES}.note_statuses"
        missing = set(client.call(method, kind.model, list(kind.domain), kind.prefix, messages))
    except ConcordError as error:
        return failed | dict.fromkeys(ids, error)
    return failed | {
        rid: names.not_found(kind.what, id_, client.database) for rid, id_ in ids.items() if id_ in missing
    }
