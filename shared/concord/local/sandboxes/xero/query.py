"""Xero's list options: `where` (a small C#-like filter language), `order`, `page` (100 a
page), `IDs` and the `If-Modified-Since` header, over records as the API shows them.
https://developer.xero.com/documentation/api/accounting/requests-and-responses/
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any

from .errors import XeroError, validation

PAGE_SIZE = 100
Row = dict[str, Any]
Test = Callable[[Row], bool]
_TOKEN = re.compile(
    r"\s*(?:(?P<open>\()|(?P<close>\))|(?P<join>AND|OR|&&|\|\|)|"
    r"(?P<field>[A-Za-z][\w.]*)\s*(?P<op>==|!=)\s*"
    r'(?P<value>"(?:[^"\\]|\\.)*"|Guid\("[0-9a-fA-F-]{36}"\)|true|false|-?\d+(?:\.\d+)?))'
)


def _literal(text: str) -> Any:
    if text.startswith("Guid("):
        return text[6:-2].lower()
    if text.startswith('"'):
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    if text in ("true", "false"):
        return text == "true"
    return float(text)


def _value(row: Row, path: str) -> Any:
    value: Any = row
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value.lower() if isinstance(value, str) and re.fullmatch(r"[0-9a-fA-F-]{36}", value) else value


def where(expression: str | None) -> Test:
    """A test of rows for a `where` expression (comparisons, AND over OR, parentheses)."""
    if not expression:
        return lambda row: True
    tokens: list[re.Match[str]] = []
    position = 0
    while position < len(expression.rstrip()):
        match = _TOKEN.match(expression, position)
        if match is None:
            raise _bad_where(expression)
        tokens.append(match)
        position = match.end()
    test, rest = _disjunction(tokens, expression)
    if rest:
        raise _bad_where(expression)
    return test


def _disjunction(tokens: list[re.Match[str]], text: str) -> tuple[Test, list[re.Match[str]]]:
    left, rest = _conjunction(tokens, text)
    while rest and rest[0].group("join") in ("OR", "||"):
        right, rest = _conjunction(rest[1:], text)
        left = (lambda a, b: lambda row: a(row) or b(row))(left, right)
    return left, rest


def _conjunction(tokens: list[re.Match[str]], text: str) -> tuple[Test, list[re.Match[str]]]:
    left, rest = _term(tokens, text)
    while rest and rest[0].group("join") in ("AND", "&&"):
        right, rest = _term(rest[1:], text)
        left = (lambda a, b: lambda row: a(row) and b(row))(left, right)
    return left, rest


def _term(tokens: list[re.Match[str]], text: str) -> tuple[Test, list[re.Match[str]]]:
    if not tokens:
        raise _bad_where(text)
    head = tokens[0]
    if head.group("open"):
        inner, rest = _disjunction(tokens[1:], text)
        if not rest or not rest[0].group("close"):
            raise _bad_where(text)
        return inner, rest[1:]
    if not head.group("field"):
        raise _bad_where(text)
    path, wanted, equal = head.group("field"), _literal(head.group("value")), head.group("op") == "=="
    return (lambda row: (_value(row, path) == wanted) is equal), tokens[1:]


def _bad_where(expression: str) -> XeroError:
    return validation([f"Operator or field in the where clause is not supported: {expression[:200]}"])


def modified_since(header: str | None) -> dt.datetime | None:
    """The If-Modified-Since moment: ISO 8601 (Xero's own form) or an HTTP-date; UTC."""
    if not header:
        return None
    try:
        moment = dt.datetime.fromisoformat(header)
    except ValueError:
        try:
            moment = parsedate_to_datetime(header)
        except (TypeError, ValueError):
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def ordered(rows: list[Row], order: str | None) -> list[Row]:
    """`order=Field [ASC|DESC]`; None sorts first. UpdatedDateUTC sorts by the stored moment."""
    if not order:
        return rows
    field, _, direction = order.strip().partition(" ")
    key = "_updated" if field == "UpdatedDateUTC" else field
    return sorted(
        rows, key=lambda row: (row.get(key) is not None, row.get(key) or ""), reverse=direction.upper() == "DESC"
    )


def paged(rows: list[Row], page: str | None) -> tuple[list[Row], dict[str, int] | None]:
    """Page `page` (from 1) of 100 with its pagination block; every row when no page is asked."""
    if page is None:
        return rows, None
    number = max(1, int(page)) if page.isdigit() else 1
    chunk = rows[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
    pagination = {
        "page": number,
        "pageSize": PAGE_SIZE,
        "pageCount": (len(rows) + PAGE_SIZE - 1) // PAGE_SIZE,
        "itemCount": len(rows),
    }
    return chunk, pagination
