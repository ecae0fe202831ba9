"""Unit tests (no server): Tryton's tagged JSON values survive a round trip."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from concord.connectors.tryton import codec


@pytest.mark.parametrize(
    "value",
    [
        Decimal("150.00"),
        Decimal("-0.005"),
        dt.date(2026, 2, 28),
        dt.datetime(2026, 2, 28, 13, 45, 7, 120000),
        dt.time(9, 30),
        dt.timedelta(hours=3, minutes=15),
        dt.timedelta(seconds=0.5),
        b"\x00binary\xff",
    ],
)
def test_round_trip(value: object) -> None:
    decoded = codec.loads(codec.dumps({"params": [[value], {"nested": value}]}))

    assert decoded == {"params": [[value], {"nested": value}]}
    assert type(decoded["params"][0][0]) is type(value)


def test_wire_format_matches_trytond() -> None:
    # The shapes trytond.protocols.jsonrpc produces and accepts.
    assert codec.dumps(Decimal("150")) == '{"__class__":"Decimal","decimal":"150"}'
    assert codec.dumps(dt.date(2026, 1, 2)) == ('{"__class__":"date","year":2026,"month":1,"day":2}')
    assert codec.dumps(dt.timedelta(hours=3)) == ('{"__class__":"timedelta","seconds":10800.0}')


def test_decodes_what_the_server_sends() -> None:
    text = (
        '{"id":1,"result":[{"duration":{"__class__":"timedelta","seconds":10800.0},'
        '"total":{"__class__":"Decimal","decimal":"1200.00"},'
        '"write_date":{"__class__":"datetime","year":2026,"month":1,"day":2,"hour":3,'
        '"minute":4,"second":5,"microsecond":6}}]}'
    )

    (record,) = codec.loads(text)["result"]

    assert record == {
        "duration": dt.timedelta(hours=3),
        "total": Decimal("1200.00"),
        "write_date": dt.datetime(2026, 1, 2, 3, 4, 5, 6),
    }


def test_aware_datetime_is_sent_as_naive_utc() -> None:
    paris = dt.timezone(dt.timedelta(hours=1))

    sent = codec.loads(codec.dumps(dt.datetime(2026, 1, 2, 10, 0, tzinfo=paris)))

    assert sent == dt.datetime(2026, 1, 2, 9, 0)


def test_untagged_objects_stay_dicts() -> None:
    assert codec.loads('{"__class__":"Unknown","x":1}') == {"__class__": "Unknown", "x": 1}


def test_unsupported_type_is_refused() -> None:
    with pytest.raises(TypeError):
        codec.dumps(object())
