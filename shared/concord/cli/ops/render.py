"""Shared presentation: severity colours (those of the alarm topics), ages, JSON."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from rich.text import Text

from ...events.types import Severity

SEVERITY_STYLES = {
    Severity.CRITICAL.value: "bold white on red",
    Severity.HIGH.value: "bold red",
    Severity.WARNING.value: "yellow",
    Severity.INFO.value: "cyan",
    "ok": "green",
}
ERROR_CLASS_STYLES = {"transient": "cyan", "validation": "magenta", "conflict": "red", "permanent": "bold red"}


def severity(value: str | Severity) -> Text:
    name = value.value if isinstance(value, Severity) else str(value)
    return Text(name, style=SEVERITY_STYLES.get(name, ""))


def error_class(value: str) -> Text:
    return Text(value, style=ERROR_CLASS_STYLES.get(value, ""))


def styled(value: Any, level: str) -> Text:
    return Text(str(value), style=SEVERITY_STYLES.get(level, ""))


def age(since: dt.datetime | None, now: dt.datetime) -> str:
    if since is None:
        return "?"
    return duration((now - since).total_seconds())


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"
    return f"{seconds // 86400}d"


def when(moment: dt.datetime | str | None) -> str:
    if moment is None:
        return "-"
    if isinstance(moment, str):
        try:
            moment = dt.datetime.fromisoformat(moment)
        except ValueError:
            return str(moment)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def short(value: str | None, width: int = 100) -> str:
    if not value:
        return ""
    value = " ".join(str(value).split())
    return value if len(value) <= width else value[: width - 1] + "…"


def _default(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, set):
        return sorted(value)
    return str(value)


def print_json(payload: Any) -> None:
    print(json.dumps(payload, indent=2, default=_default))
