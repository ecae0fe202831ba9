"""Change capture by polling, against an in-memory source: checkpoints, ties, overlap, ids."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from concord.connectors.kit.cursors import TimeCursor
from concord.domain import ApprovedTime, Customer, Opportunity, RecordChange
from concord.errors import TransientError, ValidationFailed
from concord.events import event_id_for_delivery
from concord.events.envelope import AccountChangedEvent, SyncExceptionRaisedEvent, TimeApprovedEvent
from concord.events.payloads import OpportunityLine
from concord.events.types import Money
from concord.sync.change_capture import (
    Watch,
    WatchConfig,
    announce_account_changes,
    announce_approved_time,
    announce_won_opportunities,
    capture,
    capture_watches,
    once_per_record_delivery_id,
)

from .fakes import ChangeLog, FakeBus, FakeCrm, FakeErp, FakePsa

T0 = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
OVERLAP = dt.timedelta(seconds=60)


@dataclass
class MemoryCheckpoints:
    saved: dict[str, str] = field(default_factory=dict)

    def load(self, key: str) -> str | None:
        return self.saved.get(key)

    def save(self, key: str, cursor: str) -> None:
        self.saved[key] = cursor

    def position(self, key: str) -> TimeCursor:
        return TimeCursor.decode(self.saved[key]).checkpoint


@dataclass
class Ledger(ChangeLog):
    """A source polled by write time whose commits can land behind the checkpoint (a
    transaction's timestamp is its start): each run re-reads an overlap, as Tryton's does."""

    rewind: dt.timedelta = OVERLAP

    def write(self, record_id: str, at: dt.datetime) -> None:
        self.touch("opportunity", record_id, at)

    def resume_cursor(self, record_type: str, saved: str) -> str:
        return TimeCursor.decode(saved).rewound(self.rewind).encode()


def watch(source: Ledger, announced: list[str]) -> Watch:
    def announce(change: RecordChange) -> list:
        announced.append(change.record_id)
        return []

    return Watch(
        key="crm:opportunity", record_type="opportunity", source=source, announce=announce, legal_entity="us-01"
    )


def test_the_first_poll_sets_a_checkpoint_at_now_and_announces_no_history() -> None:
    source, checkpoints, announced = Ledger(), MemoryCheckpoints(), []
    source.write("1", T0 - dt.timedelta(days=30))

    report = capture(watch(source, announced), checkpoints, FakeBus(), now=T0)

    assert report.started and announced == []
    assert checkpoints.position("crm:opportunity").written_at == T0


def test_pages_through_records_sharing_a_timestamp_without_skipping_or_repeating() -> None:
    source, checkpoints, announced = Ledger(rewind=dt.timedelta(0)), MemoryCheckpoints(), []
    checkpoints.save("crm:opportunity", TimeCursor.at(T0).encode())
    for record_id in ("1", "2", "3", "4", "5"):
        source.write(record_id, T0 + dt.timedelta(seconds=5))  # one transaction

    capture(watch(source, announced), checkpoints, FakeBus(), now=T0, page_size=2)

    assert announced == ["1", "2", "3", "4", "5"]
    saved = checkpoints.position("crm:opportunity")
    assert saved.written_at == T0 + dt.timedelta(seconds=5) and saved.ids_at == {"1", "2", "3", "4", "5"}


def test_a_change_committed_late_with_an_earlier_timestamp_is_caught_by_the_overlap() -> None:
    source, checkpoints, announced = Ledger(), MemoryCheckpoints(), []
    checkpoints.save("crm:opportunity", TimeCursor.at(T0).encode())
    source.write("1", T0 + dt.timedelta(seconds=10))
    capture(watch(source, announced), checkpoints, FakeBus(), now=T0)
    # a transaction that started at +8 s commits only now
    source.write("2", T0 + dt.timedelta(seconds=8))

    capture(watch(source, announced), checkpoints, FakeBus(), now=T0)

    assert "2" in announced
    assert checkpoints.position("crm:opportunity").written_at == T0 + dt.timedelta(seconds=10)  # never moved back


def test_a_run_that_stops_inside_the_overlap_keeps_the_checkpoint_it_had() -> None:
    source, checkpoints, announced = Ledger(), MemoryCheckpoints(), []
    checkpoints.save("crm:opportunity", TimeCursor.at(T0).encode())
    for second in (1, 2, 3):
        source.write(str(second), T0 + dt.timedelta(seconds=second))
    capture(watch(source, announced), checkpoints, FakeBus(), now=T0)
    ahead = checkpoints.position("crm:opportunity")

    # one page of one change, then the run ends (max_pages): still inside the re-read overlap
    capture(watch(source, announced), checkpoints, FakeBus(), now=T0, page_size=1, max_pages=1)

    assert checkpoints.position("crm:opportunity") == ahead


def test_a_change_no_event_can_be_made_of_is_reported_once_and_does_not_hold_back_the_watch() -> None:
    source, checkpoints, bus = Ledger(), MemoryCheckpoints(), FakeBus()
    checkpoints.save("crm:opportunity", TimeCursor.at(T0).encode())
    for second, record_id in ((1, "1"), (2, "2"), (3, "3")):
        source.write(record_id, T0 + dt.timedelta(seconds=second))

    def announce(change: RecordChange) -> list:
        if change.record_id == "2":
            raise ValidationFailed("deal 2 has no account")
        return []

    watch = Watch("crm:opportunity", "opportunity", source, announce, "us-01")
    first = capture(watch, checkpoints, bus, now=T0)
    capture(watch, checkpoints, bus, now=T0)  # the overlap re-reads deal 2

    assert (first.changes, first.refused) == (3, 1)
    assert checkpoints.position("crm:opportunity").written_at == T0 + dt.timedelta(seconds=3)
    (reported,) = {event.id: event for event in bus.published}.values()
    assert isinstance(reported, SyncExceptionRaisedEvent) and "deal 2 has no account" in reported.data.reason
    assert len(bus.published) == 2  # the same report twice: one id, consumers apply it once


def test_a_page_whose_batched_read_is_refused_is_announced_record_by_record() -> None:
    """One bad record (a timecard day over 24 hours, say) fails a read of the whole page: the page
    falls back to a read per record, and only the bad one is reported."""
    source, checkpoints, bus = Ledger(), MemoryCheckpoints(), FakeBus()
    checkpoints.save("psa:time_entry", TimeCursor.at(T0).encode())
    for second in (1, 2, 3):
        source.touch("time_entry", str(second), T0 + dt.timedelta(seconds=second))
    pages_read: list[list[str]] = []

    def read_page(changes: Sequence[RecordChange]) -> Callable[[RecordChange], list]:
        pages_read.append([change.record_id for change in changes])
        raise ValidationFailed("timecard 2: 25 hours on one day")

    def announce(change: RecordChange) -> list:
        if change.record_id == "2":
            raise ValidationFailed("timecard 2: 25 hours on one day")
        return []

    watch = Watch("psa:time_entry", "time_entry", source, announce, "us-01", read_page=read_page)
    report = capture(watch, checkpoints, bus, now=T0)

    assert pages_read == [["1", "2", "3"]]
    assert (report.changes, report.refused) == (3, 1)
    (reported,) = bus.published
    assert isinstance(reported, SyncExceptionRaisedEvent) and "25 hours" in reported.data.reason


def test_a_polled_won_deal_gets_the_event_id_push_gives_it() -> None:
    crm = FakeCrm()
    price = Money(amount=Decimal(150), currency="USD")
    crm.opportunities["31"] = Opportunity(
        opportunity_id="31",
        account_id="7",
        name="Deal",
        amount=Money(amount=Decimal(1500), currency="USD"),
        won=True,
        lines=[OpportunityLine(service_item="CONSULT-HR", description="Work", quantity=Decimal(10), unit_price=price)],
    )
    crm.opportunities["32"] = crm.opportunities["31"].model_copy(update={"opportunity_id": "32", "won": False})
    created = dt.datetime(2026, 11, 26, 6, 27, 2, 550915, tzinfo=dt.UTC)
    announce = announce_won_opportunities(crm, "crm", "us-01", clock=lambda: T0)

    (event,) = announce(RecordChange(record_type="opportunity", record_id="31", written_at=T0, created_at=created))
    ignored = announce(RecordChange(record_type="opportunity", record_id="32", written_at=T0, created_at=created))

    # concord_sync sends delivery id "<type>:<id>:<naive UTC creation time>" for the same fact
    assert event.id == event_id_for_delivery("crm", "OpportunityClosedWon:31:2026-11-26T06:27:02.550915")
    assert event.data.opportunity_id == "31" and event.data.closed_on == T0.date()
    assert ignored == []


def test_a_delivery_id_needs_the_records_creation_time() -> None:
    change = RecordChange(record_type="opportunity", record_id="1", written_at=T0)
    with pytest.raises(ValueError, match="creation time"):
        once_per_record_delivery_id("OpportunityClosedWon", change)


def test_a_polled_approval_gets_the_event_id_push_gives_it_and_nothing_before_it_is_approved() -> None:
    approved = ApprovedTime(
        time_entry_id="12",
        project_id="41",
        task_id="42",
        employee_id="3",
        worked_on=T0.date(),
        hours=Decimal("7.5"),
        billable=True,
        approved_at=T0,
    )
    psa = FakePsa(approved={"41": [approved]})
    announce = announce_approved_time(psa, "psa", "us-01", clock=lambda: T0)
    created = dt.datetime(2026, 11, 25, 17, 0, tzinfo=dt.UTC)

    (event,) = announce(RecordChange(record_type="time_entry", record_id="12", written_at=T0, created_at=created))
    assert isinstance(event, TimeApprovedEvent) and event.data.model_dump() == approved.model_dump()
    assert event.id == event_id_for_delivery("psa", "TimeApproved:12:2026-11-25T17:00:00")
    assert announce(RecordChange(record_type="time_entry", record_id="13", written_at=T0, created_at=created)) == []


def test_a_timecard_of_several_days_is_one_approval_per_day_each_with_its_own_id() -> None:
    days = [
        ApprovedTime(
            time_entry_id=f"a0T1:{day}",
            project_id="41",
            task_id="42",
            employee_id="3",
            worked_on=dt.date(2026, 11, day),
            hours=Decimal(8),
            billable=True,
            approved_at=T0,
        )
        for day in (23, 24)
    ]
    psa = FakePsa(approved={"41": days})
    psa.approved_entries = lambda record_id: days  # type: ignore[method-assign]  # the header holds both
    announce = announce_approved_time(psa, "psa", "us-01", clock=lambda: T0)

    events = announce(RecordChange(record_type="time_entry", record_id="a0T1", written_at=T0, created_at=T0))

    assert [e.data.time_entry_id for e in events] == ["a0T1:23", "a0T1:24"]
    assert len({e.id for e in events}) == 2


def test_a_polled_account_change_is_one_event_per_write() -> None:
    crm = FakeCrm()
    crm.customers["7"] = Customer(
        account_id="7", name="Northwind", tax_id="12-3456789", currency="USD", legal_entity="us-01"
    )
    announce = announce_account_changes(crm, "crm", "us-01", clock=lambda: T0)
    first = announce(RecordChange(record_type="customer", record_id="7", written_at=T0))
    again = announce(RecordChange(record_type="customer", record_id="7", written_at=T0))
    later = announce(RecordChange(record_type="customer", record_id="7", written_at=T0 + dt.timedelta(seconds=1)))
    assert isinstance(first[0], AccountChangedEvent) and first[0].data.name == "Northwind"
    assert first[0].id == again[0].id != later[0].id


def test_a_run_polls_every_watch_though_one_system_is_down_and_then_fails() -> None:
    crm, psa, checkpoints = FakeCrm(), FakePsa(), MemoryCheckpoints()

    def down(record_type: str, now: dt.datetime) -> str:
        raise TransientError("CRM unreachable")

    crm.start_cursor = down  # type: ignore[method-assign]
    configs = [
        WatchConfig(system="crm", record_type="opportunity", source="crm"),
        WatchConfig(system="psa", record_type="time_entry", source="psa"),
    ]

    run = capture_watches(configs, (crm, psa, FakeErp()), checkpoints, FakeBus(), "us-01", clock=lambda: T0)

    assert [r.key for r in run.reports] == ["psa:time_entry"] and run.reports[0].started
    assert checkpoints.position("psa:time_entry").written_at == T0
    assert [f.key for f in run.failures] == ["crm:opportunity"]
    with pytest.raises(TransientError, match="crm:opportunity: TransientError: CRM unreachable"):
        run.raise_for_failures()


def test_a_run_without_failures_does_not_raise() -> None:
    configs = [WatchConfig(system="erp", record_type="invoice", source="erp")]
    run = capture_watches(
        configs, (FakeCrm(), FakePsa(), FakeErp()), MemoryCheckpoints(), FakeBus(), "us-01", clock=lambda: T0
    )
    assert [(r.key, r.started) for r in run.reports] == [("erp:invoice", True)] and run.failures == []
    run.raise_for_failures()
