"""QuickBooks Online Accounting API v3 transport: Faults, reads, queries, writes with
`requestid` and SyncToken, `/batch` and `/cdc`, every call with `minorversion`.

- Errors: {"Fault": {"Error": [{"Message", "Detail", "code"}], "type"}}; 5010 is a stale SyncToken,
  429 a throttle (transient). https://developer.intuit.com/app/developer/qbo/docs/develop/troubleshooting/error-codes
- `requestid` on a write: the same id sent again returns the first answer, so a retried write is
  not done twice. It is derived from Concord's operation (uuid5), never random.
  https://developer.intuit.com/app/developer/qbo/docs/learn/rest-api-features
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from concord.errors import ConcordError, ValidationFailed

from ..kit.budget import RateBudget
from ..kit.errors import Conflict, ErrorMapper, NotFound
from ..kit.http import VendorClient

BATCH_LIMIT = 30
PAGE_SIZE = 1000
_REQUEST_IDS = uuid.UUID("6f1b6c3e-2f7a-4d0e-9a55-0c0c0ad0b001")

Record = dict[str, Any]


class StaleSyncToken(Conflict):
    """Intuit error 5010: the record changed since it was read."""


def _fault_errors(body: Any) -> list[dict[str, Any]]:
    fault = body.get("Fault") if isinstance(body, dict) else None
    errors = fault.get("Error") if isinstance(fault, dict) else None
    return [e for e in errors or [] if isinstance(e, dict)]


class QuickBooksErrors(ErrorMapper):
    def __init__(self) -> None:
        super().__init__("quickbooks")

    def vendor_error(self, operation: str, response: httpx.Response) -> ConcordError | None:
        try:
            errors = _fault_errors(response.json())
        except ValueError:
            return None
        return self.fault_error(operation, response.status_code, errors) if errors else None

    def fault_error(self, operation: str, status: int, errors: list[dict[str, Any]]) -> ConcordError | None:
        """A Fault's meaning: None leaves it to the HTTP status."""
        code = str(errors[0].get("code", ""))
        text = f"quickbooks {operation}: {code} {errors[0].get('Message', '')}: {errors[0].get('Detail', '')}"[:400]
        if code == "5010":
            return StaleSyncToken(text)
        if code == "6240":
            return Conflict(text)
        if code == "610":
            return NotFound(text)
        if status == 400:
            return ValidationFailed(text)
        return None

    def vendor_detail(self, response: httpx.Response) -> str:
        try:
            errors = _fault_errors(response.json())
        except ValueError:
            return ""
        return (
            f"{errors[0].get('code', '')}: {errors[0].get('Message', '')}"
            if errors
            else super().vendor_detail(response)
        )


def request_id(realm_id: str, operation_key: str) -> str:
    """The requestid of one Concord operation on one realm: the same for every retry of it."""
    return str(uuid.uuid5(_REQUEST_IDS, f"{realm_id}:{operation_key}"))


def quoted(value: str) -> str:
    """A string literal of the query language (a quote escaped with a backslash)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class QuickBooksClient:
    def __init__(
        self,
        *,
        base_url: str,
        realm_id: str,
        minor_version: int,
        auth: httpx.Auth,
        budget: RateBudget,
        max_wait: float | Callable[[], float] = 0.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.errors = QuickBooksErrors()
        self.realm_id = realm_id
        self._minor = str(minor_version)
        self.vendor = VendorClient(
            base_url=base_url,
            errors=self.errors,
            budget=budget,
            auth=auth,
            account=realm_id,
            max_wait=max_wait,
            transport=transport,
        )

    def _call(
        self, operation: str, method: str, path: str, params: Mapping[str, str] | None = None, body: Any = None
    ) -> Any:
        query = {**(params or {}), "minorversion": self._minor}
        headers = {"Accept": "application/json"}
        return self.vendor.json(operation, method, path, params=query, json=body, headers=headers)

    # https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/invoice (read an invoice)
    def read(self, entity: str, record_id: str) -> Record:
        return dict(self._call(f"read {entity}", "GET", f"{entity.lower()}/{record_id}")[entity])

    # https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/data-queries
    def query(self, operation: str, entity: str, where: str = "", *, order_by: str = "Id") -> list[Record]:
        """Every row of `select * from <entity> [where ...]`, in pages of 1,000."""
        rows: list[Record] = []
        start = 1
        while True:
            text = f"select * from {entity}{f' where {where}' if where else ''} ORDERBY {order_by} "
            text += f"STARTPOSITION {start} MAXRESULTS {PAGE_SIZE}"
            page = list(self._call(operation, "GET", "query", {"query": text})["QueryResponse"].get(entity, []))
            rows.extend(page)
            if len(page) < PAGE_SIZE:
                return rows
            start += PAGE_SIZE

    # https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/customer (create / sparse update)
    def write(self, entity: str, body: Mapping[str, Any], operation_key: str) -> Record:
        """Create (no Id) or update (Id + SyncToken) with the operation's requestid."""
        params = {"requestid": request_id(self.realm_id, operation_key)}
        answer = self._call(f"write {entity}", "POST", entity.lower(), params, dict(body))
        return dict(answer[entity])

    def update(self, entity: str, record_id: str, changes: Callable[[Record], Mapping[str, Any]], key: str) -> Record:
        """A sparse update from the record as read; a stale SyncToken (5010) re-reads and retries once."""
        for attempt in (1, 2):
            current = self.read(entity, record_id)
            body = {"Id": record_id, "SyncToken": current["SyncToken"], "sparse": True, **changes(current)}
            try:
                return self.write(entity, body, f"{key}:{record_id}:{current['SyncToken']}")
            except StaleSyncToken:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    # https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/batch
    def batch(self, operation: str, items: Sequence[Mapping[str, Any]]) -> list[Record | ConcordError]:
        """Up to 30 items, run one after the other (not a transaction); each answer or its error."""
        if len(items) > BATCH_LIMIT:
            raise ValidationFailed(f"quickbooks {operation}: {len(items)} batch items; at most {BATCH_LIMIT}")
        if not items:
            return []
        body = {"BatchItemRequest": [{"bId": str(n), **item} for n, item in enumerate(items, 1)]}
        answers = {str(a.get("bId")): a for a in self._call(operation, "POST", "batch", body=body)["BatchItemResponse"]}
        results: list[Record | ConcordError] = []
        for n in range(1, len(items) + 1):
            answer = answers.get(str(n))
            if answer is None:
                results.append(ValidationFailed(f"quickbooks {operation}: no answer for batch item {n}"))
            elif "Fault" in answer:
                error = self.errors.fault_error(operation, 400, _fault_errors(answer))
                results.append(error or ValidationFailed(f"quickbooks {operation}: batch item {n} failed"))
            else:
                results.append(dict(answer))
        return results

    # https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/changedatacapture
    def changed(self, entity: str, since: str) -> list[Record]:
        """The entity's records changed after `since` (CDC: at most 30 days back, 1,000 objects)."""
        answer = self._call(f"cdc {entity}", "GET", "cdc", {"entities": entity, "changedSince": since})
        rows: list[Record] = []
        for response in answer.get("CDCResponse", []):
            for page in response.get("QueryResponse", []):
                rows.extend(page.get(entity, []))
        return rows

    def close(self) -> None:
        self.vendor.close()
