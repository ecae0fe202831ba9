"""What change capture reads from a Tryton PSA (in memory, calls counted): pages proportional to
what changed, the overlap passed over without re-reading or re-announcing, late commits caught."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from concord.connectors.kit.cursors import TimeCursor
from concord.connectors.tryton.polling import RESUME_OVERLAP
from concord.connectors.tryton.psa import TrytonPsa
from concord.sync.change_capture import CaptureReport, capture, watch_for

from .fakes import FakeBus, FakeCrm, FakeErp
from .tryton_fake import TASK, FakeTrytonPsa

T0 = dt.datetime(2026, 11, 26, 9, 0)  # naive UTC, as Tryton stamps
PAGE = 100


@dataclass
class MemoryCheckpoints:
    saved: dict[str, str] = field(default_factory=dict)

    def load(self, key: str) -> str | None:
        return self.saved.get(key)

    def save(self, key: str, cursor: str) -> None:
        self.saved[key] = cursor


@dataclass
class Poller:
    tryton: FakeTrytonPsa = field(default_factory=FakeTrytonPsa)
    checkpoints: MemoryCheckpoints = field(default_factory=MemoryCheckpoints)
    bus: FakeBus = field(default_factory=FakeBus)

    def poll(self, at: dt.datetime) -> CaptureReport:
        psa = TrytonPsa(self.tryton)  # type: ignore[arg-type]
        watch = watch_for("psa", "time_entry", "psa", (FakeCrm(), psa, FakeErp()), "us-01", clock=lambda: utc(at))
        return capture(watch, self.checkpoints, self.bus, utc(at), page_size=PAGE)

    def reads(self) -> int:
        return sum(self.tryton.calls.values())

    def announced(self) -> list[str]:
        return [event.data.time_entry_id for event in self.bus.published]


def utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC)


def test_approvals_are_read_and_announced_a_page_at_a_time() -> None:
    poller = Poller()
    poller.poll(T0)  # the first poll only sets the checkpoint
    for n in range(1, 251):
        poller.tryton.approve(n, T0 + dt.timedelta(milliseconds=100 * n))

    report = poller.poll(T0 + dt.timedelta(minutes=1))

    assert report.events == 250 and sorted(poller.announced(), key=int) == [str(n) for n in range(1, 251)]
    # 3 pages (100, 100, 50), each one read: the lines with their task and its project
    assert poller.tryton.calls == {"timesheet.line": 3}


def test_a_poll_with_nothing_new_reads_one_page_and_announces_nothing_again() -> None:
    poller = Poller()
    poller.poll(T0)
    for n in range(1, 201):
        poller.tryton.approve(n, T0 + dt.timedelta(milliseconds=200 * n))  # all inside the overlap
    poller.poll(T0 + dt.timedelta(minutes=1))
    before = poller.reads()

    for minute in range(2, 7):
        report = poller.poll(T0 + dt.timedelta(minutes=minute))
        assert report.changes == 0 and report.events == 0

    assert poller.reads() - before == 5  # one page read per poll, none per entry
    assert len(poller.announced()) == 200


def test_a_late_commit_stamped_inside_the_overlap_is_caught_once() -> None:
    poller = Poller()
    poller.poll(T0)
    for n in range(1, 11):
        poller.tryton.approve(n, T0 + dt.timedelta(seconds=5 * n))
    poller.poll(T0 + dt.timedelta(minutes=1))  # read up to the approval at 50 s

    # a transaction that started at 30 s commits only now: its stamp is behind the checkpoint
    late = T0 + dt.timedelta(seconds=30, milliseconds=1)
    assert late > T0 + dt.timedelta(seconds=50) - RESUME_OVERLAP
    poller.tryton.approve(99, late)
    report = poller.poll(T0 + dt.timedelta(minutes=2))
    again = poller.poll(T0 + dt.timedelta(minutes=3))

    assert report.changes == 1 and report.events == 1
    assert again.changes == 0
    assert sorted(poller.announced(), key=int) == [*map(str, range(1, 11)), "99"]


def test_a_line_approved_again_with_a_newer_stamp_inside_the_overlap_is_read_again() -> None:
    poller = Poller()
    poller.poll(T0)
    for n in (1, 2):
        poller.tryton.approve(n, T0 + dt.timedelta(seconds=10 * n))
    poller.poll(T0 + dt.timedelta(minutes=1))

    poller.tryton.approve(1, T0 + dt.timedelta(seconds=15))  # newer than its last read, behind the checkpoint
    report = poller.poll(T0 + dt.timedelta(minutes=2))

    assert report.changes == 1


def test_a_full_last_page_costs_no_empty_read_after_it() -> None:
    poller = Poller()
    poller.poll(T0)
    for n in range(1, PAGE + 1):
        poller.tryton.approve(n, T0 + dt.timedelta(milliseconds=100 * n))

    report = poller.poll(T0 + dt.timedelta(minutes=1))

    assert report.changes == PAGE and poller.tryton.calls["timesheet.line"] == 1


def test_paging_through_records_sharing_a_stamp_never_skips_nor_repeats() -> None:
    tryton = FakeTrytonPsa()
    for n, second in ((1, 0), (2, 0), (3, 0), (4, 1), (5, 1)):
        tryton.approve(n, T0 + dt.timedelta(seconds=second))
    psa, cursor, seen = TrytonPsa(tryton), TimeCursor.at(utc(T0) - dt.timedelta(days=1)).encode(), []  # type: ignore[arg-type]
    for _ in range(10):
        page = psa.changes_since("time_entry", cursor, 2)
        seen += [change.record_id for change in page.changes]
        cursor = page.cursor
        if not page.more:
            break

    assert seen == ["1", "2", "3", "4", "5"]
    assert tryton.calls["timesheet.line"] == 3


def test_time_on_a_task_two_levels_down_costs_one_read_of_its_ancestors() -> None:
    """The poll reads a line's task and the task's parent; a deeper task's project is found by
    one search of the ancestors of all such tasks on the page."""
    poller = Poller()
    subtask = 3
    poller.tryton.works[subtask] = {"id": subtask, "parent": TASK, "project_invoice_method": "manual"}
    poller.poll(T0)
    for n in range(1, 5):
        poller.tryton.approve(n, T0 + dt.timedelta(seconds=n))
    poller.tryton.lines[4]["work."] = {"origin": f"project.work,{subtask}"}

    poller.poll(T0 + dt.timedelta(minutes=1))

    assert poller.tryton.calls == {"timesheet.line": 1, "project.work": 1}
    projects = {event.data.time_entry_id: (event.data.project_id, event.data.task_id) for event in poller.bus.published}
    assert projects == {"1": ("1", "2"), "2": ("1", "2"), "3": ("1", "2"), "4": ("1", "3")}
    assert all(event.data.billable for event in poller.bus.published)  # the project's invoice method


def test_entries_read_without_a_poll_cost_one_read_of_the_lines() -> None:
    tryton = FakeTrytonPsa()
    for n in (1, 2):
        tryton.approve(n, T0 + dt.timedelta(seconds=n))

    entries = TrytonPsa(tryton).approved_entries_of(["1", "2", "no-id"])  # type: ignore[arg-type]

    assert sorted(entries) == ["1", "2"] and tryton.calls == {"timesheet.line": 1}
    assert entries["1"][0].project_id == "1" and entries["1"][0].task_id == "2"


def test_what_a_poll_read_serves_the_announcing_right_after_it_only() -> None:
    tryton = FakeTrytonPsa()
    tryton.approve(1, T0 + dt.timedelta(seconds=1))
    psa = TrytonPsa(tryton)  # type: ignore[arg-type]
    psa.changes_since("time_entry", TimeCursor.at(utc(T0)).encode(), 10)

    first = psa.approved_entries("1")
    tryton.lines[1]["duration"] = dt.timedelta(hours=3)  # the line as a later read finds it
    again = psa.approved_entries("1")

    assert tryton.calls == {"timesheet.line": 2}  # the poll, then the later read
    assert (first[0].hours, again[0].hours) == (2, 3)
