from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from concord.connectors.kit.cursors import MAX_REMEMBERED, TimeCursor
from concord.domain import RecordChange

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_advancing_moves_to_the_last_timestamp_and_keeps_the_ids_sharing_it() -> None:
    cursor = TimeCursor(written_at=T0).advanced([("a", at(1)), ("b", at(2)), ("c", at(2))])
    assert cursor.written_at == at(2)
    assert cursor.ids_at == {"b", "c"}


def test_a_page_ending_inside_a_timestamp_neither_skips_nor_repeats() -> None:
    first = TimeCursor(written_at=T0).advanced([("a", at(5)), ("b", at(5))])
    assert first.seen("a", at(5)) and first.seen("b", at(5))
    assert not first.seen("c", at(5))  # the next page still returns it
    second = first.advanced([("c", at(5))])
    assert second.ids_at == {"a", "b", "c"} and second.written_at == at(5)


def test_no_changes_leave_the_cursor_where_it_was() -> None:
    cursor = TimeCursor(written_at=at(3), ids_at=frozenset({"x"}))
    assert cursor.advanced([]) == cursor


def test_encode_decode_round_trips_and_is_stable() -> None:
    cursor = TimeCursor(written_at=at(9), ids_at=frozenset({"b", "a"})).rewound(timedelta(minutes=2))
    encoded = cursor.encode()
    assert TimeCursor.decode(encoded) == cursor
    assert encoded == TimeCursor(written_at=at(9), ids_at=frozenset({"a", "b"})).rewound(timedelta(minutes=2)).encode()
    assert " " not in encoded


def test_a_naive_timestamp_is_refused() -> None:
    with pytest.raises(ValidationError):
        TimeCursor(written_at=datetime(2026, 3, 1))


def test_rewound_reads_earlier_but_remembers_the_original_position() -> None:
    original = TimeCursor(written_at=at(600), ids_at=frozenset({"z"}))
    rewound = original.rewound(timedelta(minutes=5))
    assert rewound.written_at == at(300) and rewound.ids_at == frozenset()
    assert rewound.floor == original
    assert rewound.checkpoint == original


def test_rereading_the_overlap_never_moves_the_checkpoint_back() -> None:
    original = TimeCursor(written_at=at(600), ids_at=frozenset({"z"}))
    partway = original.rewound(timedelta(minutes=5)).advanced([("late", at(320)), ("m", at(400))])
    assert partway.written_at == at(400)  # reading goes on from here ...
    assert partway.checkpoint == original  # ... but the saved progress stays put


def test_the_floor_is_dropped_once_reading_passes_it() -> None:
    original = TimeCursor(written_at=at(600), ids_at=frozenset({"z"}))
    passed = original.rewound(timedelta(minutes=5)).advanced([("m", at(400)), ("n", at(700))])
    assert passed.floor is None
    assert passed.checkpoint.written_at == at(700) and passed.ids_at == {"n"}


def test_reaching_the_floor_timestamp_merges_the_ids_seen_there() -> None:
    original = TimeCursor(written_at=at(600), ids_at=frozenset({"z"}))
    reached = original.rewound(timedelta(minutes=5)).advanced([("y", at(600))])
    assert reached.floor is None and reached.ids_at == {"y", "z"}


def test_rewinding_twice_keeps_the_furthest_floor() -> None:
    original = TimeCursor(written_at=at(600))
    twice = original.rewound(timedelta(minutes=5)).rewound(timedelta(minutes=5))
    assert twice.written_at == at(0) and twice.floor == original


def _change(record_id: str, second: int) -> RecordChange:
    return RecordChange(record_type="opportunity", record_id=record_id, written_at=at(second))


def test_a_rewound_reread_passes_over_what_it_read_but_not_newer_versions_or_late_commits() -> None:
    read = TimeCursor.at(at(0)).rewound(timedelta(minutes=1)).advanced([("a", at(10)), ("b", at(20))])
    rewound = read.rewound(timedelta(minutes=1))

    page = rewound.page([_change("a", 10), _change("late", 15), _change("b", 25)], more=False)

    assert [c.record_id for c in page.changes] == ["late", "b"]  # b changed again after it was read
    moved = TimeCursor.decode(page.cursor)
    assert moved.written_at == at(25) and moved.seen("late", at(15)) and not moved.seen("b", at(30))


def test_the_memory_keeps_the_newest_and_a_forgotten_change_is_read_again_not_lost() -> None:
    many = [(str(n), at(n)) for n in range(MAX_REMEMBERED + 5)]
    read = TimeCursor.at(at(0)).rewound(timedelta(hours=2)).advanced(many)

    assert len(read.read) == MAX_REMEMBERED and read.seen(*many[-1])
    rewound = read.rewound(timedelta(hours=2))
    assert not rewound.seen(*many[0])  # forgotten: announced again, with the same event id
