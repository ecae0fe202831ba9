"""Certinia mappers: a timecard week to per-day ApprovedTime, budgets to one amount."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from concord.connectors.certinia.mappers import to_canonical_approved_time, to_canonical_budget
from concord.connectors.certinia.payloads import BudgetRow, TimecardRow
from concord.errors import ValidationFailed


def header(start: str, **hours: float) -> TimecardRow:
    fields: dict[str, Any] = {
        "Id": "a0Dxx1",
        "pse__Project__c": "a0Axx1",
        "pse__Resource__c": "003xx1",
        "pse__Approved__c": True,
        "pse__Billable__c": True,
        "pse__Start_Date__c": start,
        "LastModifiedDate": "2026-03-09T09:00:00.000+0000",
    }
    fields.update({f"pse__{day}_Hours__c": value for day, value in hours.items()})
    return TimecardRow.model_validate(fields)


def test_a_week_starting_on_sunday_dates_each_weekday_within_that_week() -> None:
    entries = to_canonical_approved_time(header("2026-03-01", Sunday=2, Monday=8, Saturday=1))  # 1 March 2026: a Sunday
    assert [(e.worked_on, e.hours) for e in entries] == [
        (dt.date(2026, 3, 1), Decimal(2)),
        (dt.date(2026, 3, 2), Decimal(8)),
        (dt.date(2026, 3, 7), Decimal(1)),
    ]
    assert entries[0].approved_at == dt.datetime(2026, 3, 9, 9, tzinfo=dt.UTC)
    assert entries[0].task_id == "a0Axx1"  # no task on the header: the project


def test_hours_with_more_than_two_decimals_are_refused_naming_the_header() -> None:
    with pytest.raises(ValidationFailed, match="a0Dxx1"):
        to_canonical_approved_time(header("2026-03-02", Monday=1.125))


def test_budget_sums_approved_rows_and_refuses_mixed_currencies() -> None:
    rows = [
        BudgetRow.model_validate(
            {"Id": str(i), "pse__Amount__c": amount, "CurrencyIsoCode": "USD", "pse__Approved__c": approved}
        )
        for i, (amount, approved) in enumerate([(100, True), (50.5, True), (999, False)])
    ]
    assert to_canonical_budget(rows, "p").amount == Decimal("150.5")  # type: ignore[union-attr]
    assert to_canonical_budget(rows[2:], "p") is None
    euro = BudgetRow.model_validate(
        {"Id": "e", "pse__Amount__c": 1, "CurrencyIsoCode": "EUR", "pse__Approved__c": True}
    )
    with pytest.raises(ValidationFailed):
        to_canonical_budget([*rows, euro], "p")
