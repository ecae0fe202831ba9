"""Change feed by Change Data Capture: `GET /cdc?entities=<Entity>&changedSince=<time>` answers
the entity's records changed since then (at most 30 days back, 1,000 objects a call), here oldest
first; the cursor is the kit's TimeCursor (a time and the ids read at it), opaque to sync logic.
Webhooks push the same changes; CDC closes their gaps.
https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/changedatacapture
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from concord.clock import utc_now
from concord.domain import ChangePage, RecordChange
from concord.errors import ConfigurationError
from concord.observability import logger

from ..kit.cursors import TimeCursor
from .client import BATCH_LIMIT, QuickBooksClient, Record, quoted

ENTITIES: Mapping[str, str] = {"invoice": "Invoice", "payment": "Payment", "customer": "Customer"}
CDC_WINDOW = dt.timedelta(days=30)
CDC_LIMIT = 1000
RESUME_OVERLAP = dt.timedelta(seconds=60)
_MILLISECOND = dt.timedelta(milliseconds=1)


def _time(value: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def record_change(record_type: str, record: Record) -> RecordChange:
    meta = record.get("MetaData") or {}
    return RecordChange(
        record_type=record_type,
        record_id=str(record["Id"]),
        written_at=_time(meta["LastUpdatedTime"]),
        created_at=_time(meta["CreateTime"]) if meta.get("CreateTime") else None,
    )


def _entity(record_type: str) -> str:
    if record_type not in ENTITIES:
        raise ConfigurationError(f"quickbooks has no change feed for {record_type!r}; known: {sorted(ENTITIES)}")
    return ENTITIES[record_type]


class CdcPoller:
    def __init__(self, client: QuickBooksClient) -> None:
        self._client = client

    def start_cursor(self, record_type: str, now: dt.datetime) -> str:
        _entity(record_type)
        return TimeCursor.at(now).encode()

    def resume_cursor(self, record_type: str, saved: str) -> str:
        _entity(record_type)
        return TimeCursor.decode(saved).rewound(RESUME_OVERLAP).encode()

    def changes_since(self, record_type: str, cursor: str, limit: int) -> ChangePage:
        entity = _entity(record_type)
        position = TimeCursor.decode(cursor)
        since = position.written_at - _MILLISECOND  # CDC answers changes after the time: include it
        oldest = utc_now() - CDC_WINDOW + dt.timedelta(minutes=5)
        if since < oldest:
            logger.warning("quickbooks cdc: checkpoint older than 30 days; reconciliation closes the gap")
            since = oldest
        rows = self._client.changed(entity, since.isoformat(timespec="milliseconds"))
        changes = sorted((record_change(record_type, row) for row in rows), key=lambda c: (c.written_at, c.record_id))
        return position.page(changes, more=len(rows) >= CDC_LIMIT, limit=max(1, limit))

    def changes_of(self, record_type: str, record_ids: Sequence[str]) -> list[RecordChange]:
        """The stamps of the named records: one `/batch` of queries per 30 ids; a record that
        does not exist is left out."""
        entity = _entity(record_type)
        ids = [record_id for record_id in dict.fromkeys(record_ids) if record_id.isdigit()]
        changes: list[RecordChange] = []
        for start in range(0, len(ids), BATCH_LIMIT):
            items = [
                {"Query": f"select * from {entity} where Id = {quoted(i)}"} for i in ids[start : start + BATCH_LIMIT]
            ]
            for answer in self._client.batch(f"read {entity}", items):
                if isinstance(answer, Exception):
                    raise answer
                changes.extend(record_change(record_type, row) for row in answer["QueryResponse"].get(entity, []))
        return changes
