"""Business Central API v2.0 transport: errors, OData lists, ETags and JSON `$batch`.

- Errors: `{"error": {"code", "message"}}`; 429 (Retry-After) is a throttle, 412 a stale ETag.
  https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/developer/devenv-webservices-error-codes
- Lists: `{"value": [...], "@odata.nextLink"?}`; the next link is followed as given.
- Updates: `If-Match: <@odata.etag of the record read>` on every PATCH.
- `$batch`: up to 100 operations in one JSON request; `Isolation: snapshot` makes it one
  transaction. https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/webservices/use-odata-batch
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from concord.errors import ConcordError, PermanentError, ValidationFailed

from ..kit.budget import RateBudget
from ..kit.errors import ErrorMapper
from ..kit.http import VendorClient
from ..kit.paging import Page, follow

BATCH_LIMIT = 100
ETAG = "@odata.etag"
NEXT_LINK = "@odata.nextLink"

Record = dict[str, Any]


class BusinessCentralErrors(ErrorMapper):
    def __init__(self) -> None:
        super().__init__("business_central")

    def vendor_detail(self, response: httpx.Response) -> str:
        try:
            error = response.json().get("error")
        except (ValueError, AttributeError):
            return ""
        if isinstance(error, dict):
            return f"{error.get('code', '')}: {error.get('message', '')}"
        return super().vendor_detail(response)


@dataclass(frozen=True)
class BatchRequest:
    """One operation of a `$batch`: `url` relative to the API root (companies(...)/...)."""

    method: str
    url: str
    body: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BatchAnswer:
    status: int
    body: Any
    headers: Mapping[str, str]

    def error(self, errors: ErrorMapper, operation: str) -> ConcordError | None:
        """What this operation's answer means, mapped as a whole request's would be."""
        response = httpx.Response(self.status, json=self.body, headers=dict(self.headers))
        return errors.error_for_response(operation, response)


class BusinessCentralClient:
    """Calls of one company through the kit's VendorClient (budget, errors, telemetry)."""

    def __init__(self, *, base_url: str, company_id: str, auth: httpx.Auth, budget: RateBudget, account: str = "",
                 max_wait: float | Callable[[], float] = 0.0, transport: httpx.BaseTransport | None = None) -> None:
        self.errors = BusinessCentralErrors()
        self.company = f"companies({company_id})"
        self.vendor = VendorClient(base_url=base_url, errors=self.errors, budget=budget, auth=auth,
                                   account=account, max_wait=max_wait, transport=transport)

    def path(self, entity_path: str) -> str:
        """A company's entity path: `customers(…)` -> `companies(<id>)/customers(…)`."""
        return f"{self.company}/{entity_path}"

    def get(self, operation: str, entity_path: str, params: Mapping[str, Any] | None = None) -> Record:
        return dict(self.vendor.json(operation, "GET", self.path(entity_path), params=dict(params or {})))

    def listed(self, operation: str, entity_path: str, params: Mapping[str, Any] | None = None) -> Iterator[Record]:
        """Every record of a list, following `@odata.nextLink` (an absolute URL with its query)."""

        def fetch(next_link: str | None) -> Page[Record, str]:
            if next_link is None:
                body = self.vendor.json(operation, "GET", self.path(entity_path), params=dict(params or {}))
            else:
                body = self.vendor.json(operation, "GET", next_link)
            return Page(list(body.get("value", [])), body.get(NEXT_LINK))

        return follow(fetch)

    def first_page(self, operation: str, entity_path: str, params: Mapping[str, Any]) -> list[Record]:
        """The first page only (the caller bounds it with $top)."""
        body = self.vendor.json(operation, "GET", self.path(entity_path), params=dict(params))
        return list(body.get("value", []))

    def post(self, operation: str, entity_path: str, body: Mapping[str, Any] | None = None) -> Record | None:
        # The created record, or None for an empty answer.
        created: Record | None = self.vendor.json(
            operation, "POST", self.path(entity_path), json=dict(body) if body is not None else None
        )
        return created

    def patch(self, operation: str, entity_path: str, etag: str, body: Mapping[str, Any]) -> Record:
        """An update guarded by the record's ETag: a stale one is a Conflict (412)."""
        return dict(self.vendor.json(operation, "PATCH", self.path(entity_path), json=dict(body),
                                     headers={"If-Match": etag}))

    def batch(self, operation: str, requests: Sequence[BatchRequest], *, atomic: bool) -> list[BatchAnswer]:
        """One `$batch` of up to BATCH_LIMIT operations; `atomic` runs them in one transaction."""
        if len(requests) > BATCH_LIMIT:
            raise ValidationFailed(f"business central {operation}: {len(requests)} operations; at most {BATCH_LIMIT}")
        if not requests:
            return []
        body = {"requests": [_batch_item(str(n), request) for n, request in enumerate(requests, 1)]}
        headers = {"Accept": "application/json", **({"Isolation": "snapshot"} if atomic else {})}
        # https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/webservices/use-odata-batch
        answer = self.vendor.json(operation, "POST", "$batch", json=body, headers=headers)
        by_id = {str(item.get("id")): item for item in (answer or {}).get("responses", [])}
        missing = [str(n) for n in range(1, len(requests) + 1) if str(n) not in by_id]
        if missing:
            raise PermanentError(f"business central {operation}: the batch answered no response for {missing[:5]}")
        return [BatchAnswer(int(by_id[str(n)]["status"]), by_id[str(n)].get("body"),
                            dict(by_id[str(n)].get("headers") or {})) for n in range(1, len(requests) + 1)]

    def close(self) -> None:
        self.vendor.close()


def _batch_item(request_id: str, request: BatchRequest) -> dict[str, Any]:
    item: dict[str, Any] = {"id": request_id, "method": request.method, "url": request.url}
    headers = dict(request.headers)
    if request.body is not None:
        headers.setdefault("Content-Type", "application/json")
        item["body"] = dict(request.body)
    if headers:
        item["headers"] = headers
    return item


def odata_string(value: str) -> str:
    """A string literal for $filter: single quotes doubled (OData ABNF)."""
    return "'" + value.replace("'", "''") + "'"
