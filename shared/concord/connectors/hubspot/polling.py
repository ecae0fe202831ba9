"""Change capture by CRM search on `hs_lastmodifieddate`, for companies and deals.

A cursor is a `TimeCursor`: a modification stamp and the ids already read at exactly it. The next
page is what comes after it in (stamp, id) order, as two OR-ed filter groups:

    hs_lastmodifieddate > t    OR    (hs_lastmodifieddate = t AND hs_object_id NOT_IN ids_at)

sorted by hs_lastmodifieddate ascending. Each page re-anchors on the cursor instead of following
`after`, so the search API's 10,000-result cap never applies. The search index is eventually
consistent, so each run re-reads RESUME_OVERLAP back (resume_cursor).
Search: https://developers.hubspot.com/docs/api-reference/2026-03/crm/search/guide
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from concord.domain import ChangePage, RecordChange
from concord.errors import ConfigurationError

from ..kit.cursors import TimeCursor
from . import mappers
from .client import SEARCH_LIMIT, HubSpotClient
from .payloads import CREATED, MODIFIED, SimpleObject

RESUME_OVERLAP = dt.timedelta(minutes=2)
OBJECT_ID = "hs_object_id"


def epoch_ms(moment: dt.datetime) -> str:
    """A datetime filter value: milliseconds since the epoch (the search API's datetime format)."""
    return str(int(moment.astimezone(dt.UTC).timestamp() * 1000))


def after_cursor(cursor: TimeCursor) -> list[dict[str, object]]:
    """The filterGroups selecting what comes after the cursor."""
    stamp = epoch_ms(cursor.written_at)
    if not cursor.ids_at:
        return [{"filters": [{"propertyName": MODIFIED, "operator": "GTE", "value": stamp}]}]
    return [
        {"filters": [{"propertyName": MODIFIED, "operator": "GT", "value": stamp}]},
        {
            "filters": [
                {"propertyName": MODIFIED, "operator": "EQ", "value": stamp},
                {"propertyName": OBJECT_ID, "operator": "NOT_IN", "values": sorted(cursor.ids_at)},
            ]
        },
    ]


class SearchPoller:
    """start_cursor / resume_cursor / changes_since / changes_of over the portal's objects, by record type."""

    def __init__(self, client: HubSpotClient, object_types: Mapping[str, str]) -> None:
        self._client = client
        self._types = dict(object_types)

    def start_cursor(self, record_type: str, now: dt.datetime) -> str:
        self._object_type(record_type)
        return TimeCursor.at(now).encode()

    def resume_cursor(self, record_type: str, saved: str) -> str:
        self._object_type(record_type)
        return TimeCursor.decode(saved).rewound(RESUME_OVERLAP).encode()

    def changes_since(self, record_type: str, cursor: str, limit: int) -> ChangePage:
        object_type = self._object_type(record_type)
        position = TimeCursor.decode(cursor)
        limit = max(1, min(limit, SEARCH_LIMIT))
        page = self._client.search(
            object_type,
            {
                "filterGroups": after_cursor(position),
                "sorts": [{"propertyName": MODIFIED, "direction": "ASCENDING"}],
                "properties": [MODIFIED, CREATED],
                "limit": limit,
            },
        )
        # Ties at one stamp come back in no stated order: sort by id, as the cursor reads them.
        changes = sorted(
            (_record_change(record_type, row) for row in page.results),
            key=lambda change: (change.written_at, change.record_id),
        )
        return position.page(changes, more=len(changes) == limit)

    def changes_of(self, record_type: str, record_ids: Sequence[str]) -> list[RecordChange]:
        """The stamps of the named records by batch read; ids that are not HubSpot ids (digits)
        or name no record are left out."""
        object_type = self._object_type(record_type)
        ids = sorted({record_id for record_id in record_ids if record_id.isdigit()}, key=int)
        rows = self._client.batch_read(object_type, ids, [MODIFIED, CREATED])
        return sorted((_record_change(record_type, row) for row in rows), key=lambda change: int(change.record_id))

    def _object_type(self, record_type: str) -> str:
        if record_type not in self._types:
            raise ConfigurationError(
                f"hubspot change capture: no record type {record_type!r}; known: {sorted(self._types)}"
            )
        return self._types[record_type]


def _record_change(record_type: str, row: SimpleObject) -> RecordChange:
    written = mappers.to_datetime(row.value(MODIFIED)) or row.updated_at
    if written is None:
        raise ConfigurationError(f"hubspot {record_type} {row.id}: no {MODIFIED} in the answer")
    return RecordChange(
        record_type=record_type,
        record_id=row.id,
        written_at=written,
        created_at=mappers.to_datetime(row.value(CREATED)) or row.created_at,
    )
