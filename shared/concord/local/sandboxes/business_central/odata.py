"""The OData query options the sandbox understands: `$filter` (comparisons joined by and/or,
parentheses), `$orderby`, `$top`, `$skip`/`$skiptoken` with `@odata.nextLink`, `$select`.
https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/webservices/use-filter-expressions-in-odata-uris
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

from .errors import BcError

Row = dict[str, Any]
Predicate = Callable[[Row], bool]

_TOKEN = re.compile(r"\s*(?:(\()|(\))|('(?:[^']|'')*')|([A-Za-z_][\w.]*|[-\d][\w:.\-+]*))")
_OPS = {"eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "gt": lambda a, b: a is not None and a > b,
        "ge": lambda a, b: a is not None and a >= b, "lt": lambda a, b: a is not None and a < b,
        "le": lambda a, b: a is not None and a <= b}


def _tokens(text: str) -> list[str]:
    tokens, position = [], 0
    while position < len(text.rstrip()):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise BcError(400, "BadRequest", f"Syntax error at position {position} in '{text}'")
        tokens.append(next(group for group in match.groups() if group is not None))
        position = match.end()
    return tokens


def _literal(token: str) -> Any:
    if token.startswith("'"):
        return token[1:-1].replace("''", "'")
    if token in ("true", "false"):
        return token == "true"
    if token == "null":
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})", token):
        return dt.datetime.fromisoformat(token)
    if re.fullmatch(r"-?\d+(\.\d+)?", token):
        return float(token)
    return token  # a GUID or a date


def comparable(value: Any, like: Any) -> Any:
    """A record's value in the literal's type (ISO strings compared as times, numbers as floats)."""
    if isinstance(like, dt.datetime) and isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    if isinstance(like, float) and isinstance(value, int | float):
        return float(value)
    return value


def _either(first: Predicate, second: Predicate) -> Predicate:
    return lambda row: first(row) or second(row)


def _both(first: Predicate, second: Predicate) -> Predicate:
    return lambda row: first(row) and second(row)


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens, self.at = tokens, 0

    def take(self) -> str:
        if self.at >= len(self.tokens):
            raise BcError(400, "BadRequest", "The $filter expression ends too early")
        self.at += 1
        return self.tokens[self.at - 1]

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def expression(self) -> Predicate:
        left = self.conjunction()
        while self.peek() == "or":
            self.take()
            left = _either(left, self.conjunction())
        return left

    def conjunction(self) -> Predicate:
        left = self.comparison()
        while self.peek() == "and":
            self.take()
            left = _both(left, self.comparison())
        return left

    def comparison(self) -> Predicate:
        if self.peek() == "(":
            self.take()
            inner = self.expression()
            if self.take() != ")":
                raise BcError(400, "BadRequest", "Expected ')' in $filter")
            return inner
        field, op, literal = self.take(), self.take(), _literal(self.take())
        if op not in _OPS:
            raise BcError(400, "BadRequest", f"Unknown operator '{op}' in $filter")
        compare = _OPS[op]
        return lambda row: compare(comparable(row.get(field), literal), literal)


def predicate(expression: str | None) -> Predicate:
    if not expression:
        return lambda row: True
    parser = _Parser(_tokens(expression))
    result = parser.expression()
    if parser.peek() is not None:
        raise BcError(400, "BadRequest", f"Unexpected '{parser.peek()}' in $filter")
    return result


def ordered(rows: list[Row], orderby: str | None) -> list[Row]:
    for clause in reversed([part.strip() for part in (orderby or "").split(",") if part.strip()]):
        field, _, direction = clause.partition(" ")
        rows = sorted(rows, key=lambda row: (row.get(field) is not None, row.get(field) or ""),
                      reverse=direction.strip().lower() == "desc")
    return rows


def _integer(value: str | None, name: str, default: int) -> int:
    if value is None:
        return default
    if not value.isdigit():
        raise BcError(400, "BadRequest", f"The value of {name} must be a non-negative integer")
    return int(value)


def page(rows: Sequence[Row], params: dict[str, str], page_size: int, self_url: str) -> dict[str, Any]:
    """`{"value": [...]}` with at most `page_size` rows, and `@odata.nextLink` when more remain
    (the link repeats the query with a `$skiptoken` and what is left of `$top`)."""
    skip = _integer(params.get("$skiptoken") or params.get("$skip"), "$skip", 0)
    top = _integer(params.get("$top"), "$top", len(rows))
    chunk = list(rows[skip:skip + min(top, page_size)])
    body: dict[str, Any] = {"value": chunk}
    if len(chunk) < top and skip + len(chunk) < len(rows):
        rest = {k: v for k, v in params.items() if k not in ("$skip", "$skiptoken", "$top")}
        rest["$skiptoken"] = str(skip + len(chunk))
        if "$top" in params:
            rest["$top"] = str(top - len(chunk))
        body["@odata.nextLink"] = f"{self_url}?{urlencode(rest)}"
    return body


def selected(row: Row, select: str | None) -> Row:
    if not select:
        return row
    keep = {name.strip() for name in select.split(",")} | {"@odata.etag"}
    return {key: value for key, value in row.items() if key in keep}
