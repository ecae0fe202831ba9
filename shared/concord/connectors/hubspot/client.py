"""HubSpot's CRM API (date-versioned paths, /crm/objects/2026-03/...) for one portal: auth,
error mapping, rate-limit headers, batches of 100 with per-item errors, search.

Two rate budgets: the portal's (burst per 10 s and daily, per app) and the CRM search API's own
lower per-second limit; search calls draw from the second only.
Limits: https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines
Errors: https://developers.hubspot.com/docs/api-reference/error-handling
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ValidationError

from concord.errors import ConcordError, PermanentError, ValidationFailed

from ..kit.budget import RateBudget
from ..kit.errors import AuthFailed, ErrorMapper, NotFound, Throttled, parse_retry_after
from ..kit.http import VendorClient
from ..kit.telemetry import vendor_metric
from .payloads import BatchError, BatchResult, SearchPage, SimpleObject

API_VERSION = "2026-03"
BATCH_LIMIT = 100  # inputs per batch call (read, update, upsert)
SEARCH_LIMIT = 200  # results per search page
# A daily limit resets at midnight in the portal's time zone: retrying within minutes is useless.
DAILY_RETRY_AFTER = 3600.0


class RequiredPropertyMissing(ValidationFailed):
    """The portal requires properties the write did not set (enforced on every API write from
    version 2026-09): a person must fill them in HubSpot or change the portal's rule."""

    def __init__(self, message: str, properties: Sequence[str]) -> None:
        super().__init__(message)
        self.properties = tuple(properties)


def required_properties(error: BatchError) -> list[str]:
    """The properties a VALIDATION_ERROR says are required and missing (none: another refusal).
    The 2026-09 changelog shows category VALIDATION_ERROR with per-property `errors`; each names
    its property in `context.propertyName` (or the body's `context.propertyName`)."""
    if error.category != "VALIDATION_ERROR":
        return []
    names = error.named("propertyName")
    for item in error.errors:
        code = str(item.get("code", "")).upper()
        context = item.get("context")
        if "REQUIRED" in code and isinstance(context, dict):
            names += [str(name) for name in context.get("propertyName", [])]
    return sorted(set(names))


def error_body(response: httpx.Response) -> BatchError | None:
    """HubSpot's error body, or None when the answer is not one (e.g. a proxy's or load
    balancer's 502/503 page): the status alone then decides what the error means."""
    try:
        body = response.json()
    except ValueError:
        return None
    try:
        return BatchError.model_validate(body) if isinstance(body, dict) else None
    except ValidationError:
        return None


class HubSpotErrors(ErrorMapper):
    """HubSpot's meanings: 429 with a policy (ten-secondly or daily), and the 2026-09 required-property refusal."""

    def __init__(self) -> None:
        super().__init__("hubspot")

    def vendor_error(self, operation: str, response: httpx.Response) -> ConcordError | None:
        body = error_body(response)
        if operation == "token" and response.status_code in (400, 401):
            # BAD_REFRESH_TOKEN, BAD_CLIENT_ID: the install was removed or the app secret rotated.
            return AuthFailed(self.message(operation, response))
        if response.status_code == 429:
            policy = body.policy_name if body else ""
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if retry_after is None and policy.upper() == "DAILY":  # TEN_SECONDLY_ROLLING: the budget's own wait
                retry_after = DAILY_RETRY_AFTER
            return Throttled(self.message(operation, response), retry_after)
        if response.status_code == 400 and body is not None and (missing := required_properties(body)):
            return RequiredPropertyMissing(
                f"hubspot {operation}: the portal requires {', '.join(missing)} (set it in HubSpot or relax the rule)",
                missing,
            )
        return None

    def vendor_detail(self, response: httpx.Response) -> str:
        body = error_body(response)
        if body is None or not (body.category or body.message):
            return super().vendor_detail(response)
        return f"{body.category}: {body.message}" if body.category else body.message


def rate_limit_fields(response: httpx.Response) -> Mapping[str, Any]:
    """The portal's remaining requests from `X-HubSpot-RateLimit-*` (search answers carry none)."""
    headers = response.headers
    fields: dict[str, Any] = {}
    for header, field in (
        ("X-HubSpot-RateLimit-Remaining", "rate_remaining"),
        ("X-HubSpot-RateLimit-Max", "rate_max"),
        ("X-HubSpot-RateLimit-Daily-Remaining", "daily_remaining"),
        ("X-HubSpot-RateLimit-Daily", "daily_max"),
    ):
        if headers.get(header, "").isdigit():
            fields[field] = int(headers[header])
    if fields.get("daily_max"):
        used = fields["daily_max"] - fields.get("daily_remaining", fields["daily_max"])
        vendor_metric("VendorApiUsagePercent", MetricUnit.Percent, 100 * used / fields["daily_max"], vendor="hubspot")
    return fields


