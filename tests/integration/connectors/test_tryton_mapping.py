"""The pure parts of the Tryton connector: mapping, names, polling (no server needed)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from concord.connectors.kit.cursors import TimeCursor
from concord.connectors.tryton import mapping, names, polling
from concord.domain import FinancialStatus, ProjectState
from concord.errors import ValidationFailed
from concord.events.types import Address

T0 = dt.datetime(2026, 4, 3, 9, 0, 0, 123456)
T1 = T0 + dt.timedelta(seconds=1)


def test_resuming_rewinds_a_minute_and_never_hands_out_a_cursor_behind_the_saved_one() -> None:
    types = polling.RecordTypes("CRM", {"customer": ("party.party", [], names.MODIFIED_AT)})
    saved = TimeCursor(written_at=T1.replace(tzinfo=dt.UTC), ids_at=frozenset({"4"})).encode()

    resumed = TimeCursor.decode(types.resume_cursor("customer", saved))

    assert resumed.written_at == T1.replace(tzinfo=dt.UTC) - polling.RESUME_OVERLAP
    assert resumed.checkpoint == TimeCursor.decode(saved)
    # a change re-read inside the overlap keeps the saved checkpoint
    again = resumed.advanced([("2", T0.replace(tzinfo=dt.UTC))])
    assert again.checkpoint == TimeCursor.decode(saved)


def test_cursors_are_checked_for_the_record_type_and_their_shape() -> None:
    types = polling.RecordTypes("ERP", {"invoice": ("account.invoice", [], names.MODIFIED_AT)})

    with pytest.raises(ValidationFailed, match="ERP record type 'opportunity' unknown"):
        types.start_cursor("opportunity", T0.replace(tzinfo=dt.UTC))
    with pytest.raises(ValidationFailed, match="not a Tryton change cursor"):
        types.resume_cursor("invoice", "1700000000")
    start = types.start_cursor("invoice", T0.replace(tzinfo=dt.UTC))
    assert TimeCursor.decode(start) == TimeCursor.at(T0.replace(tzinfo=dt.UTC))


def test_datetimes_travel_as_naive_utc() -> None:
    aware = dt.datetime(2026, 4, 3, 11, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))

    assert names.to_tryton_datetime(aware) == dt.datetime(2026, 4, 3, 9, 0)
    assert names.from_tryton_datetime(dt.datetime(2026, 4, 3, 9, 0)) == aware


@pytest.mark.parametrize(("tax_id", "country", "kind"), [
    ("DE123456789", "DE", "eu_vat"), ("FR 40 303 265 045", None, "eu_vat"),
    ("GB980780684", "GB", "gb_vat"), ("94-3123456", "US", "us_ein"),
    ("123456789RT0001", "CA", "ca_bn"), ("12345", None, None),
])
def test_tax_identifier_type(tax_id: str, country: str | None, kind: str | None) -> None:
    assert mapping.tax_identifier_type(tax_id, country) == kind


def test_identifier_domain_covers_stdnum_forms() -> None:
    assert mapping.identifier_domain("gb 980 7806-84") == [[
        "OR", ["code", "=", "gb 980 7806-84"], ["code_compact", "=", "GB980780684"],
        [["code_compact", "=", "980780684"], ["type", "=", "gb_vat"]]]]
    assert mapping.identifier_domain("94-3123456") == [[
        "OR", ["code", "=", "94-3123456"], ["code_compact", "=", "943123456"]]]


def test_to_address_needs_street_city_and_country() -> None:
    row = {"street": "500 Market Street\nSuite 2", "city": "San Francisco",
           "postal_code": "94105", "country.": {"code": "US"}, "subdivision.": {"code": "US-CA"}}

    assert mapping.to_address(row) == Address(
        street="500 Market Street, Suite 2", city="San Francisco", postal_code="94105",
        region="CA", country="US")
    assert mapping.to_address({**row, "city": None}) is None
    assert mapping.to_address({**row, "country.": None}) is None
    assert mapping.to_address(None) is None


def test_status_notes_round_trip() -> None:
    note = mapping.financial_status_note(FinancialStatus.PARTIALLY_PAID, T0)

    assert note == "Concord financial status: partially_paid (set by Concord 2026-04-03T09:00Z)"
    assert mapping.status_of_note(note, names.FINANCIAL_STATUS_NOTE) is (
        FinancialStatus.PARTIALLY_PAID)
    assert mapping.status_of_note(note, names.BILLING_STATUS_NOTE) is None
    assert mapping.status_of_note(None, names.BILLING_STATUS_NOTE) is None


def test_last_state_comment_reads_back_the_appended_line() -> None:
    comment = mapping.append_line("Created by Concord.", mapping.state_comment(
        ProjectState.ON_HOLD, "ERP  step\tfailed", T0))

    assert comment.splitlines()[0] == "Created by Concord."
    assert mapping.last_state_comment(comment) == mapping.state_comment_key(
        ProjectState.ON_HOLD, "ERP step failed") == "on_hold: ERP step failed"
    assert mapping.last_state_comment("hand-written") is None


@pytest.mark.parametrize(("state", "to_pay", "posted", "due"), [
    ("draft", Decimal(0), False, Decimal("100")), ("posted", Decimal("40"), True, Decimal("40")),
    ("paid", Decimal(0), True, Decimal(0)), ("cancelled", Decimal(0), False, Decimal(0)),
])
def test_to_invoice_record_amount_due(state: str, to_pay: Decimal, posted: bool,
                                      due: Decimal) -> None:
    row = {"id": 7, "number": "INV-1" if posted else None, "state": state,
           "total_amount": Decimal("100"), "amount_to_pay": to_pay, "currency.": {"code": "USD"}}

    record = mapping.to_invoice_record(row, None)

    assert (record.posted, record.amount_due.amount) == (posted, due)


@pytest.mark.parametrize("value", ["0", "-3", "abc", ""])
def test_record_id_rejects_what_is_not_a_tryton_id(value: str) -> None:
    with pytest.raises(names.RecordNotFound):
        names.record_id(value, "customer")
