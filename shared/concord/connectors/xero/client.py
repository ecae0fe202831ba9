"""Xero Accounting API transport: the tenant header, Idempotency-Key, arrays with per-item
errors, and Xero's error shapes.

- Every call names the organisation in `xero-tenant-id`.
  https://developer.xero.com/documentation/guides/oauth2/auth-flow/
- Every POST/PUT carries an `Idempotency-Key` (128 characters at most) derived from Concord's
  reference and the content, so a retry sends the same key and Xero answers it once.
  https://developer.xero.com/documentation/guides/idempotent-requests/idempotency/
- Writes send arrays (up to BATCH_LIMIT elements) with `summarizeErrors=false`: Xero answers
  200 with each element's own `ValidationErrors`, so one bad element fails alone.
  https://developer.xero.com/documentation/api/accounting/overview/ (Summarize errors)
- Errors: 400 `{"ErrorNumber", "Type": "ValidationException", "Message", "Elements": [...]}`;
  429 with `Retry-After` and `X-Rate-Limit-Problem` (minute, day, concurrent) is a throttle.
  https://developer.xero.com/documentation/api/accounting/responsecodes/
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from concord.errors import ConcordError, ValidationFailed

from ..kit.budget import RateBudget
from ..kit.errors import ErrorMapper
from ..kit.http import VendorClient

BATCH_LIMIT = 50
TENANT_HEADER = "xero-tenant-id"
IDEMPOTENCY_HEADER = "Idempotency-Key"
PAGE_SIZE = 100  # what Xero answers per `page` of a list

Record = dict[str, Any]


class XeroErrors(ErrorMapper):
    def __init__(self) -> None:
        super().__init__("xero")

    def vendor_detail(self, response: httpx.Response) -> str:
        problem = response.headers.get("X-Rate-Limit-Problem")
        if problem:
            return f"rate limit: {problem}"
        try:
            body = response.json()
        except ValueError:
            return ""
        if not isinstance(body, dict):
            return ""
        if "Elements" in body or "Message" in body:
            messages = [str(body.get("Message") or ""), *element_messages(body.get("Elements") or [])]
            return f"{body.get('Type') or ''}: {'; '.join(m for m in messages if m)}"
        return ": ".join(str(body[key]) for key in ("Title", "Detail") if body.get(key))


def element_messages(elements: Sequence[Any]) -> list[str]:
    """The ValidationErrors messages of each element of an answer."""
    return [
        str(error.get("Message", ""))
        for element in elements
        if isinstance(element, dict)
        for error in element.get("ValidationErrors") or []
        if isinstance(error, dict)
    ]


def item_error(collection: str, item: Mapping[str, Any]) -> ValidationFailed | None:
    """The element's own validation failure in a `summarizeErrors=false` answer, if any."""
    failed = item.get("HasErrors") or item.get("HasValidationErrors") or item.get("StatusAttributeString") == "ERROR"
    if not failed:
        return None
    messages = "; ".join(element_messages([item])) or "refused"
    return ValidationFailed(f"xero {collection}: {messages}"[:500])


def idempotency_key(method: str, path: str, reference: str, body: Any) -> str:
    """The same for the same Concord reference and content: a retry is answered, not re-applied."""
    content = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    digest = hashlib.sha256(f"{method} {path}\n{reference}\n{content}".encode()).hexdigest()
    return f"concord-{digest}"


class XeroClient:
    """Calls of one organisation through the kit's VendorClient (budget, errors, telemetry)."""

    def __init__(
        self,
        *,
        base_url: str,
        tenant_id: str,
        auth: httpx.Auth,
        budget: RateBudget,
        max_wait: float | Callable[[], float] = 0.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.errors = XeroErrors()
        self.tenant_id = tenant_id
        self.vendor = VendorClient(
            base_url=base_url.rstrip("/") + "/",
            errors=self.errors,
            budget=budget,
            auth=auth,
            account=tenant_id,
            max_wait=max_wait,
            transport=transport,
        )
        self.vendor.http.headers.update({TENANT_HEADER: tenant_id, "Accept": "application/json"})

    def get(
        self, operation: str, path: str, params: Mapping[str, Any] | None = None, modified_since: str | None = None
    ) -> Record:
        headers = {"If-Modified-Since": modified_since} if modified_since else None
        return dict(self.vendor.json(operation, "GET", path, params=dict(params or {}), headers=headers) or {})

    def save_each(
        self,
        operation: str,
        method: str,
        path: str,
        collection: str,
        items: Sequence[Record],
        reference: str,
        *,
        per_item: bool = True,
    ) -> list[Record | ConcordError]:
        """PUT (create) or POST (update or create) up to BATCH_LIMIT elements in one call; each
        element's answer, or its own validation failure, in the order sent. `per_item` asks for
        `summarizeErrors=false` (collection endpoints only: a record's own path answers 400)."""
        if len(items) > BATCH_LIMIT:
            raise ValidationFailed(f"xero {operation}: {len(items)} elements; at most {BATCH_LIMIT} per call")
        body = {collection: list(items)}
        headers = {IDEMPOTENCY_HEADER: idempotency_key(method, path, reference, body)}
        params = {"summarizeErrors": "false"} if per_item else None
        answer = self.vendor.json(operation, method, path, params=params, json=body, headers=headers)
        saved = list((answer or {}).get(collection) or [])
        if len(saved) != len(items):
            raise ValidationFailed(f"xero {operation}: {len(saved)} elements answered for {len(items)} sent")
        return [item_error(collection, item) or dict(item) for item in saved]

    def save_one(self, operation: str, method: str, path: str, collection: str, item: Record, reference: str) -> Record:
        """One element saved, or its validation failure raised; a record's own path
        (`Contacts/<id>`) takes no summarizeErrors."""
        per_item = "/" not in path
        (saved,) = self.save_each(operation, method, path, collection, [item], reference, per_item=per_item)
        if isinstance(saved, ConcordError):
            raise saved
        return saved

    def close(self) -> None:
        self.vendor.close()
