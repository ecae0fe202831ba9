"""Change capture by polling SystemModstamp, for any object of a Salesforce org.

A cursor is a `TimeCursor`: a SystemModstamp and the ids already read at exactly that stamp.
The next page is what comes after it in (SystemModstamp, Id) order:

    WHERE SystemModstamp > :t OR (SystemModstamp = :t AND Id NOT IN :ids_at)
    ORDER BY SystemModstamp, Id LIMIT :n

`NOT IN` rather than `Id > :last`: after a rewind, ids_at joins ids read in two runs, and a
record committed late at a stamp already read may sort before the last id read.
SOQL: https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select.htm
Date formats in WHERE: https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_dateformats.htm
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from concord.domain import ChangePage, RecordChange
from concord.errors import ConfigurationError

from ..kit.cursors import TimeCursor
from .client import SalesforceClient, soql_quote
from .payloads import CHANGE_FIELDS, ChangeRow

# Salesforce stamps SystemModstamp when a transaction starts, so a long transaction commits
# records stamped before changes a poll has already read: each run re-reads this far back.
RESUME_OVERLAP = dt.timedelta(minutes=2)
MAX_PAGE = 2000  # one query page (the default batch size): a LIMIT beyond needs Query More
# Ids per `Id IN (...)` query: 200 ids keep the SOQL far below its 100,000-character limit
# (https://developer.salesforce.com/docs/atlas.en-us.salesforce_app_limits_cheatsheet.meta/salesforce_app_limits_cheatsheet/salesforce_app_limits_platform_soslsoql.htm).
IDS_PER_QUERY = 200
SALESFORCE_ID = re.compile(r"^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$")
_CHECKSUM_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


@dataclass(frozen=True)
class Watched:
    """An object polled for one record type, with an extra filter (e.g. approved timecards)."""

    sobject: str
    where: str | None = None


def soql_datetime(moment: dt.datetime) -> str:
    """A dateTime literal in UTC with milliseconds (SystemModstamp's resolution)."""
    utc = moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def after_cursor(cursor: TimeCursor) -> str:
    stamp = soql_datetime(cursor.written_at)
    if not cursor.ids_at:
        return f"SystemModstamp >= {stamp}"
    ids = ", ".join(soql_quote(record_id) for record_id in sorted(cursor.ids_at))
    return f"(SystemModstamp > {stamp} OR (SystemModstamp = {stamp} AND Id NOT IN ({ids})))"


class ModstampPoller:
    """start_cursor / resume_cursor / changes_since over the org's objects, by record type."""

    def __init__(self, client: SalesforceClient, watched: Mapping[str, Watched]) -> None:
        self._client = client
        self._watched = dict(watched)

    def start_cursor(self, record_type: str, now: dt.datetime) -> str:
        self._object(record_type)
        # TimeCursor.at(now) has read nothing at `now` itself: a change stamped exactly then
        # is still ahead (its `seen` is false), hence `>=` in after_cursor.
        return TimeCursor.at(now).encode()

    def resume_cursor(self, record_type: str, saved: str) -> str:
        self._object(record_type)
        return TimeCursor.decode(saved).rewound(RESUME_OVERLAP).encode()

    def changes_since(self, record_type: str, cursor: str, limit: int) -> ChangePage:
        watched = self._object(record_type)
        position = TimeCursor.decode(cursor)
        limit = max(1, min(limit, MAX_PAGE))
        conditions = [after_cursor(position)] + ([f"({watched.where})"] if watched.where else [])
        soql = (
            f"SELECT {', '.join(CHANGE_FIELDS)} FROM {watched.sobject} WHERE {' AND '.join(conditions)} "
            f"ORDER BY SystemModstamp, Id LIMIT {limit}"
        )
        rows = [ChangeRow.model_validate(record) for record in self._client.query(soql)]
        changes = [_record_change(record_type, row) for row in rows]
        return position.page(changes, more=len(changes) == limit)

    def changes_of(self, record_type: str, record_ids: Sequence[str]) -> list[RecordChange]:
        """The change stamps of the named records matching the watch's filter (records_by_id)."""
        watched = self._object(record_type)
        records = records_by_id(self._client, watched.sobject, CHANGE_FIELDS, record_ids, watched.where)
        return [_record_change(record_type, ChangeRow.model_validate(record)) for record in records]

    def _object(self, record_type: str) -> Watched:
        if record_type not in self._watched:
            raise ConfigurationError(
                f"salesforce change capture: no record type {record_type!r}; known: {sorted(self._watched)}"
            )
        return self._watched[record_type]


def _record_change(record_type: str, row: ChangeRow) -> RecordChange:
    return RecordChange(
        record_type=record_type, record_id=row.id, written_at=row.system_modstamp, created_at=row.created_date
    )


def records_by_id(
    client: SalesforceClient, sobject: str, fields: Sequence[str], record_ids: Iterable[str], where: str | None = None
) -> Iterator[dict[str, Any]]:
    """The records named (and matching `where`), one query per IDS_PER_QUERY ids, by Id:
    SELECT <fields> FROM <sobject> WHERE Id IN (...) [AND (<where>)]
    (https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_comparisonoperators.htm).
    Records not found are left out, and so are strings that are no Salesforce ids: Salesforce
    fails the whole query on one ("invalid ID field")."""
    ids = sorted({record_id for record_id in record_ids if is_record_id(record_id)})
    for start in range(0, len(ids), IDS_PER_QUERY):
        chunk = ", ".join(soql_quote(record_id) for record_id in ids[start : start + IDS_PER_QUERY])
        conditions = [f"Id IN ({chunk})"] + ([f"({where})"] if where else [])
        yield from client.query(
            f"SELECT {', '.join(fields)} FROM {sobject} WHERE {' AND '.join(conditions)} ORDER BY Id"
        )


def is_record_id(value: str) -> bool:
    """A 15-character id, or an 18-character one whose last three characters are its
    case checksum (one per five characters: which of them are upper case)."""
    if not SALESFORCE_ID.match(value):
        return False
    if len(value) == 15:
        return True
    checksum = "".join(
        _CHECKSUM_CHARS[sum(1 << bit for bit, char in enumerate(value[start : start + 5]) if "A" <= char <= "Z")]
        for start in (0, 5, 10)
    )
    return value[15:] == checksum
