"""The operator's filter language (concord.cli.ops.filters) and --since, over a canonical event."""

from __future__ import annotations

import datetime as dt

import pytest

from concord.cli.ops.context import UsageError, parse_since
from concord.cli.ops.filters import FilterSyntaxError, combine, parse_filter

from .helpers import NOW

EVENT = {
    "id": "e-1",
    "type": "OpportunityClosedWon",
    "version": 1,
    "source_system": "crm",
    "occurred_at": "2026-03-01T09:30:00+00:00",
    "correlation_id": "c-1",
    "legal_entity": "us-01",
    "data": {
        "opportunity_id": "31",
        "account_id": 42,
        "name": "Data platform rollout",
        "amount": {"amount": "120000.00", "currency": "USD"},
        "closed_on": "2026-03-01",
        "lines": [
            {
                "service_item": "CONSULT-HR",
                "description": "Discovery",
                "quantity": "8",
                "unit_price": {"amount": "150", "currency": "USD"},
            },
            {
                "service_item": "CONSULT-HR",
                "description": "Build",
                "quantity": "40",
                "unit_price": {"amount": "150", "currency": "USD"},
            },
        ],
        "payment_term": None,
        "won": True,
    },
}


# --------------------------------------------------------------------------- the filter language


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("type=OpportunityClosedWon", True),
        ("type==OpportunityClosedWon", True),
        ("type=AccountChanged", False),
        ("type=AccountChanged|OpportunityClosedWon", True),
        ("type=Opportunity*", True),
        ("type!=AccountChanged", True),
        ("data.account_id=42", True),  # a number in the payload, text in the filter
        ('data.opportunity_id="31"', True),
        ("data.opportunity_id=31", True),
        ("data.amount.amount=120000", True),  # numbers compare as numbers
        ("data.amount.amount>=100000.5", True),
        ("data.amount.amount<1000", False),
        ("data.lines.description=Build", True),  # any element of a list
        ("data.lines.0.description=Build", False),  # one element, by index
        ("data.lines.-1.description=Build", True),
        ("data.name~PLATFORM", True),  # contains, case-insensitive
        ('data.name="Data platform rollout"', True),
        ("data.name=Data*", True),
        ('data.name="Data*"', False),  # quoted: no wildcards
        ("data.won=true", True),
        ("data.payment_term=null", True),
        ("data.tax_id=*", False),  # missing field: equals nothing
        ("data.tax_id!=*", True),
        ("data.account_id=*", True),
        ("occurred_at>2026-02-28", True),
        ("occurred_at<2026-03-01T09:00:00Z", False),
        ("type=OpportunityClosedWon data.account_id=42", True),
        ("type=OpportunityClosedWon, data.account_id=43", False),
        ("type=OpportunityClosedWon and data.account_id=42", True),
        ("type=OpportunityClosedWon && legal_entity=us-01", True),
        ("data=x", False),  # an object never equals text
    ],
)
def test_filter_expressions_over_a_canonical_event(expression: str, expected: bool) -> None:
    assert parse_filter(expression).matches(EVENT) is expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("type", "expected an operator"),
        ("type=", "expected a value"),
        ("=Account", "expected a field name"),
        ('data.name="open', "unterminated quoted value"),
        ("type=A|", "empty alternative"),
        ("data..id=1", "empty field name"),
        ("type=A b", "expected an operator"),
        ("type=!A", "expected a value"),
    ],
)
def test_a_malformed_filter_is_refused_with_where_and_why(expression: str, message: str) -> None:
    with pytest.raises(FilterSyntaxError, match=message) as raised:
        parse_filter(expression)
    assert "position" in str(raised.value)


def test_no_filter_matches_everything_and_several_filters_must_all_hold() -> None:
    assert parse_filter(None).matches(EVENT) and parse_filter("  ").matches(None)
    both = combine(["type=OpportunityClosedWon", "data.account_id=42"])
    assert both.matches(EVENT) and len(both.clauses) == 2
    assert not combine(["type=OpportunityClosedWon", "data.account_id=1"]).matches(EVENT)
    # a body that is not an event is matched as an empty object
    assert not parse_filter("type=OpportunityClosedWon").matches(None)
    assert parse_filter("type!=OpportunityClosedWon").matches(None)


def test_ids_that_look_like_numbers_in_another_notation_compare_as_text() -> None:
    event = {"id": "1e5", "data": {"ref": "0x10"}}
    assert not parse_filter("id=100000").matches(event)
    assert parse_filter("id=1e5").matches(event)
    assert not parse_filter("data.ref=16").matches(event)


def test_since_takes_a_duration_or_a_moment() -> None:
    assert parse_since("2h", NOW) == NOW - dt.timedelta(hours=2)
    assert parse_since("90s", NOW) == NOW - dt.timedelta(seconds=90)
    assert parse_since("2026-03-01", NOW) == dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    assert parse_since("2026-03-01T10:00:00+01:00", NOW) == dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
    assert parse_since(None, NOW) is None
    with pytest.raises(UsageError):
        parse_since("yesterday", NOW)