class HubSpotClient:
    """The CRM objects API of one portal."""

    def __init__(
        self,
        *,
        base_url: str,
        auth: httpx.Auth,
        budget: RateBudget,
        search_budget: RateBudget,
        portal: str = "",
        api_version: str = API_VERSION,
        max_wait: float | Callable[[], float] = 0.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.objects = f"/crm/objects/{api_version}"
        common: dict[str, Any] = {
            "base_url": base_url,
            "errors": HubSpotErrors(),
            "auth": auth,
            "account": portal,
            "max_wait": max_wait,
            "observe": rate_limit_fields,
            "transport": transport,
        }
        self.http = VendorClient(budget=budget, **common)
        self.search_http = VendorClient(budget=search_budget, **common)

    # ---------------------------------------------------------------- reads

    def get(
        self, object_type: str, object_id: str, properties: Sequence[str], associations: Sequence[str] = ()
    ) -> SimpleObject:
        """One object with `properties` (and the ids of its `associations`).
        https://developers.hubspot.com/docs/api-reference/2026-03/crm/objects/deals/get-deal"""
        params: dict[str, str] = {"properties": ",".join(properties)}
        if associations:
            params["associations"] = ",".join(associations)
        body = self.http.json(
            "get", "GET", f"{self.objects}/{_segment(object_type)}/{_segment(object_id)}", params=params
        )
        return SimpleObject.model_validate(body)

    def batch_read(self, object_type: str, ids: Sequence[str], properties: Sequence[str]) -> list[SimpleObject]:
        """The objects among `ids` that exist, BATCH_LIMIT a call; missing ones are left out
        (a 207 answer lists them in `errors`).
        https://developers.hubspot.com/docs/api-reference/2026-03/crm/objects/line-items/batch/read-line-items"""
        found: list[SimpleObject] = []
        for start in range(0, len(ids), BATCH_LIMIT):
            inputs = [{"id": object_id} for object_id in ids[start : start + BATCH_LIMIT]]
            body = self.http.json(
                "batch_read",
                "POST",
                f"{self.objects}/{_segment(object_type)}/batch/read",
                json={"inputs": inputs, "properties": list(properties)},
            )
            found += BatchResult.model_validate(body).results
        return found

    def search(self, object_type: str, query: Mapping[str, Any]) -> SearchPage:
        """One page of a CRM search (filterGroups, sorts, properties, limit, after).
        https://developers.hubspot.com/docs/api-reference/2026-03/crm/search/guide"""
        body = self.search_http.json(
            "search", "POST", f"{self.objects}/{_segment(object_type)}/search", json=dict(query)
        )
        return SearchPage(results=body.get("results", []))

    # ---------------------------------------------------------------- batch writes (≤ 100 a call)

    def batch_update(self, object_type: str, inputs: Sequence[Mapping[str, Any]]) -> dict[str, ConcordError]:
        """Update objects by id, BATCH_LIMIT a call; the failures by `objectWriteTraceId` (or id).
        https://developers.hubspot.com/docs/api-reference/2026-03/crm/objects/deals/batch/update-deals"""
        return self._batches("batch_update", f"{self.objects}/{_segment(object_type)}/batch/update", inputs)

    def close(self) -> None:
        self.http.close()
        self.search_http.close()

    def _batches(self, operation: str, path: str, inputs: Sequence[Mapping[str, Any]]) -> dict[str, ConcordError]:
        """Each call independent; a call that fails as a whole (a throttle, an outage) stops the
        run and its inputs and those not yet sent are returned with its error, so a retry sends
        exactly them."""
        keys = [str(item.get("objectWriteTraceId") or item["id"]) for item in inputs]
        failures: dict[str, ConcordError] = {}
        for start in range(0, len(inputs), BATCH_LIMIT):
            chunk = [dict(item) for item in inputs[start : start + BATCH_LIMIT]]
            try:
                body = self.http.json(operation, "POST", path, json={"inputs": chunk})
            except ConcordError as error:
                failures.update({key: error for key in keys[start:]})
                return failures
            failures.update(item_failures(BatchResult.model_validate(body or {}), chunk, operation))
        return failures


def item_failures(result: BatchResult, chunk: Sequence[Mapping[str, Any]], operation: str) -> dict[str, ConcordError]:
    """A 207 answer's errors, each mapped back to the input it names: by objectWriteTraceId,
    else by the ids in its context. An error naming no input fails every input not answered."""
    by_trace = {str(item.get("objectWriteTraceId") or item["id"]): str(item["id"]) for item in chunk}
    by_id = {str(item["id"]): key for key, item in zip(by_trace, chunk, strict=True)}
    failures: dict[str, ConcordError] = {}
    for error in result.errors:
        keys = (
            [error.object_write_trace_id]
            if error.object_write_trace_id in by_trace
            else [by_id[i] for i in error.named("ids") if i in by_id]
        )
        if not keys:
            answered = {r.id for r in result.results}
            keys = [key for key, object_id in by_trace.items() if object_id not in answered and key not in failures]
        for key in keys:
            failures[key] = item_error(error, operation, by_trace[key])
    return failures


def item_error(error: BatchError, operation: str, record: str) -> ConcordError:
    message = f"hubspot {operation} {record}: {error.category}: {error.message}"
    if missing := required_properties(error):
        return RequiredPropertyMissing(f"{message} (the portal requires {', '.join(missing)})", missing)
    if error.category == "OBJECT_NOT_FOUND":
        return NotFound(message)
    if error.category == "RATE_LIMITS":
        return Throttled(message)
    if error.category in ("VALIDATION_ERROR", "INVALID_PARAMS"):
        return ValidationFailed(message)
    return PermanentError(message)


def _segment(value: str) -> str:
    """One URL path segment: an id cannot add path segments or a query."""
    return quote(value, safe="")
