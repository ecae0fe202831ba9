"""A master-data queue batch applied once per record, for its newest change.

A master-data flow reads the source's CURRENT record, which holds every older change too: so
within a batch each record is synced once, for its newest change, and the older changes share
that outcome (the same error when it failed, else "superseded"). An event of another type
fails alone; one record's failure does not stop the others."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence

from ..errors import ValidationFailed
from ..events import Envelope


def newest_change_per_record[E: Envelope, R](
    records: Sequence[tuple[Hashable, Envelope]],
    *,
    takes: type[E],
    record_of: Callable[[E], str],
    sync_one: Callable[[E], R],
    superseded: Callable[[E], R],
    flow: str,
) -> dict[Hashable, R | Exception]:
    outcomes: dict[Hashable, R | Exception] = {}
    by_record: dict[str, list[tuple[Hashable, E]]] = defaultdict(list)
    for key, event in records:
        if isinstance(event, takes):
            by_record[record_of(event)].append((key, event))
        else:
            outcomes[key] = ValidationFailed(f"{flow} takes {takes.__name__.removesuffix('Event')}, not {event.type}")
    for changes in by_record.values():
        changes.sort(key=lambda change: change[1].occurred_at)
        newest_key, newest = changes[-1]
        try:
            outcome: R | Exception = sync_one(newest)
        except Exception as error:  # noqa: BLE001 - this record's changes fail, the others go on
            outcome = error
        outcomes[newest_key] = outcome
        for key, _ in changes[:-1]:
            outcomes[key] = outcome if isinstance(outcome, Exception) else superseded(newest)
    return outcomes
