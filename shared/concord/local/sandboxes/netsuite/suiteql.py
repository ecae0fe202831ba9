"""SuiteQL over the sandbox's records: each query runs in a fresh in-memory SQLite database
holding the analytics view of the records (lower-case columns, references as ids, checkboxes as
'T'/'F', stamps as 'YYYY-MM-DD HH:MM:SS'): customer, transaction, transactionline, item,
currency, term. TO_CHAR and TO_TIMESTAMP take the one format 'YYYY-MM-DD HH24:MI:SS'.

POST /services/rest/query/v1/suiteql?limit=&offset= {"q": ...} with `Prefer: transient`:
{"links", "count", "hasMore", "items": [{"links": [], ...}], "offset", "totalResults"}.
https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_157909186990.html
https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_158394344595.html
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from ..kit import Request, Response, Tenant
from .errors import NetSuiteError
from .views import analytics_tables

FORMAT = "YYYY-MM-DD HH24:MI:SS"
MAX_LIMIT = 1000
RESERVED = re.compile(r"\btransaction\b", re.IGNORECASE)  # a SuiteQL table, an SQLite keyword


def _to_char(value: Any, fmt: str) -> Any:
    if fmt != FORMAT:
        raise ValueError(f"unsupported format {fmt!r}")
    return value


def _to_timestamp(text: str, fmt: str) -> str:
    if fmt != FORMAT or not re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", text or ""):
        raise ValueError(f"invalid timestamp {text!r} for format {fmt!r}")
    return text


def _quoted_keywords(query: str) -> str:
    """`transaction` quoted outside string literals, so SQLite takes it as a name."""
    parts = re.split(r"('(?:[^']|'')*')", query)
    return "".join(part if part.startswith("'") else RESERVED.sub('"transaction"', part) for part in parts)


def run(tenant: Tenant, query: str) -> list[dict[str, Any]]:
    if not re.match(r"^\s*select\b", query, re.IGNORECASE):
        raise NetSuiteError(400, "INVALID_PARAMETER", "Invalid search query. Only SELECT queries are supported.")
    db = sqlite3.connect(":memory:")
    try:
        db.create_function("TO_CHAR", 2, _to_char)
        db.create_function("TO_TIMESTAMP", 2, _to_timestamp)
        for table, (columns, rows) in analytics_tables(tenant.store).items():
            definitions = ", ".join(f'"{column}" NUMERIC' for column in columns)
            db.execute(f'CREATE TABLE "{table}" ({definitions})')
            db.executemany(
                f'INSERT INTO "{table}" VALUES ({", ".join("?" for _ in columns)})',
                [[row.get(column) for column in columns] for row in rows],
            )
        cursor = db.execute(_quoted_keywords(query))
        names = [column[0].lower() for column in cursor.description]
        return [
            {name: (None if value is None else str(value)) for name, value in zip(names, row, strict=True)}
            for row in cursor.fetchall()
        ]
    except sqlite3.Error as exc:
        raise NetSuiteError(
            400, "INVALID_PARAMETER", f"Invalid search query. Detailed unprocessed description follows. {exc}"
        ) from None
    finally:
        db.close()


def suiteql(tenant: Tenant, request: Request) -> Response:
    if (request.header("Prefer") or "").lower() != "transient":
        raise NetSuiteError(400, "INVALID_HEADER", "The request must include the header Prefer: transient.")
    body = request.json()
    query = body.get("q") if isinstance(body, dict) else None
    if not isinstance(query, str):
        raise NetSuiteError(400, "INVALID_CONTENT", "The request body must hold the query in q.")
    try:
        limit, offset = int(request.param("limit") or MAX_LIMIT), int(request.param("offset") or 0)
    except ValueError:
        raise NetSuiteError(400, "INVALID_PARAMETER", "limit and offset must be integers.") from None
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise NetSuiteError(400, "INVALID_PARAMETER", f"limit must be 1 to {MAX_LIMIT}, offset at least 0.")
    rows = run(tenant, query)
    page = rows[offset : offset + limit]
    more = offset + limit < len(rows)
    url = f"{request.tenant_url}/services/rest/query/v1/suiteql"
    links = [{"rel": "self", "href": f"{url}?limit={limit}&offset={offset}"}]
    if more:
        links.insert(0, {"rel": "next", "href": f"{url}?limit={limit}&offset={offset + limit}"})
    return Response(
        200,
        {
            "links": links,
            "count": len(page),
            "hasMore": more,
            "items": [{"links": [], **row} for row in page],
            "offset": offset,
            "totalResults": len(rows),
        },
    )
