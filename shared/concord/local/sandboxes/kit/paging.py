"""Generic paging: result sets held server-side behind opaque cursors (query locators)."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_offset: int | None  # None on the last page


def page_of(items: Sequence[Any], offset: int, size: int) -> Page:
    chunk = list(items[offset : offset + size])
    end = offset + len(chunk)
    return Page(chunk, end if end < len(items) else None)


class Cursors:
    """Result sets kept for later pages, by cursor id; a cursor lives until the tenant resets
    or `max_open` newer ones push it out (vendors expire locators too)."""

    def __init__(self, prefix: str = "", max_open: int = 1000) -> None:
        self._prefix = prefix
        self._max_open = max_open
        self._open: dict[str, tuple[list[Any], int]] = {}
        self._lock = threading.Lock()

    def open(self, items: list[Any], page_size: int) -> str:
        cursor = self._prefix + secrets.token_hex(6).upper()
        with self._lock:
            self._open[cursor] = (items, page_size)
            while len(self._open) > self._max_open:
                self._open.pop(next(iter(self._open)))
        return cursor

    def page(self, cursor: str, offset: int) -> Page | None:
        """The page at `offset` of a cursor's result set, or None for an unknown cursor or an
        offset outside it."""
        with self._lock:
            entry = self._open.get(cursor)
        if entry is None or not 0 <= offset < len(entry[0]):
            return None
        items, size = entry
        return page_of(items, offset, size)

    def size(self, cursor: str) -> int:
        """How many items a cursor's result set holds (0 for an unknown cursor)."""
        with self._lock:
            entry = self._open.get(cursor)
        return len(entry[0]) if entry else 0

    def clear(self) -> None:
        with self._lock:
            self._open.clear()
