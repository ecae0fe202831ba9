"""Tryton's JSON encoding of values JSON lacks: objects tagged with "__class__".

Mirrors trytond.protocols.jsonrpc (JSONEncoder / JSONDecoder), e.g.
`{"__class__": "Decimal", "decimal": "150.00"}` <-> Decimal("150.00").
Tryton's datetimes are naive and in UTC; an aware datetime is converted to naive UTC on the way out.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

_DECODERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "Decimal": lambda o: Decimal(o["decimal"]),
    "date": lambda o: dt.date(o["year"], o["month"], o["day"]),
    "datetime": lambda o: dt.datetime(
        o["year"], o["month"], o["day"], o["hour"], o["minute"], o["second"], o["microsecond"]
    ),
    "time": lambda o: dt.time(o["hour"], o["minute"], o["second"], o["microsecond"]),
    "timedelta": lambda o: dt.timedelta(seconds=o["seconds"]),
    "bytes": lambda o: base64.b64decode(o["base64"]),
}


def _encode(value: Any) -> Any:
    # datetime before date: a datetime is also a date.
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return {
            "__class__": "datetime",
            "year": value.year,
            "month": value.month,
            "day": value.day,
            "hour": value.hour,
            "minute": value.minute,
            "second": value.second,
            "microsecond": value.microsecond,
        }
    if isinstance(value, dt.date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    if isinstance(value, dt.time):
        return {
            "__class__": "time",
            "hour": value.hour,
            "minute": value.minute,
            "second": value.second,
            "microsecond": value.microsecond,
        }
    if isinstance(value, dt.timedelta):
        return {"__class__": "timedelta", "seconds": value.total_seconds()}
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    if isinstance(value, (bytes, bytearray)):
        return {"__class__": "bytes", "base64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, (set, frozenset)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable for Tryton")


def _decode(obj: dict[str, Any]) -> Any:
    decoder = _DECODERS.get(obj.get("__class__", ""))
    return decoder(obj) if decoder else obj


def dumps(value: Any) -> str:
    """Serialise a JSON-RPC payload, tagging Decimal, date, datetime, time, timedelta, bytes."""
    return json.dumps(value, default=_encode, separators=(",", ":"))


def loads(text: str | bytes) -> Any:
    """Parse a JSON-RPC answer, turning tagged objects back into Python values."""
    return json.loads(text, object_hook=_decode)
