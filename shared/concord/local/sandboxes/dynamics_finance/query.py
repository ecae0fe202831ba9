"""OData query options over a list of rows: `$filter` (eq ne gt ge lt le, and, or, not,
parentheses; string, number, boolean, null and DateTimeOffset literals), `$orderby`, `$top`,
`$skip`, `$select`. Written from the OData v4.01 URL conventions, independently of any client.
https://docs.oasis-open.org/odata/odata/v4.01/odata-v4.01-part2-url-conventions.html
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .errors import bad_request

Row = dict[str, Any]
Predicate = Callable[[Row], bool]
_TOKEN = re.compile(r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<open>\()|(?P<close>\))|(?P<word>[^\s()']+))")
_COMPARE = {"eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "gt": lambda a, b: a > b,
            "ge": lambda a, b: a >= b, "lt": lambda a, b: a < b, "le": lambda a, b: a <= b}
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def tokens(text: str) -> list[str]:
    found, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            if text[position:].strip():
                raise bad_request(f"The query specified in the URI is not valid. Syntax error at position {position}.")
            break
        found.append(match.group(match.lastgroup or "word"))
        position = match.end()
    return found


def literal(token: str) -> Any:
    if token.startswith("'"):
        return token[1:-1].replace("''", "'")
    if token in ("true", "false"):
        return token == "true"
    if token == "null":
        return None
    if _DATETIME.match(token):
        return token[:19] + "Z"
    try:
        return float(token)
    except ValueError:
        raise bad_request(f"The query specified in the URI is not valid. Unknown literal '{token}'.") from None


def _comparable(value: Any, other: Any) -> Any:
    if isinstance(other, float) and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and isinstance(other, str) and _DATETIME.match(other):
        return value[:19] + "Z"
    return value


def _either(first: Predicate, second: Predicate) -> Predicate:
    return lambda row: first(row) or second(row)


def _both(first: Predicate, second: Predicate) -> Predicate:
    return lambda row: first(row) and second(row)


class _Parser:
    def __init__(self, items: list[str], fields: set[str]) -> None:
        self.items, self.at, self.fields = items, 0, fields

    def peek(self) -> str | None:
        return self.items[self.at] if self.at < len(self.items) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise bad_request("The query specified in the URI is not valid. Unexpected end of expression.")
        self.at += 1
        return token

    def expression(self) -> Predicate:
        left = self.conjunction()
        while self.peek() == "or":
            self.take()
            left = _either(left, self.conjunction())
        return left

    def conjunction(self) -> Predicate:
        left = self.unary()
        while self.peek() == "and":
            self.take()
            left = _both(left, self.unary())
        return left

    def unary(self) -> Predicate:
        if self.peek() == "not":
            self.take()
            inner = self.unary()
            return lambda row: not inner(row)
        if self.peek() == "(":
            self.take()
            inner = self.expression()
            if self.take() != ")":
                raise bad_request("The query specified in the URI is not valid. ')' expected.")
            return inner
        return self.comparison()

    def comparison(self) -> Predicate:
        field, operator, value = self.take(), self.take(), literal(self.take())
        if field not in self.fields:
            raise bad_request(f"Could not find a property named '{field}' on type 'Microsoft.Dynamics.DataEntities'.")
        if operator not in _COMPARE:
            raise bad_request(f"The query specified in the URI is not valid. Unknown operator '{operator}'.")
        compare = _COMPARE[operator]

        def test(row: Row) -> bool:
            actual = _comparable(row.get(field), value)
            if actual is None or value is None:
                return compare(actual, value) if operator in ("eq", "ne") else False
            try:
                return bool(compare(actual, value))
            except TypeError:
                return False
        return test


def where(text: str | None, fields: set[str]) -> Predicate:
    if not text:
        return lambda row: True
    parser = _Parser(tokens(text), fields)
    predicate = parser.expression()
    if parser.peek() is not None:
        raise bad_request(f"The query specified in the URI is not valid. Unexpected '{parser.peek()}'.")
    return predicate


def ordered(rows: list[Row], orderby: str | None, fields: set[str]) -> list[Row]:
    for clause in reversed([c.strip() for c in (orderby or "").split(",") if c.strip()]):
        name, _, direction = clause.partition(" ")
        if name not in fields:
            raise bad_request(f"Could not find a property named '{name}' on type 'Microsoft.Dynamics.DataEntities'.")
        rows = sorted(rows, key=lambda row: (row.get(name) is None, row.get(name) if row.get(name) is not None else 0),
                      reverse=direction.strip().lower() == "desc")
    return rows


def whole_number(value: str | None, option: str) -> int | None:
    if value is None:
        return None
    if not value.isdigit():
        raise bad_request(f"Invalid value '{value}' for {option} query option found.")
    return int(value)
