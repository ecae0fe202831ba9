"""Salesforce field values on the wire: dates as `YYYY-MM-DD`, datetimes as
`2026-01-01T00:00:00.000+0000` (UTC, milliseconds)."""

from __future__ import annotations

from datetime import UTC, date, datetime


def format_datetime(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def parse_datetime(text: str) -> datetime | None:
    """A datetime with a time zone (Z, +0000 or +00:00), or None if `text` is not one."""
    if "T" not in text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else None


def parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None
