"""Change feed by polling: records modified since the cursor's time (the `If-Modified-Since`
header), oldest first (`order=UpdatedDateUTC ASC`), 100 a page; the cursor is the kit's
TimeCursor (a time and the ids already read at it), opaque to sync logic.

Xero's webhooks name invoices and contacts but never payments: payments are polled always.
https://developer.xero.com/documentation/api/accounting/requests-and-responses/ (If-Modified-Since)
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from concord.domain import ChangePage, RecordChange
from concord.errors import ConfigurationError

from ..kit.cursors import TimeCursor
from .client import BATCH_LIMIT, PAGE_SIZE, Record, XeroClient
from .payloads import Stamp


@dataclass(frozen=True)
class Feed:
    collection: str  # the endpoint and the answer's list (Invoices)
    id_field: str  # InvoiceID
    where: str | None  # what of the collection is Concord's business (None: all of it)
    by_ids: bool  # the endpoint takes `IDs=` (else the ids go into `where`)


FEEDS: Mapping[str, Feed] = {
    "customer": Feed("Contacts", "ContactID", None, by_ids=True),
    "invoice": Feed("Invoices", "InvoiceID", 'Type=="ACCREC"', by_ids=True),
    "payment": Feed("Payments", "PaymentID", 'Invoice.Type=="ACCREC"', by_ids=False),
}
# Xero ids are GUIDs, never reused: the id alone names a record, so every change reports this
# fixed stand-in as created_at (push and polling read it here, so their event ids agree).
ID_NAMES_THE_RECORD = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# A run resumes this far behind its checkpoint, for a write Xero stamped before it committed.
RESUME_OVERLAP = dt.timedelta(seconds=30)
_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def modified_since(moment: dt.datetime) -> str:
    """The If-Modified-Since value for changes at or after `moment`: whole seconds, UTC, one
    second early (Xero compares at its own precision; the cursor passes over what it read)."""
    start = moment.astimezone(dt.UTC).replace(microsecond=0) - dt.timedelta(seconds=1)
    return start.strftime("%Y-%m-%dT%H:%M:%SZ")


class ModifiedPoller:
    def __init__(self, client: XeroClient) -> None:
        self._client = client

    def start_cursor(self, record_type: str, now: dt.datetime) -> str:
        _feed(record_type)
        return TimeCursor.at(now).encode()

    def resume_cursor(self, record_type: str, saved: str) -> str:
        _feed(record_type)
        return TimeCursor.decode(saved).rewound(RESUME_OVERLAP).encode()

    def changes_since(self, record_type: str, cursor: str, limit: int) -> ChangePage:
        feed = _feed(record_type)
        position = TimeCursor.decode(cursor)
        limit = max(1, limit)
        since = modified_since(position.written_at)
        changes: list[RecordChange] = []
        page, more, fresh = 1, True, 0
        # The second before the cursor comes again: read on until past what the cursor has read.
        while more and fresh <= limit:
            params = {**_where(feed.where), "order": "UpdatedDateUTC ASC", "page": page}
            # https://developer.xero.com/documentation/api/accounting/invoices#get-invoices (and contacts, payments)
            listed = self._client.get(f"poll {feed.collection}", feed.collection, params, modified_since=since)
            batch = [_change(record_type, feed, row) for row in listed.get(feed.collection) or []]
            changes += batch
            fresh += sum(1 for change in batch if not position.seen(change.record_id, change.written_at))
            more, page = len(batch) == PAGE_SIZE, page + 1
        return position.page(changes, more=more, limit=limit)

    def changes_of(self, record_type: str, record_ids: Sequence[str]) -> list[RecordChange]:
        """The stamps of the named records, BATCH_LIMIT ids a call; ids that are no GUID or name
        no record are left out."""
        feed = _feed(record_type)
        ids = [record_id for record_id in dict.fromkeys(record_ids) if _GUID.match(record_id)]
        changes: list[RecordChange] = []
        for start in range(0, len(ids), BATCH_LIMIT):
            chunk = ids[start : start + BATCH_LIMIT]
            if feed.by_ids:
                params = {"IDs": ",".join(chunk), **_where(feed.where)}
            else:
                named = " OR ".join(f'{feed.id_field}==Guid("{record_id}")' for record_id in chunk)
                params = {"where": f"({named}) AND {feed.where}" if feed.where else named}
            # https://developer.xero.com/documentation/api/accounting/invoices#get-invoices (IDs filter)
            listed = self._client.get(f"read {feed.collection}", feed.collection, params)
            changes += [_change(record_type, feed, row) for row in listed.get(feed.collection) or []]
        return changes


def _feed(record_type: str) -> Feed:
    if record_type not in FEEDS:
        raise ConfigurationError(f"xero change capture: no record type {record_type!r}; known: {sorted(FEEDS)}")
    return FEEDS[record_type]


def _where(clause: str | None) -> dict[str, str]:
    return {"where": clause} if clause else {}


def _change(record_type: str, feed: Feed, row: Record) -> RecordChange:
    return RecordChange(
        record_type=record_type,
        record_id=str(row[feed.id_field]),
        written_at=Stamp.model_validate(row).UpdatedDateUTC,
        created_at=ID_NAMES_THE_RECORD,
    )
