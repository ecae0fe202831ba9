"""Change capture by polling OData on the entities' modification stamps, across companies.

Business events are Finance's push channel, but none fits every record Concord watches and the
HTTPS endpoint cannot be authenticated (docs/connectors.md): the change feed is this poll.
A cursor is the kit's TimeCursor (a stamp and the ids read at exactly it); a page is

    $filter=<stamp> ge <t> [and <the watch's condition>]&$orderby=<stamp>,dataAreaId,<keys>

with the ids already read at <t> skipped here (OData cannot filter on composite keys in a list).
https://learn.microsoft.com/en-us/dynamics365/fin-ops-core/dev-itpro/data-entities/odata
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from concord.domain import ChangePage, RecordChange
from concord.errors import ConfigurationError

from ..kit.cursors import TimeCursor
from .client import FinanceClient, Row
from .entities import COMPANY, CUSTOMERS, INVOICE_HEADERS, PAYMENT_LINES, Entity
from .ids import key_filter, key_values, record_id

# A change stamped just behind a checkpoint (a long transaction, clock skew) is re-read this far back.
RESUME_OVERLAP = dt.timedelta(minutes=2)
MAX_PAGE = 1000
IDS_PER_QUERY = 20


@dataclass(frozen=True)
class Watched:
    entity: Entity
    condition: str | None = None


RECORD_TYPES: Mapping[str, Watched] = {
    "customer": Watched(CUSTOMERS),
    "invoice": Watched(INVOICE_HEADERS, "IsPosted eq true"),  # postings; drafts change without news
    "payment": Watched(PAYMENT_LINES, "IsPosted eq true"),
}


def stamp_literal(moment: dt.datetime) -> str:
    """A DateTimeOffset literal in UTC to the second (the precision Finance stores)."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_stamp(value: object) -> dt.datetime:
    return dt.datetime.fromisoformat(str(value)).astimezone(dt.UTC)


class ODataPoller:
    def __init__(self, client: FinanceClient, companies: Sequence[str]) -> None:
        self._client = client
        self._companies = sorted(companies)

    def start_cursor(self, record_type: str, now: dt.datetime) -> str:
        self._watched(record_type)
        return TimeCursor.at(now.replace(microsecond=0)).encode()

    def resume_cursor(self, record_type: str, saved: str) -> str:
        self._watched(record_type)
        return TimeCursor.decode(saved).rewound(RESUME_OVERLAP).encode()

    def changes_since(self, record_type: str, cursor: str, limit: int) -> ChangePage:
        watched = self._watched(record_type)
        entity = watched.entity
        position = TimeCursor.decode(cursor)
        limit = max(1, min(limit, MAX_PAGE))
        # Rows at the cursor's stamp already read come back too: ask for enough to see one more.
        top = limit + len(position.ids_at) + 1
        condition = f"{entity.modified} ge {stamp_literal(position.written_at)}"
        rows, _ = self._client.query_page(entity.name, filter=self._where(watched, condition), top=top,
                                          orderby=",".join((entity.modified, COMPANY, *entity.keys)))
        # Rows the cursor has read (at its stamp, or in a re-read overlap) are passed over.
        changes = [self._change(record_type, entity, row) for row in rows]
        return position.page(changes, more=len(rows) == top, limit=limit)

    def changes_of(self, record_type: str, record_ids: Sequence[str]) -> list[RecordChange]:
        """The stamps of the named records (ids of another shape name none and are left out)."""
        watched = self._watched(record_type)
        entity = watched.entity
        keys = [k for k in (key_values(entity, r) for r in sorted(set(record_ids))) if k is not None]
        changes: list[RecordChange] = []
        for start in range(0, len(keys), IDS_PER_QUERY):
            condition = "(" + " or ".join(key_filter(entity, k) for k in keys[start:start + IDS_PER_QUERY]) + ")"
            changes += [self._change(record_type, entity, row) for row in
                        self._client.query(entity.name, filter=self._where(watched, condition))]
        return sorted(changes, key=lambda c: c.record_id)

    def _where(self, watched: Watched, condition: str) -> str:
        companies = " or ".join(f"{COMPANY} eq '{c}'" for c in self._companies)
        return " and ".join([condition, f"({companies})"] + ([watched.condition] if watched.condition else []))

    @staticmethod
    def _change(record_type: str, entity: Entity, row: Row) -> RecordChange:
        created = row.get(entity.created)
        return RecordChange(record_type=record_type, record_id=record_id(entity, row),
                            written_at=parse_stamp(row[entity.modified]),
                            created_at=parse_stamp(created) if created else None)

    @staticmethod
    def _watched(record_type: str) -> Watched:
        if record_type not in RECORD_TYPES:
            raise ConfigurationError(f"dynamics_finance change capture: no record type {record_type!r}; "
                                     f"known: {sorted(RECORD_TYPES)}")
        return RECORD_TYPES[record_type]
