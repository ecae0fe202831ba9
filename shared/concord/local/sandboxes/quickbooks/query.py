"""The QuickBooks Online query language, the subset Concord and the scenarios use:

    SELECT * FROM <Entity> [WHERE <cond> [AND <cond>]...] [ORDERBY <field> [ASC|DESC]]
        [STARTPOSITION n] [MAXRESULTS m]

with <cond> = <field> (= | < | > | <= | >= | LIKE) <value> | <field> IN (<value>, ...), fields
dotted (MetaData.LastUpdatedTime, CustomerRef), values 'quoted' (\\' escapes a quote), true,
false or numbers. Customer and Item queries return active records only unless they filter on
Active. MAXRESULTS is at most 1,000.
https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/data-queries
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass, field
from typing import Any

MAX_RESULTS = 1000
_TOKEN = re.compile(r"\s*('(?:\\'|[^'])*'|\(|\)|,|<=|>=|=|<|>|\*|[A-Za-z_][\w.]*|-?\d+(?:\.\d+)?)")
_COMPARE = {"=": operator.eq, "<": operator.lt, ">": operator.gt, "<=": operator.le, ">=": operator.ge}
ACTIVE_BY_DEFAULT = frozenset({"Customer", "Item", "Term"})


class QueryError(ValueError):
    """The query does not parse (QuickBooks answers 400 with code 4000)."""


@dataclass
class Condition:
    path: str
    operator: str
    values: list[Any]


@dataclass
class Query:
    entity: str
    conditions: list[Condition] = field(default_factory=list)
    order_by: str | None = None
    descending: bool = False
    start: int = 1
    max_results: int = 100


def _tokens(text: str) -> list[str]:
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise QueryError(f"Error parsing query at position {position}")
        tokens.append(match.group(1))
        position = match.end()
    return tokens


def _value(token: str) -> Any:
    if token.startswith("'"):
        return token[1:-1].replace("\\'", "'")
    if token.lower() in ("true", "false"):
        return token.lower() == "true"
    try:
        return float(token) if "." in token else int(token)
    except ValueError:
        raise QueryError(f"Error parsing query: unexpected {token!r}") from None


def parse(text: str) -> Query:
    tokens = _tokens(text)
    upper = [t.upper() for t in tokens]
    if upper[:3] != ["SELECT", "*", "FROM"] or len(tokens) < 4:
        raise QueryError("Error parsing query: expected SELECT * FROM <entity>")
    query, index = Query(tokens[3]), 4
    if index < len(tokens) and upper[index] == "WHERE":
        index += 1
        while True:
            path, operator = tokens[index], upper[index + 1]
            if operator == "IN":
                end = upper.index(")", index)
                values = [_value(t) for t in tokens[index + 3 : end] if t != ","]
                index = end + 1
            elif operator in ("=", "<", ">", "<=", ">=", "LIKE"):
                values, index = [_value(tokens[index + 2])], index + 3
            else:
                raise QueryError(f"Error parsing query: operator {tokens[index + 1]!r}")
            query.conditions.append(Condition(path, operator, values))
            if index < len(tokens) and upper[index] == "AND":
                index += 1
                continue
            break
    while index < len(tokens):
        keyword = upper[index]
        if keyword == "ORDERBY":
            query.order_by = tokens[index + 1]
            index += 2
            if index < len(tokens) and upper[index] in ("ASC", "DESC"):
                query.descending = upper[index] == "DESC"
                index += 1
        elif keyword in ("STARTPOSITION", "MAXRESULTS"):
            number = int(tokens[index + 1])
            if keyword == "STARTPOSITION":
                query.start = max(1, number)
            else:
                query.max_results = min(number, MAX_RESULTS)
            index += 2
        else:
            raise QueryError(f"Error parsing query: unexpected {tokens[index]!r}")
    return query


def field_value(record: dict[str, Any], path: str) -> Any:
    """A dotted field; a reference (CustomerRef) compares by its value."""
    value: Any = record
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, dict) and "value" in value:
        return value["value"]
    return value


def _matches(record: dict[str, Any], condition: Condition) -> bool:
    actual = field_value(record, condition.path)
    wanted = condition.values
    if condition.operator == "IN":
        return actual in wanted
    if actual is None:
        return False
    if condition.operator == "LIKE":
        pattern = "^" + ".*".join(re.escape(part) for part in str(wanted[0]).split("%")) + "$"
        return re.match(pattern, str(actual), re.IGNORECASE) is not None
    if isinstance(actual, str) and not isinstance(wanted[0], str):
        wanted = [str(wanted[0]).lower() if isinstance(wanted[0], bool) else str(wanted[0])]
    return bool(_COMPARE[condition.operator](actual, wanted[0]))


def _sort_key(value: Any) -> tuple[int, str]:
    """Numbers (and numeric ids) by value, the rest as text; no value last."""
    if value is None:
        return (2, "")
    text = str(value)
    return (0, text.rjust(20, "0")) if text.isdigit() else (1, text)


def run(query: Query, rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """The page of `rows` the query selects, and how many matched in all."""
    conditions = list(query.conditions)
    if query.entity in ACTIVE_BY_DEFAULT and not any(c.path == "Active" for c in conditions):
        conditions.append(Condition("Active", "=", [True]))
    matched = [row for row in rows if all(_matches(row, c) for c in conditions)]
    if query.order_by:
        matched.sort(key=lambda row: _sort_key(field_value(row, query.order_by or "")), reverse=query.descending)
    start = query.start - 1
    return matched[start : start + query.max_results], len(matched)
