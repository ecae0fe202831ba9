"""Change capture by polling Tryton: it has no change feed, so a connector reads the records
written after a TimeCursor (connectors/kit/cursors.py), oldest first.

The change time is `last_modified_at` (ModelSQL's COALESCE(write_date, create_date): searchable
and sortable) unless a record type has a better one (a timesheet line's approved_at).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from pydantic import ValidationError

from concord.connectors.kit.cursors import TimeCursor
from concord.domain import ChangePage, RecordChange
from concord.errors import ValidationFailed

from .lookups import Row, search_read
from .names import MODIFIED_AT, from_tryton_datetime, to_tryton_datetime
from .rpc import TrytonRpcClient

# A Tryton transaction stamps write_date with its START, so a change committed after a poll
# can carry a time before that poll's checkpoint: a run re-reads this much before it.
RESUME_OVERLAP = dt.timedelta(seconds=60)


class RecordTypes:
    """The record types one Tryton database can be polled for: type -> (model, extra domain,
    change-time column). `read_ahead`: per type, the fields a poll reads with each change, for
    what the connector reads of the changed records next (its announcing): one call a page."""

    def __init__(
        self,
        system: str,
        types: Mapping[str, tuple[str, Sequence[Any], str]],
        read_ahead: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.system = system
        self.types = dict(types)
        self.read_ahead = dict(read_ahead or {})

    def of(self, record_type: str) -> tuple[str, Sequence[Any], str]:
        if record_type not in self.types:
            raise ValidationFailed(f"{self.system} record type {record_type!r} unknown; known: {sorted(self.types)}")
        return self.types[record_type]

    def start_cursor(self, record_type: str, now: dt.datetime) -> str:
        self.of(record_type)
        return TimeCursor.at(now).encode()

    def resume_cursor(self, record_type: str, saved: str) -> str:
        self.of(record_type)
        return decode(saved).rewound(RESUME_OVERLAP).encode()

    def changes_since(
        self, client: TrytonRpcClient, record_type: str, cursor: str, limit: int
    ) -> tuple[ChangePage, list[Row]]:
        """The page, and the rows it was read from (with the type's read-ahead fields)."""
        model, domain, column = self.of(record_type)
        fields = self.read_ahead.get(record_type, ())
        return poll_changes(client, model, record_type, decode(cursor), limit, domain, column, fields)

    def changes_of(self, client: TrytonRpcClient, record_type: str, record_ids: Sequence[str]) -> list[RecordChange]:
        model, domain, column = self.of(record_type)
        return read_changes(client, model, record_type, record_ids, domain, column)


class TrytonPolled:
    """The ChangeSource half of a Tryton connector: its database's record types, read with its client."""

    record_types: RecordTypes
    client: TrytonRpcClient
    # The rows of the last page polled, by id, for the record types with read-ahead fields.
    _polled: Mapping[str, Row] = MappingProxyType({})

    def start_cursor(self, record_type: str, now: dt.datetime) -> str:
        return self.record_types.start_cursor(record_type, now)

    def resume_cursor(self, record_type: str, saved: str) -> str:
        return self.record_types.resume_cursor(record_type, saved)

    def changes_since(self, record_type: str, cursor: str, limit: int) -> ChangePage:
        page, rows = self.record_types.changes_since(self.client, record_type, cursor, limit)
        self._polled = {str(row["id"]): row for row in rows} if record_type in self.record_types.read_ahead else {}
        return page

    def polled_rows(self, record_ids: Iterable[int]) -> list[Row] | None:
        """The records as the last poll read them (with its read-ahead fields), when it read
        every one of them; None otherwise (the caller reads them). Taken once: what a poll read
        serves the announcing right after it, never a later read of the same records."""
        polled, self._polled = self._polled, {}
        rows = [polled.get(str(record_id)) for record_id in record_ids]
        return None if any(row is None for row in rows) else [row for row in rows if row is not None]

    def changes_of(self, record_type: str, record_ids: Sequence[str]) -> list[RecordChange]:
        return self.record_types.changes_of(self.client, record_type, record_ids)


def decode(cursor: str) -> TimeCursor:
    try:
        return TimeCursor.decode(cursor)
    except ValidationError as exc:
        raise ValidationFailed(f"not a Tryton change cursor: {cursor[:80]!r}") from exc


def after_cursor(cursor: TimeCursor, column: str = MODIFIED_AT) -> list[Any]:
    """The domain of changes after the cursor: stamped at or after its time, less the versions it
    has read there or remembers from the overlap (https://docs.tryton.org/server/topics/domain.html).

    Records written in one transaction share a timestamp and a page may end in the middle of
    them; a rewound cursor re-reads an overlap whose records it has mostly announced. Leaving
    those out here, one clause per timestamp read, keeps a poll with nothing new at one short
    page, and a record changed again (a newer stamp) still matches.
    """
    read_at: dict[dt.datetime, set[int]] = {}
    for record_id, written_at in [*cursor.read.items(), *((i, cursor.written_at) for i in cursor.ids_at)]:
        if written_at >= cursor.written_at and record_id.isdigit():
            read_at.setdefault(written_at, set()).add(int(record_id))
    return [
        [column, ">=", to_tryton_datetime(cursor.written_at)],
        *(
            ["OR", [column, "!=", to_tryton_datetime(at)], ["id", "not in", sorted(ids)]]
            for at, ids in sorted(read_at.items())
        ),
    ]


def to_record_changes(rows: Iterable[Row], record_type: str, column: str = MODIFIED_AT) -> list[RecordChange]:
    """created_at: the record's create_date, which with its id names a once-per-record event
    the same way concord_sync's push does (events.py, ONCE_PER_RECORD)."""
    return [
        RecordChange(
            record_type=record_type,
            record_id=str(r["id"]),
            written_at=from_tryton_datetime(r[column]),
            created_at=from_tryton_datetime(r["create_date"]) if r.get("create_date") else None,
        )
        for r in rows
    ]


def poll_changes(
    client: TrytonRpcClient,
    model: str,
    record_type: str,
    cursor: TimeCursor,
    limit: int,
    domain: Sequence[Any] = (),
    column: str = MODIFIED_AT,
    fields: Sequence[str] = (),
) -> tuple[ChangePage, list[Row]]:
    """Up to `limit` records of `model` (matching `domain`) changed after `cursor`, oldest
    first, and the cursor after them; `more` when another is ready. With the page, the rows
    read for it, with `fields` besides the stamps.

    One search_read with the domain after_cursor() ordered by (column, id), one row beyond the
    page to know whether there is more:
    https://docs.tryton.org/server/ref/models.html#trytond.model.ModelStorage.search_read
    Inactive records are included (a deactivation is a change).
    """
    if limit <= 0:
        return ChangePage(changes=[], cursor=cursor.encode(), more=False), []
    rows = search_read(
        client,
        model,
        [*after_cursor(cursor, column), *domain],
        [column, "create_date", *fields],
        order=[(column, "ASC"), ("id", "ASC")],
        limit=limit + 1,
        active_test=False,
    )
    return cursor.page(to_record_changes(rows[:limit], record_type, column), more=len(rows) > limit), rows


def read_changes(
    client: TrytonRpcClient,
    model: str,
    record_type: str,
    record_ids: Sequence[str],
    domain: Sequence[Any] = (),
    column: str = MODIFIED_AT,
) -> list[RecordChange]:
    """The change stamps of the named records (matching `domain`), in one search_read with
    domain `id in ids` (https://docs.tryton.org/server/topics/domain.html). Ids that are not
    Tryton ids (integers) name no record and are left out, as are records not found."""
    ids = sorted({int(record_id) for record_id in record_ids if record_id.isdigit()})
    if not ids:
        return []
    rows = search_read(
        client, model, [["id", "in", ids], *domain], [column, "create_date"], order=[("id", "ASC")], active_test=False
    )
    return to_record_changes(rows, record_type, column)
