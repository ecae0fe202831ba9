"""Kantata OX's answers: the envelope every request gets, page numbers, and errors.

    {"count": 2, "meta": {"count", "page_count", "page_number", "page_size"},
     "results": [{"key": "workspaces", "id": "10"}, ...],
     "workspaces": {"10": {...}, ...}, <side-loaded types>: {...}}

https://developer.kantata.com/kantata/specification/section/response-format
Errors: {"errors": [{"type": "oauth" | "system" | "validation", "message", "field"?}]}.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..kit import Request, Response

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 200

Row = dict[str, Any]


@dataclass
class KantataError(Exception):
    status: int
    type: str
    message: str
    field: str | None = None

    def response(self) -> Response:
        error: dict[str, str] = {"type": self.type, "message": self.message}
        if self.field:
            error["field"] = self.field
        return Response(self.status, {"errors": [error]})


def invalid(message: str, field: str | None = None) -> KantataError:
    return KantataError(422, "validation", message, field)


def not_found(what: str) -> KantataError:
    return KantataError(404, "system", f"{what} not found")


def bad_request(message: str) -> KantataError:
    return KantataError(400, "system", message)


def page_params(request: Request) -> tuple[int, int]:
    """(page, per_page): `per_page` above 200 is served as 200."""
    try:
        page = int(request.param("page") or 1)
        per_page = int(request.param("per_page") or DEFAULT_PER_PAGE)
    except ValueError:
        raise bad_request("page and per_page must be integers") from None
    if page < 1 or per_page < 1:
        raise bad_request("page and per_page must be positive")
    return page, min(per_page, MAX_PER_PAGE)


def listing(
    request: Request, key: str, rows: Sequence[Row], included: Mapping[str, Sequence[Row]] | None = None
) -> Response:
    """One page of `rows` (already filtered and ordered), with relations for that page."""
    page, per_page = page_params(request)
    chunk = list(rows[(page - 1) * per_page : page * per_page])
    return Response(200, envelope(key, chunk, included, total=len(rows), page=page, per_page=per_page))


def single(key: str, row: Row, included: Mapping[str, Sequence[Row]] | None = None) -> Response:
    return Response(200, envelope(key, [row], included))


def envelope(
    key: str,
    rows: Sequence[Row],
    included: Mapping[str, Sequence[Row]] | None = None,
    *,
    total: int | None = None,
    page: int = 1,
    per_page: int = DEFAULT_PER_PAGE,
) -> dict[str, Any]:
    count = len(rows) if total is None else total
    body: dict[str, Any] = {
        "count": count,
        "meta": {
            "count": count,
            "page_count": max(1, math.ceil(count / per_page)),
            "page_number": page,
            "page_size": per_page,
        },
        "results": [{"key": key, "id": row["id"]} for row in rows],
        key: {row["id"]: row for row in rows},
    }
    for other, related in (included or {}).items():
        body.setdefault(other, {}).update({row["id"]: row for row in related})
    return body


def ids_param(request: Request, name: str) -> set[str] | None:
    """A comma-separated id filter (None when absent)."""
    value = request.param(name)
    return None if value is None else {part.strip() for part in value.split(",") if part.strip()}


def includes(request: Request) -> set[str]:
    return ids_param(request, "include") or set()


def body_of(request: Request, key: str) -> Row:
    body = request.json()
    fields = body.get(key) if isinstance(body, dict) else None
    if not isinstance(fields, dict):
        raise bad_request(f"the request body must hold a {key!r} object")
    return fields
