from __future__ import annotations

import pytest

from concord.connectors.kit.paging import Page, follow, numbered_pages
from concord.errors import PermanentError


def test_follow_reads_every_page_until_there_is_no_next() -> None:
    pages = {None: Page([1, 2], "/next/1"), "/next/1": Page([3], "/next/2"), "/next/2": Page([4, 5], None)}
    asked: list[str | None] = []

    def fetch(cursor: str | None) -> Page[int, str]:
        asked.append(cursor)
        return pages[cursor]

    assert list(follow(fetch)) == [1, 2, 3, 4, 5]
    assert asked == [None, "/next/1", "/next/2"]


def test_follow_is_lazy_one_page_at_a_time() -> None:
    asked: list[str | None] = []

    def fetch(cursor: str | None) -> Page[int, str]:
        asked.append(cursor)
        return Page([len(asked)], f"after-{len(asked)}")

    items = follow(fetch)
    assert next(items) == 1 and asked == [None]


def test_a_cursor_that_does_not_advance_is_an_error_not_a_loop() -> None:
    with pytest.raises(PermanentError):
        list(follow(lambda cursor: Page(["x"], "same")))


def test_numbered_pages_stop_at_the_first_short_page() -> None:
    data = list(range(7))
    asked: list[int] = []

    def fetch(page: int) -> list[int]:
        asked.append(page)
        return data[(page - 1) * 3 : page * 3]

    assert list(numbered_pages(fetch, per_page=3)) == data
    assert asked == [1, 2, 3]


def test_numbered_pages_ask_once_more_after_an_exactly_full_page() -> None:
    asked: list[int] = []

    def fetch(page: int) -> list[int]:
        asked.append(page)
        return [page] * 2 if page == 0 else []

    assert list(numbered_pages(fetch, per_page=2, first_page=0)) == [0, 0]
    assert asked == [0, 1]
