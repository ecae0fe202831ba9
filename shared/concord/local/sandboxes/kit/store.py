"""A thread-safe in-memory record store of one tenant: tables of records keyed by id, with
ids in the vendor's format and strictly increasing modification stamps."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

Record = dict[str, Any]


class MonotonicClock:
    """Wall-clock UTC time at millisecond resolution that never repeats or goes back, so
    records modified one after the other always have different, ordered stamps."""

    def __init__(self, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._now = now
        self._last: datetime | None = None
        self._lock = threading.Lock()

    def tick(self) -> datetime:
        with self._lock:
            now = self._now().astimezone(UTC)
            now = now.replace(microsecond=now.microsecond // 1000 * 1000)
            if self._last is not None and now <= self._last:
                now = self._last + timedelta(milliseconds=1)
            self._last = now
            return now


@dataclass(frozen=True)
class StoreLayout:
    """How a vendor names and stamps its records."""

    new_id: Callable[[str, int], str]  # (table, sequence number) -> id
    format_time: Callable[[datetime], Any]
    id_field: str = "Id"
    created_fields: tuple[str, ...] = ()
    modified_fields: tuple[str, ...] = ()


class RecordStore:
    """Records of one tenant. Reads return copies; `transaction()` undoes every write made
    inside it when the block raises (all-or-none batches)."""

    def __init__(self, layout: StoreLayout, clock: MonotonicClock | None = None) -> None:
        self.layout = layout
        self.clock = clock or MonotonicClock()
        self._tables: dict[str, dict[str, Record]] = {}
        self._sequence = 0
        self._lock = threading.RLock()

    def insert(self, table: str, fields: Record) -> Record:
        with self._lock:
            self._sequence += 1
            record_id = self.layout.new_id(table, self._sequence)
            stamp = self.layout.format_time(self.clock.tick())
            record = {**fields, self.layout.id_field: record_id}
            for name in self.layout.created_fields + self.layout.modified_fields:
                record[name] = stamp
            self._tables.setdefault(table, {})[record_id] = record
            return copy.deepcopy(record)

    def update(self, table: str, record_id: str, fields: Record) -> Record:
        """Changes fields of an existing record (KeyError if absent) and restamps it."""
        with self._lock:
            record = self._tables.get(table, {})[record_id]
            record.update(fields)
            stamp = self.layout.format_time(self.clock.tick())
            for name in self.layout.modified_fields:
                record[name] = stamp
            return copy.deepcopy(record)

    def delete(self, table: str, record_id: str) -> bool:
        with self._lock:
            return self._tables.get(table, {}).pop(record_id, None) is not None

    def get(self, table: str, record_id: str) -> Record | None:
        with self._lock:
            record = self._tables.get(table, {}).get(record_id)
            return copy.deepcopy(record) if record is not None else None

    def table_of(self, record_id: str) -> str | None:
        with self._lock:
            return next((t for t, rows in self._tables.items() if record_id in rows), None)

    def rows(self, table: str) -> list[Record]:
        """Every record of a table, in insertion order."""
        with self._lock:
            return copy.deepcopy(list(self._tables.get(table, {}).values()))

    def find(self, table: str, field: str, value: Any) -> list[Record]:
        with self._lock:
            return [copy.deepcopy(r) for r in self._tables.get(table, {}).values() if r.get(field) == value]

    def clear(self) -> None:
        with self._lock:
            self._tables.clear()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Holds the store for the block; restores its state if the block raises."""
        with self._lock:
            saved = copy.deepcopy(self._tables), self._sequence
            try:
                yield
            except BaseException:
                self._tables, self._sequence = saved
                raise
