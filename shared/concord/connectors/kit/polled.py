"""The ChangeSource half of a connector that polls through a poller of its own (`self._poller`:
a Salesforce SystemModstamp poller, a HubSpot search poller, a Kantata submissions poller)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from concord.domain import ChangePage, RecordChange
from concord.ports import ChangeSource


class PolledChanges:
    _poller: ChangeSource

    def start_cursor(self, record_type: str, now: dt.datetime) -> str:
        return self._poller.start_cursor(record_type, now)

    def resume_cursor(self, record_type: str, saved: str) -> str:
        return self._poller.resume_cursor(record_type, saved)

    def changes_since(self, record_type: str, cursor: str, limit: int) -> ChangePage:
        return self._poller.changes_since(record_type, cursor, limit)

    def changes_of(self, record_type: str, record_ids: Sequence[str]) -> list[RecordChange]:
        return self._poller.changes_of(record_type, record_ids)
