"""`--filter`: a small expression language over a canonical event (as a dict, valid or not).

    expr    := clause ( ("," | "and" | "&&" | whitespace) clause )*      all clauses must hold
    clause  := path op value
    path    := field ( "." field )*          a number indexes a list; any other field of a
                                             list applies to each element (any may match)
    op      := "=" (or "==") | "!=" | "~" | ">" | ">=" | "<" | "<="
    value   := bare | "double quoted" | 'single quoted'

    =  / !=   equal / not equal; a bare value may list alternatives with "|" and use the
              glob wildcards * and ?  (type=Account*|OpportunityClosedWon)
    ~         contains, case-insensitive (data.name~acme)
    > >= < <= numbers compare as numbers, ISO dates and times as moments, anything else as text

Values compare as text (`data.account_id=42` matches 42 and "42"), numbers numerically
(`data.amount.amount=120000` matches "120000.00"), booleans as true/false, null as null.
A field the event does not have equals nothing: `x=v` is false and `x!=v` is true, so
`x=*` means "x is present" and `x!=*` "x is missing".
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

OPERATORS = ("!=", ">=", "<=", "==", "=", "~", ">", "<")
_PATH_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")
_SEPARATOR_WORDS = ("and", "AND", "&&")
_DECIMAL = re.compile(r"[+-]?\d+(\.\d+)?")


class FilterSyntaxError(ValueError):
    """The expression cannot be read; the message says where and why."""


@dataclass(frozen=True)
class Clause:
    path: tuple[str, ...]
    op: str
    values: tuple[str, ...]  # alternatives (only "=" and "!=" may have several)
    quoted: bool

    def matches(self, event: Any) -> bool:
        candidates = list(resolve(event, self.path))
        if self.op == "=":
            return any(self._equals(c) for c in candidates)
        if self.op == "!=":
            return not any(self._equals(c) for c in candidates)
        if self.op == "~":
            needle = self.values[0].lower()
            return any(needle in text(c).lower() for c in candidates)
        return any(_ordered(c, self.values[0], self.op) for c in candidates)

    def _equals(self, candidate: Any) -> bool:
        for wanted in self.values:
            if not self.quoted and any(ch in wanted for ch in "*?["):
                if isinstance(candidate, (dict, list)):
                    continue
                if fnmatch.fnmatchcase(text(candidate), wanted):
                    return True
                continue
            if _equal(candidate, wanted):
                return True
        return False

    def __str__(self) -> str:
        return f"{'.'.join(self.path)}{self.op}{'|'.join(self.values)}"


@dataclass(frozen=True)
class EventFilter:
    clauses: tuple[Clause, ...]
    source: str = ""

    def matches(self, event: dict[str, Any] | None) -> bool:
        return all(clause.matches(event or {}) for clause in self.clauses)

    def __str__(self) -> str:
        return self.source or " and ".join(map(str, self.clauses))


MATCH_ALL = EventFilter(())


def text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _number(value: Any) -> Decimal | None:
    """Plain decimal notation only (so ids such as 1e5 or 0x1 stay text)."""
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, (int, float, Decimal)):
        return Decimal(str(value))
    if not _DECIMAL.fullmatch(str(value).strip()):
        return None
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        return None


def _moment(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _equal(candidate: Any, wanted: str) -> bool:
    if isinstance(candidate, (dict, list)):
        return False
    if text(candidate) == wanted:
        return True
    left, right = _number(candidate), _number(wanted)
    return left is not None and right is not None and left == right


def _ordered(candidate: Any, wanted: str, op: str) -> bool:
    if isinstance(candidate, (dict, list)) or candidate is None:
        return False
    left: Any
    right: Any
    if (left := _number(candidate)) is not None and (right := _number(wanted)) is not None:
        pass
    elif (left := _moment(candidate)) is not None and (right := _moment(wanted)) is not None:
        pass
    else:
        left, right = text(candidate), wanted
    return bool({">": left > right, ">=": left >= right, "<": left < right, "<=": left <= right}[op])


def resolve(value: Any, path: Iterable[str]) -> Iterable[Any]:
    """Every value at `path` (lists fan out); nothing when the path does not exist."""
    path = list(path)
    if not path:
        yield value
        return
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        if head in value:
            yield from resolve(value[head], rest)
    elif isinstance(value, list):
        if head.lstrip("-").isdigit():
            index = int(head)
            if -len(value) <= index < len(value):
                yield from resolve(value[index], rest)
        else:
            for element in value:
                yield from resolve(element, path)


# --------------------------------------------------------------------------- parser


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source
        self.pos = 0

    def error(self, message: str) -> FilterSyntaxError:
        pointer = f"\n  {self.source}\n  {' ' * self.pos}^"
        return FilterSyntaxError(f"{message} at position {self.pos + 1}{pointer}")

    def at_end(self) -> bool:
        return self.pos >= len(self.source)

    def peek(self, count: int = 1) -> str:
        return self.source[self.pos : self.pos + count]

    def skip_separators(self) -> bool:
        """Skip whitespace, commas and `and`; True when anything was skipped."""
        start = self.pos
        while not self.at_end():
            if self.peek() in " \t\n,":
                self.pos += 1
                continue
            word = next((w for w in _SEPARATOR_WORDS if self.source.startswith(w, self.pos)), None)
            end = self.pos + len(word) if word else 0
            if word and (end == len(self.source) or self.source[end] in " \t\n,"):
                self.pos = end
                continue
            break
        return self.pos > start

    def path(self) -> tuple[str, ...]:
        start = self.pos
        while not self.at_end() and self.peek() in _PATH_CHARS:
            self.pos += 1
        raw = self.source[start : self.pos]
        if not raw:
            raise self.error("expected a field name (e.g. type or data.account_id)")
        parts = tuple(raw.split("."))
        if any(not p for p in parts):
            self.pos = start
            raise self.error(f"empty field name in {raw!r}")
        return parts

    def operator(self) -> str:
        for op in OPERATORS:
            if self.source.startswith(op, self.pos):
                self.pos += len(op)
                return "=" if op == "==" else op
        raise self.error(f"expected an operator ({' '.join(OPERATORS)})")

    def value(self) -> tuple[str, bool]:
        quote = self.peek()
        if quote in ("'", '"'):
            self.pos += 1
            chars = []
            while True:
                if self.at_end():
                    raise self.error("unterminated quoted value")
                ch = self.peek()
                if ch == "\\" and self.pos + 1 < len(self.source):
                    chars.append(self.source[self.pos + 1])
                    self.pos += 2
                    continue
                self.pos += 1
                if ch == quote:
                    return "".join(chars), True
                chars.append(ch)
        if not self.at_end() and self.peek() in "=!<>~":
            raise self.error("expected a value (quote a value that starts with = ! < > or ~)")
        start = self.pos
        while not self.at_end() and self.peek() not in " \t\n,":
            self.pos += 1
        raw = self.source[start : self.pos]
        if not raw:
            raise self.error("expected a value (quote it to match an empty string)")
        return raw, False


def parse_filter(source: str | None) -> EventFilter:
    """Parse an expression (None or blank: match everything); raises FilterSyntaxError."""
    if source is None or not source.strip():
        return MATCH_ALL
    reader = _Reader(source)
    clauses = []
    reader.skip_separators()
    while not reader.at_end():
        path = reader.path()
        op = reader.operator()
        value, quoted = reader.value()
        values = (value,) if quoted or op not in ("=", "!=") else tuple(value.split("|"))
        if any(v == "" for v in values):
            raise reader.error("empty alternative in a | list")
        clauses.append(Clause(path, op, values, quoted))
        if not reader.skip_separators() and not reader.at_end():
            raise reader.error("expected a separator (space, comma or 'and') between clauses")
    if not clauses:
        raise reader.error("empty filter")
    return EventFilter(tuple(clauses), source)


def combine(sources: Iterable[str]) -> EventFilter:
    """Several --filter options: all must hold."""
    parsed = [parse_filter(s) for s in sources if s and s.strip()]
    if not parsed:
        return MATCH_ALL
    return EventFilter(tuple(c for f in parsed for c in f.clauses), " and ".join(f.source for f in parsed))
