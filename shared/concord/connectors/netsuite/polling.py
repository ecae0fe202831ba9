"""Change capture by polling SuiteQL on `lastmodifieddate` (NetSuite pushes nothing).

A cursor is the kit's TimeCursor: a modification stamp and the ids already read at exactly it.
The next page is what comes after it in (lastmodifieddate, id) order:

    WHERE lastmodifieddate > :t OR (lastmodifieddate = :t AND id NOT IN :ids_at)
    ORDER BY lastmodifieddate, id

SuiteQL prints dates in the user's date format unless asked otherwise, so stamps are read and
compared with TO_CHAR / TO_TIMESTAMP in one explicit format, to the second, in the integration
user's time zone (connection.time_zone).
https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_157909186990.html
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from concord.domain import ChangePage, RecordChange
from concord.errors import ConfigurationError

from ..kit.cursors import TimeCursor
from .client import SUITEQL_PAGE, NetSuiteClient, suiteql_ids

STAMP_FORMAT = "YYYY-MM-DD HH24:MI:SS"
PY_STAMP = "%Y-%m-%d %H:%M:%S"
# A change stamped just behind a checkpoint (a long transaction, clock skew) is re-read this far back.
RESUME_OVERLAP = dt.timedelta(minutes=2)
IDS_PER_QUERY = 500


@dataclass(frozen=True)
class Watched:
    """The SuiteQL table of a record type, its filter and its creation-stamp column."""

    table: str
    created: str
    where: str | None = None


RECORD_TYPES: Mapping[str, Watched] = {
    "customer": Watched("customer", "datecreated"),
    "invoice": Watched("transaction", "createddate", "type = 'CustInvc'"),
    "payment": Watched("transaction", "createddate", "type = 'CustPymt'"),
}


class SuiteQlPoller:
    def __init__(self, client: NetSuiteClient, time_zone: str = "UTC") -> None:
        self._client = client
        self._zone = ZoneInfo(time_zone)

    def start_cursor(self, record_type: str, now: dt.datetime) -> str:
        self._watched(record_type)
        return TimeCursor.at(now.replace(microsecond=0)).encode()

    def resume_cursor(self, record_type: str, saved: str) -> str:
        self._watched(record_type)
        return TimeCursor.decode(saved).rewound(RESUME_OVERLAP).encode()

    def changes_since(self, record_type: str, cursor: str, limit: int) -> ChangePage:
        watched = self._watched(record_type)
        position = TimeCursor.decode(cursor)
        limit = max(1, min(limit, SUITEQL_PAGE))
        stamp = f"TO_TIMESTAMP('{self._local(position.written_at)}', '{STAMP_FORMAT}')"
        after = (
            f"lastmodifieddate >= {stamp}"
            if not position.ids_at
            else f"(lastmodifieddate > {stamp} OR (lastmodifieddate = {stamp} "
            f"AND id NOT IN ({suiteql_ids(sorted(position.ids_at))})))"
        )
        rows, more = self._client.query_page(
            self._select(watched, after) + " ORDER BY lastmodifieddate, id", limit=limit
        )
        changes = [self._change(record_type, row) for row in rows]
        return position.page(changes, more=more)

    def changes_of(self, record_type: str, record_ids: Sequence[str]) -> list[RecordChange]:
        """The stamps of the named records, IDS_PER_QUERY ids a query; ids that are not
        internal ids (digits) name no record and are left out."""
        watched = self._watched(record_type)
        ids = sorted({record_id for record_id in record_ids if record_id.isdigit()}, key=int)
        changes: list[RecordChange] = []
        for start in range(0, len(ids), IDS_PER_QUERY):
            condition = f"id IN ({suiteql_ids(ids[start : start + IDS_PER_QUERY])})"
            rows = self._client.query(self._select(watched, condition) + " ORDER BY id")
            changes += [self._change(record_type, row) for row in rows]
        return changes

    def _select(self, watched: Watched, condition: str) -> str:
        where = " AND ".join([condition] + ([f"({watched.where})"] if watched.where else []))
        return (
            f"SELECT id, TO_CHAR(lastmodifieddate, '{STAMP_FORMAT}') AS modified, "
            f"TO_CHAR({watched.created}, '{STAMP_FORMAT}') AS created FROM {watched.table} WHERE {where}"
        )

    def _change(self, record_type: str, row: dict[str, object]) -> RecordChange:
        return RecordChange(
            record_type=record_type,
            record_id=str(row["id"]),
            written_at=self._utc(str(row["modified"])),
            created_at=self._utc(str(row["created"])) if row.get("created") else None,
        )

    def _local(self, moment: dt.datetime) -> str:
        return moment.astimezone(self._zone).strftime(PY_STAMP)

    def _utc(self, text: str) -> dt.datetime:
        return dt.datetime.strptime(text, PY_STAMP).replace(tzinfo=self._zone).astimezone(dt.UTC)

    @staticmethod
    def _watched(record_type: str) -> Watched:
        if record_type not in RECORD_TYPES:
            raise ConfigurationError(
                f"netsuite change capture: no record type {record_type!r}; known: {sorted(RECORD_TYPES)}"
            )
        return RECORD_TYPES[record_type]
