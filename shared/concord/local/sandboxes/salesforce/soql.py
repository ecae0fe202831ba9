"""The SOQL subset a connector sends, tokenized and parsed into a small syntax tree:

    SELECT f1, Rel.Field, (SELECT ... FROM ChildRelationship [WHERE] [ORDER BY] [LIMIT])
    FROM Object [WHERE cond] [ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], ...] [LIMIT n]

Conditions: `=, !=, <>, <, >, <=, >=, [NOT] IN (...), LIKE`, combined with AND / OR / NOT and
parentheses; as in SOQL, AND and OR cannot be mixed at one level without parentheses.
Literals: 'strings' with backslash escapes, numbers, true/false/null, dates, datetimes.

https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select.htm
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from typing import Literal as TypingLiteral

from .errors import malformed_query
from .values import parse_date, parse_datetime

KEYWORDS = frozenset(
    {
        "SELECT",
        "FROM",
        "WHERE",
        "AND",
        "OR",
        "NOT",
        "IN",
        "LIKE",
        "ORDER",
        "BY",
        "ASC",
        "DESC",
        "NULLS",
        "FIRST",
        "LAST",
        "LIMIT",
        "TRUE",
        "FALSE",
        "NULL",
    }
)
OPERATORS = ("!=", "<>", "<=", ">=", "=", "<", ">")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?![\dT])")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_ESCAPES = {
    "'": "'",
    '"': '"',
    "\\": "\\",
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "b": "\b",
    "f": "\f",
    "%": "\\%",
    "_": "\\_",
}  # \% and \_ stay escaped for LIKE

TokenKind = TypingLiteral["name", "keyword", "string", "number", "date", "datetime", "op", "punct", "end"]


@dataclass(frozen=True)
class Token:
    kind: TokenKind
    text: str
    value: Any = None


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char.isspace():
            i += 1
        elif char == "'":
            text, i = _string_at(source, i)
            tokens.append(Token("string", text, text))
        elif char in "(),":
            tokens.append(Token("punct", char))
            i += 1
        elif op := next((o for o in OPERATORS if source.startswith(o, i)), None):
            tokens.append(Token("op", "!=" if op == "<>" else op))
            i += len(op)
        elif match := _DATETIME.match(source, i):
            moment = parse_datetime(match.group())
            if moment is None:
                raise malformed_query(f"invalid date/time: {match.group()}")
            tokens.append(Token("datetime", match.group(), moment))
            i = match.end()
        elif match := _DATE.match(source, i):
            if (day := parse_date(match.group())) is None:
                raise malformed_query(f"invalid date: {match.group()}")
            tokens.append(Token("date", match.group(), day))
            i = match.end()
        elif match := _NUMBER.match(source, i):
            text = match.group()
            tokens.append(Token("number", text, float(text) if "." in text else int(text)))
            i = match.end()
        elif match := _NAME.match(source, i):
            word = match.group()
            kind: TokenKind = "keyword" if word.upper() in KEYWORDS else "name"
            tokens.append(Token(kind, word.upper() if kind == "keyword" else word))
            i = match.end()
        else:
            raise malformed_query(f"unexpected token: '{char}'")
    tokens.append(Token("end", "<EOF>"))
    return tokens


def _string_at(source: str, start: int) -> tuple[str, int]:
    """The value of the quoted string opening at `start`, and the index after it."""
    chars: list[str] = []
    i = start + 1
    while i < len(source):
        char = source[i]
        if char == "\\":
            escaped = source[i + 1] if i + 1 < len(source) else ""
            if escaped not in _ESCAPES:
                raise malformed_query(f"Invalid string literal '\\{escaped}'. Illegal escape sequence")
            chars.append(_ESCAPES[escaped])
            i += 2
        elif char == "'":
            return "".join(chars), i + 1
        else:
            chars.append(char)
            i += 1
    raise malformed_query("unterminated string literal")


# --------------------------------------------------------------------------- syntax tree


@dataclass(frozen=True)
class Value:
    kind: TypingLiteral["string", "number", "boolean", "null", "date", "datetime"]
    value: Any


@dataclass(frozen=True)
class Compare:
    path: str
    op: str  # = != < > <= >=
    value: Value


@dataclass(frozen=True)
class InList:
    path: str
    values: tuple[Value, ...]
    negated: bool


@dataclass(frozen=True)
class Like:
    path: str
    pattern: str


@dataclass(frozen=True)
class Junction:
    op: TypingLiteral["AND", "OR"]
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class Negation:
    part: Condition


Condition = Compare | InList | Like | Junction | Negation


@dataclass(frozen=True)
class OrderKey:
    path: str
    descending: bool = False
    nulls_last: bool = False


@dataclass
class Query:
    sobject: str
    fields: list[str | Query]  # a field path, or a child-relationship subquery
    where: Condition | None = None
    order_by: list[OrderKey] = field(default_factory=list)
    limit: int | None = None


def parse(source: str) -> Query:
    parser = _Parser(tokenize(source))
    query = parser.query(nested=False)
    parser.expect("end")
    return query


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self._tokens = tokens
        self._at = 0

    def peek(self) -> Token:
        return self._tokens[self._at]

    def take(self) -> Token:
        token = self._tokens[self._at]
        self._at += 1
        return token

    def accept(self, kind: TokenKind, text: str | None = None) -> Token | None:
        token = self.peek()
        if token.kind == kind and (text is None or token.text == text):
            return self.take()
        return None

    def expect(self, kind: TokenKind, text: str | None = None) -> Token:
        token = self.accept(kind, text)
        if token is None:
            raise malformed_query(f"unexpected token: '{self.peek().text}'")
        return token

    def query(self, nested: bool) -> Query:
        self.expect("keyword", "SELECT")
        fields: list[str | Query] = [self.select_item(nested)]
        while self.accept("punct", ","):
            fields.append(self.select_item(nested))
        self.expect("keyword", "FROM")
        query = Query(self.expect("name").text, fields)
        if self.accept("keyword", "WHERE"):
            query.where = self.condition()
        if self.accept("keyword", "ORDER"):
            self.expect("keyword", "BY")
            query.order_by = [self.order_key()]
            while self.accept("punct", ","):
                query.order_by.append(self.order_key())
        if self.accept("keyword", "LIMIT"):
            limit = self.expect("number").value
            if not isinstance(limit, int) or limit < 0:
                raise malformed_query("LIMIT must be a non-negative integer")
            query.limit = limit
        return query

    def select_item(self, nested: bool) -> str | Query:
        if not nested and self.accept("punct", "("):
            subquery = self.query(nested=True)
            self.expect("punct", ")")
            return subquery
        return self.expect("name").text

    def order_key(self) -> OrderKey:
        path = self.expect("name").text
        descending = bool(self.accept("keyword", "DESC"))
        if not descending:
            self.accept("keyword", "ASC")
        nulls_last = descending  # SOQL's default: nulls first ascending, last descending
        if self.accept("keyword", "NULLS"):
            nulls_last = self.expect("keyword").text == "LAST"
        return OrderKey(path, descending, nulls_last)

    def condition(self) -> Condition:
        parts = [self.unary()]
        connective: str | None = None
        while (token := self.peek()).kind == "keyword" and token.text in ("AND", "OR"):
            if connective not in (None, token.text):
                raise malformed_query(f"unexpected token: '{token.text}' (use parentheses to mix AND and OR)")
            connective = self.take().text
            parts.append(self.unary())
        if connective is None:
            return parts[0]
        return Junction("AND" if connective == "AND" else "OR", tuple(parts))

    def unary(self) -> Condition:
        if self.accept("keyword", "NOT"):
            return Negation(self.unary())
        if self.accept("punct", "("):
            inner = self.condition()
            self.expect("punct", ")")
            return inner
        return self.predicate()

    def predicate(self) -> Condition:
        path = self.expect("name").text
        if op := self.accept("op"):
            return Compare(path, op.text, self.value())
        if self.accept("keyword", "LIKE"):
            return Like(path, self.expect("string").value)
        negated = bool(self.accept("keyword", "NOT"))
        self.expect("keyword", "IN")
        self.expect("punct", "(")
        values = [self.value()]
        while self.accept("punct", ","):
            values.append(self.value())
        self.expect("punct", ")")
        return InList(path, tuple(values), negated)

    def value(self) -> Value:
        token = self.take()
        if token.kind in ("string", "number", "date", "datetime"):
            return Value(token.kind, token.value)
        if token.kind == "keyword" and token.text in ("TRUE", "FALSE"):
            return Value("boolean", token.text == "TRUE")
        if token.kind == "keyword" and token.text == "NULL":
            return Value("null", None)
        raise malformed_query(f"unexpected token: '{token.text}'")
