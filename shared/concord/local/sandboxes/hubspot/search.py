"""CRM search: filterGroups (OR) of filters (AND), sorts, properties, limit (≤ 200) and `after`
paging, with the 10,000-result ceiling.
https://developers.hubspot.com/docs/api-reference/2026-03/crm/search/guide
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import bad_request
from .records import property_value
from .schema import DATETIME, NUMBER

MAX_LIMIT = 200
MAX_RESULTS = 10_000
MAX_GROUPS = 5
MAX_FILTERS = 18  # across all groups


def matching(rows: list[dict[str, Any]], query: Mapping[str, Any]) -> list[dict[str, Any]]:
    groups = query.get("filterGroups") or []
    if len(groups) > MAX_GROUPS or sum(len(g.get("filters") or []) for g in groups) > MAX_FILTERS:
        raise bad_request(f"at most {MAX_GROUPS} filterGroups and {MAX_FILTERS} filters")
    selected = [row for row in rows if not groups or any(_all(row, g.get("filters") or []) for g in groups)]
    for sort in reversed(query.get("sorts") or [{"propertyName": "hs_object_id", "direction": "ASCENDING"}]):
        name = sort.get("propertyName", "")
        present = [row for row in selected if property_value(row, name) not in (None, "")]
        absent = [row for row in selected if property_value(row, name) in (None, "")]
        present.sort(
            key=lambda row: _comparable(name, property_value(row, name)), reverse=sort.get("direction") == "DESCENDING"
        )
        selected = present + absent
    return selected


def page_bounds(query: Mapping[str, Any]) -> tuple[int, int]:
    """(offset, limit) of the asked-for page."""
    limit = query.get("limit", 10)
    after = str(query.get("after") or "0")
    if not isinstance(limit, int) or not 0 < limit <= MAX_LIMIT:
        raise bad_request(f"limit must be between 1 and {MAX_LIMIT}")
    if not after.isdigit():
        raise bad_request("after must be a paging cursor this search returned")
    offset = int(after)
    if offset + limit > MAX_RESULTS:
        raise bad_request(f"the search API returns at most {MAX_RESULTS} results per query")
    return offset, limit


def _all(row: Mapping[str, Any], filters: list[Mapping[str, Any]]) -> bool:
    return all(_matches(row, f) for f in filters)


def _matches(row: Mapping[str, Any], spec: Mapping[str, Any]) -> bool:
    name, operator = spec.get("propertyName", ""), spec.get("operator", "EQ")
    actual = property_value(row, name)
    if operator == "HAS_PROPERTY":
        return actual not in (None, "")
    if operator == "NOT_HAS_PROPERTY":
        return actual in (None, "")
    if operator in ("IN", "NOT_IN"):
        values = {str(v).lower() for v in spec.get("values") or []}
        inside = actual is not None and str(actual).lower() in values
        return inside if operator == "IN" else not inside
    if actual in (None, ""):
        return bool(operator == "NEQ")
    left, right = _comparable(name, actual), _comparable(name, spec.get("value"))
    compare = {
        "EQ": left == right,
        "NEQ": left != right,
        "GT": left > right,
        "GTE": left >= right,
        "LT": left < right,
        "LTE": left <= right,
    }
    if operator not in compare:
        raise bad_request(f"operator {operator} is not supported")
    return bool(compare[operator])


def _comparable(name: str, value: Any) -> Any:
    text = str(value)
    if name in DATETIME:
        if text.isdigit():
            return dt.datetime.fromtimestamp(int(text) / 1000, tz=dt.UTC)
        try:
            return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise bad_request(f"{text} is not a valid datetime for {name}") from None
    if name in NUMBER:
        try:
            return Decimal(text)
        except InvalidOperation:
            raise bad_request(f"{text} is not a number for {name}") from None
    return text.lower()
