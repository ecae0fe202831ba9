"""Kantata OX REST transport: bearer token, error mapping, the response envelope, page numbers.

Every answer is one envelope (https://developer.kantata.com/kantata/specification/section/response-format):
`results` lists the matches in order as {"key", "id"}, and each type's records sit in a
top-level map by id (`workspaces`, `time_entries`, ...), side-loaded relations (`include=`)
beside them. Lists page by `page` and `per_page` (at most 200), with totals in `meta`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from concord.errors import PermanentError

from ..kit.budget import RateBudget
from ..kit.errors import ErrorMapper
from ..kit.http import VendorClient
from ..kit.paging import numbered_pages

API_BASE = "https://api.mavenlink.com/api/v1"
MAX_PER_PAGE = 200

Record = dict[str, Any]


@dataclass(frozen=True)
class Envelope:
    """One answer: the records `results` names, in order, and every record by type and id."""

    results: list[tuple[str, str]]
    records: Mapping[str, Mapping[str, Record]] = field(default_factory=dict)
    count: int = 0

    @classmethod
    def of(cls, body: Any) -> Envelope:
        body = body if isinstance(body, dict) else {}
        results = [(str(ref["key"]), str(ref["id"])) for ref in body.get("results", [])]
        records = {key: value for key, value in body.items() if isinstance(value, dict) and key != "meta"}
        return cls(results, records, int(body.get("count") or 0))

    def matches(self) -> list[Record]:
        """The records `results` names, in its order (not their side-loaded relations)."""
        return [
            dict(self.records[key][record_id])
            for key, record_id in self.results
            if record_id in self.records.get(key, {})
        ]

    def related(self, key: str, record_id: str) -> Record | None:
        """A side-loaded record (e.g. a submission's time entry under `time_entries`)."""
        record = self.records.get(key, {}).get(record_id)
        return dict(record) if record is not None else None


class KantataErrors(ErrorMapper):
    """Kantata's error body is {"errors": [{"type": "oauth"|"system"|"validation", "message",
    "field"?}]}; 429 comes without Retry-After or rate headers (the kit maps it to Throttled).
    https://developer.kantata.com/kantata/specification (sections Errors and Rate Limits)"""

    def __init__(self) -> None:
        super().__init__("kantata")

    def vendor_detail(self, response: httpx.Response) -> str:
        try:
            errors = response.json().get("errors")
        except (ValueError, AttributeError):
            return ""
        if not isinstance(errors, list):
            return super().vendor_detail(response)
        parts = []
        for error in errors:
            if isinstance(error, dict):
                where = f" ({error['field']})" if error.get("field") else ""
                parts.append(f"{error.get('type', '')}: {error.get('message', '')}{where}")
        return "; ".join(parts)


class KantataClient:
    """Calls of one Kantata account through the kit's VendorClient (budget, errors, telemetry)."""

    def __init__(
        self,
        *,
        base_url: str,
        auth: httpx.Auth,
        budget: RateBudget,
        account: str = "",
        max_wait: float | Callable[[], float] = 0.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.vendor = VendorClient(
            base_url=base_url.rstrip("/") + "/",
            errors=KantataErrors(),
            budget=budget,
            auth=auth,
            account=account,
            max_wait=max_wait,
            transport=transport,
        )

    def get(self, operation: str, path: str, params: Mapping[str, Any] | None = None) -> Envelope:
        return Envelope.of(self.vendor.json(operation, "GET", path, params=dict(params or {})))

    def listed(
        self, operation: str, path: str, params: Mapping[str, Any] | None = None
    ) -> Iterator[tuple[Record, Envelope]]:
        """Every match of a list, in order, with the page it came on (for its side-loaded
        relations); MAX_PER_PAGE records a page, a short page is the last."""

        def page(number: int) -> list[tuple[Record, Envelope]]:
            envelope = self.get(operation, path, {**(params or {}), "page": number, "per_page": MAX_PER_PAGE})
            return [(record, envelope) for record in envelope.matches()]

        return numbered_pages(page, per_page=MAX_PER_PAGE)

    def all(self, operation: str, path: str, params: Mapping[str, Any] | None = None) -> list[Record]:
        """The matches of every page, in order."""
        return [record for record, _ in self.listed(operation, path, params)]

    def post(self, operation: str, path: str, body: Mapping[str, Any]) -> Envelope:
        return Envelope.of(self.vendor.json(operation, "POST", path, json=dict(body)))

    def put(self, operation: str, path: str, body: Mapping[str, Any] | None = None) -> Envelope:
        return Envelope.of(self.vendor.json(operation, "PUT", path, json=dict(body or {})))

    def close(self) -> None:
        self.vendor.close()


def first(envelope: Envelope, what: str) -> Record:
    """The one record a create or update answered with."""
    matches = envelope.matches()
    if not matches:
        raise PermanentError(f"kantata {what}: the answer names no record")
    return matches[0]
