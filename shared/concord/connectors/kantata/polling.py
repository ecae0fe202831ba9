"""Change capture by polling approved timesheet submissions (Kantata OX has no push webhooks).

Record type "time_entry": what changes is a timesheet submission (approval lives there, and
the time entries' `approved` filter ignores its value), so a change is an approved submission
by `updated_at`, and `approved_entries(submission id)` expands it into its time entries.

GET /timesheet_submissions filters `statuses` and `updated_after` but orders only by `date`:
https://developer.kantata.com/kantata/specification/timesheet-submissions/get-timesheet-submissions
So a poll reads every approved submission updated since a second before the cursor (Kantata
stamps to the second, and `updated_after` is exclusive), orders them by (updated_at, id)
itself, and keeps what the cursor has not seen. The cursor is the kit's TimeCursor.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence

from concord.domain import ChangePage, RecordChange
from concord.errors import ConfigurationError

from ..kit.cursors import TimeCursor
from .client import MAX_PER_PAGE, KantataClient
from .payloads import SubmissionRow

RECORD_TYPE = "time_entry"
SUBMISSIONS = "timesheet_submissions.json"
# A submission stamped just behind a checkpoint (clock skew, a slow commit) is re-read this far back.
RESUME_OVERLAP = dt.timedelta(minutes=1)
STAMP_RESOLUTION = dt.timedelta(seconds=1)


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SubmissionPoller:
    def __init__(self, client: KantataClient) -> None:
        self._client = client
        # Kantata lists submissions by date, not by update: a poll reads every one updated since
        # the cursor, sorts them and hands out pages. What it read past a page is kept here, by
        # the cursor that page ended at, so the next page of the same run reads nothing again.
        self._read_ahead: tuple[str, list[SubmissionRow]] | None = None

    def start_cursor(self, record_type: str, now: dt.datetime) -> str:
        _check(record_type)
        return TimeCursor.at(now).encode()

    def resume_cursor(self, record_type: str, saved: str) -> str:
        _check(record_type)
        return TimeCursor.decode(saved).rewound(RESUME_OVERLAP).encode()

    def changes_since(self, record_type: str, cursor: str, limit: int) -> ChangePage:
        _check(record_type)
        position = TimeCursor.decode(cursor)
        if self._read_ahead is not None and self._read_ahead[0] == cursor:
            rows = self._read_ahead[1]
        else:
            params = {"statuses": "approved", "updated_after": iso(position.written_at - STAMP_RESOLUTION)}
            # https://developer.kantata.com/kantata/specification/timesheet-submissions/get-timesheet-submissions
            rows = [
                SubmissionRow.model_validate(record)
                for record in self._client.all("poll submissions", SUBMISSIONS, params)
            ]
        unseen = sorted(
            (row for row in rows if not position.seen(row.id, row.updated_at)),
            key=lambda row: (row.updated_at, int(row.id)),
        )
        page = [_change(row) for row in unseen[: max(1, limit)]]
        moved = position.advanced((change.record_id, change.written_at) for change in page).encode()
        rest = unseen[len(page) :]
        self._read_ahead = (moved, rest) if rest else None
        return ChangePage(changes=page, cursor=moved, more=bool(rest))

    def changes_of(self, record_type: str, record_ids: Sequence[str]) -> list[RecordChange]:
        """The stamps of the named approved submissions, `only=` MAX_PER_PAGE ids a call
        (`only` leaves out ids it does not find rather than failing). A non-numeric id names
        no Kantata record and is left out."""
        _check(record_type)
        changes: list[RecordChange] = []
        for only in only_values(record_ids):
            params = {"only": only, "statuses": "approved"}
            # https://developer.kantata.com/kantata/specification/timesheet-submissions/get-timesheet-submissions
            changes += [
                _change(SubmissionRow.model_validate(record))
                for record in self._client.all("read submissions", SUBMISSIONS, params)
            ]
        return changes


def only_values(record_ids: Iterable[str]) -> Iterator[str]:
    """The `only=` values naming these records, MAX_PER_PAGE ids each (`only` leaves out ids it
    does not find rather than failing). A non-numeric id names no Kantata record and is left out."""
    ids = sorted({record_id for record_id in record_ids if record_id.isdigit()}, key=int)
    for start in range(0, len(ids), MAX_PER_PAGE):
        yield ",".join(ids[start : start + MAX_PER_PAGE])


def _check(record_type: str) -> None:
    if record_type != RECORD_TYPE:
        raise ConfigurationError(f"kantata change capture: no record type {record_type!r}; known: ['{RECORD_TYPE}']")


def _change(row: SubmissionRow) -> RecordChange:
    return RecordChange(record_type=RECORD_TYPE, record_id=row.id, written_at=row.updated_at, created_at=row.created_at)
