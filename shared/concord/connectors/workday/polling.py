"""Change feed by polling Workday's transaction log: the records a Get finds with
Transaction_Log_Criteria_Data (Updated_From / Updated_Through, both inclusive), page by page.

Workday has no generic webhooks, and a Get answer carries no per-record update time, so the
cursor is a window: its start, and once opened its end (the time of the first read) and the
page reached. Every record found in a window is reported changed at the window's end; the next
window starts a millisecond after it. A record changed again while its window is being read
leaves the window (and comes in the next one); the page numbers after it shift by one, so a run
resumes a little before its checkpoint (RESUME_OVERLAP) and reports such a record again rather
than never. https://learn.microsoft.com/en-us/entra/identity/app-provisioning/workday-integration-reference
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from concord.clock import utc_now
from concord.domain import ChangePage, RecordChange
from concord.errors import ConfigurationError

from ..kit.errors import NotFound
from . import soap
from .client import MAX_COUNT, WorkdayClient

# Reference ids name a record for good (Concord's, or Workday's sequence): every change reports
# this fixed stand-in as created_at, so once-per-record events get one id from push and polling.
ID_NAMES_THE_RECORD = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
RESUME_OVERLAP = dt.timedelta(seconds=30)
TICK = dt.timedelta(milliseconds=1)


@dataclass(frozen=True)
class Feed:
    operation: str
    item: str
    reference: str
    id_type: str


FEEDS: Mapping[str, Feed] = {
    "customer": Feed("Get_Customers", "Customer", "Customer_Reference", "Customer_ID"),
    "invoice": Feed(
        "Get_Customer_Invoices", "Customer_Invoice", "Customer_Invoice_Reference", "Customer_Invoice_Reference_ID"
    ),
    "payment": Feed(
        "Get_Customer_Payments", "Customer_Payment", "Customer_Payment_Reference", "Customer_Payment_Reference_ID"
    ),
}


class WindowCursor(BaseModel):
    model_config = ConfigDict(frozen=True)

    start: dt.datetime
    end: dt.datetime | None = None  # None: the window is not opened yet
    page: int = 1
    count: int = MAX_COUNT

    def encode(self) -> str:
        return self.model_dump_json(exclude_defaults=True)

    @classmethod
    def decode(cls, encoded: str) -> WindowCursor:
        return cls.model_validate_json(encoded)


class TransactionLogPoller:
    def __init__(self, client: WorkdayClient) -> None:
        self._client = client

    def start_cursor(self, record_type: str, now: dt.datetime) -> str:
        _feed(record_type)
        return WindowCursor(start=_to_millisecond(now)).encode()

    def resume_cursor(self, record_type: str, saved: str) -> str:
        _feed(record_type)
        cursor = WindowCursor.decode(saved)
        if cursor.end is not None:
            return saved  # within a window: read on where it stopped
        return WindowCursor(start=_to_millisecond(cursor.start) - RESUME_OVERLAP).encode()

    def changes_since(self, record_type: str, cursor: str, limit: int) -> ChangePage:
        feed = _feed(record_type)
        position = WindowCursor.decode(cursor)
        if position.end is None:
            end = _to_millisecond(utc_now())  # Workday's stamps have millisecond precision
            position = position.model_copy(update={"end": end, "count": min(max(limit, 1), MAX_COUNT)})
        assert position.end is not None
        body = self._client.request(feed.operation)
        window = soap.child(
            soap.child(soap.child(body, "Request_Criteria"), "Transaction_Log_Criteria_Data"),
            "Transaction_Date_Range_Data",
        )
        soap.child(window, "Updated_From", _xml_time(position.start))
        soap.child(window, "Updated_Through", _xml_time(position.end))
        # https://community.workday.com/sites/default/files/file-hosting/productionapi/Revenue_Management/v45.0/Get_Customer_Invoices.html
        page = self._client.page(feed.operation, body, feed.item, position.page, position.count)
        changes = [
            _change(record_type, soap.id_of(item, f"wd:{feed.reference}", feed.id_type), position.end)
            for item in page.items
        ]
        if position.page < page.total_pages:
            return ChangePage(
                changes=changes, cursor=position.model_copy(update={"page": position.page + 1}).encode(), more=True
            )
        return ChangePage(changes=changes, cursor=WindowCursor(start=position.end + TICK).encode(), more=False)

    def changes_of(self, record_type: str, record_ids: Sequence[str]) -> list[RecordChange]:
        """The named records that exist, one Get each (Workday faults a whole request naming an
        unknown reference id), stamped with the time they were read."""
        feed = _feed(record_type)
        changes = []
        for record_id in dict.fromkeys(record_ids):
            body = self._client.request(feed.operation)
            soap.reference(soap.child(body, "Request_References"), feed.reference, feed.id_type, record_id)
            try:
                found = self._client.page(feed.operation, body, feed.item, 1, 1).items
            except NotFound:
                continue
            if found:
                changes.append(_change(record_type, record_id, utc_now()))
        return changes


def _feed(record_type: str) -> Feed:
    if record_type not in FEEDS:
        raise ConfigurationError(f"workday change capture: no record type {record_type!r}; known: {sorted(FEEDS)}")
    return FEEDS[record_type]


def _to_millisecond(moment: dt.datetime) -> dt.datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _xml_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _change(record_type: str, record_id: str, written_at: dt.datetime) -> RecordChange:
    return RecordChange(
        record_type=record_type, record_id=record_id, written_at=written_at, created_at=ID_NAMES_THE_RECORD
    )
