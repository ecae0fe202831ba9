"""Pagination helpers: next-URL and cursor-token paging (one shape), and page-number paging.

- next URL: Salesforce `nextRecordsUrl` (absent on the last page)
- cursor token: HubSpot `paging.next.after`, journal offsets
- page number: Kantata `page` / `per_page`
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from concord.errors import PermanentError


@dataclass(frozen=True)
class Page[T, C]:
    """One page of items and where the next one is (None on the last page)."""

    items: Sequence[T]
    next: C | None = None


def follow[C, T](fetch: Callable[[C | None], Page[T, C]]) -> Iterator[T]:
    """Every item of every page: `fetch(None)` first, then `fetch(page.next)` until there is none.

    A vendor that hands back the cursor it was given would loop forever; that is an error.
    """
    cursor: C | None = None
    while True:
        page = fetch(cursor)
        yield from page.items
        if page.next is None:
            return
        if page.next == cursor:
            raise PermanentError(f"paging did not advance past cursor {cursor!r}")
        cursor = page.next


def numbered_pages[T](fetch: Callable[[int], Sequence[T]], *, per_page: int, first_page: int = 1) -> Iterator[T]:
    """Every item of page-numbered results; a page shorter than `per_page` is the last."""
    page_number = first_page
    while True:
        items = fetch(page_number)
        yield from items
        if len(items) < per_page:
            return
        page_number += 1
