"""`VendorClient`: the one way a connector calls its vendor over HTTP.

For every call: take from the account's rate budget, send, map the answer through the vendor's
error mapper, tell the budget whether the vendor throttled, and write one structured log line and
one latency metric (vendor, operation, method, status; the path only, never the query or a header).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from aws_lambda_powertools.metrics import MetricUnit

from concord.errors import ConcordError
from concord.observability import logger

from .budget import RateBudget
from .errors import ErrorMapper, Throttled
from .telemetry import vendor_metric

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
DEFAULT_LIMITS = httpx.Limits(max_connections=10, max_keepalive_connections=5)


class VendorClient:
    """One `httpx.Client` per vendor account, with its auth plug-in, budget and error mapping.

    `max_wait` bounds how long a call may wait for the budget; pass a callable (e.g. reading the
    Lambda context's remaining time) to decide per call. `observe` sees every answer (e.g. to
    read usage headers) and returns extra, non-secret fields for the log line.
    """

    def __init__(
        self,
        *,
        base_url: str,
        errors: ErrorMapper,
        budget: RateBudget,
        auth: httpx.Auth | None = None,
        account: str = "",
        max_wait: float | Callable[[], float] = 0.0,
        observe: Callable[[httpx.Response], Mapping[str, Any]] | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        limits: httpx.Limits = DEFAULT_LIMITS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.errors = errors
        self.budget = budget
        self.account = account
        self._max_wait = max_wait
        self._observe = observe
        self.http = httpx.Client(base_url=base_url, auth=auth, timeout=timeout, limits=limits, transport=transport)

    @property
    def vendor(self) -> str:
        return self.errors.vendor

    def request(
        self,
        operation: str,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send one call (a JSON body, or `content` as it is, e.g. a multipart batch); return its
        successful answer or raise the Concord error it means."""
        grant = self.budget.acquire(max_wait=self._max_wait() if callable(self._max_wait) else self._max_wait)
        started = time.perf_counter()
        response: httpx.Response | None = None
        error: ConcordError | None = None
        try:
            response = self.http.request(method, url, params=params, json=json, content=content, headers=headers)
            error = self.errors.error_for_response(operation, response)
        except httpx.HTTPError as exc:
            error = self.errors.error_for_exception(operation, exc)
        except ConcordError as exc:  # raised by the auth plug-in (token endpoint)
            error = exc
        finally:
            self.budget.release(grant, throttled=isinstance(error, Throttled))
        self._record(operation, method, url, response, error, (time.perf_counter() - started) * 1000)
        if error is not None:
            raise error
        assert response is not None
        return response

    def json(self, operation: str, method: str, url: str, **kwargs: Any) -> Any:
        """`request`, then the answer's JSON body (None for an empty body, e.g. 204)."""
        response = self.request(operation, method, url, **kwargs)
        return response.json() if response.content else None

    def close(self) -> None:
        self.http.close()

    def _record(
        self,
        operation: str,
        method: str,
        url: str,
        response: httpx.Response | None,
        error: ConcordError | None,
        latency_ms: float,
    ) -> None:
        status = response.status_code if response is not None else 0
        fields: dict[str, Any] = {
            "vendor": self.vendor,
            "account": self.account,
            "operation": operation,
            "method": method,
            "path": httpx.URL(url).path,
            "status": status,
            "latency_ms": round(latency_ms, 1),
        }
        if response is not None and self._observe is not None:
            fields.update(self._observe(response))
        if error is not None:
            fields["error_class"] = type(error).__name__
            logger.warning("vendor call failed", extra=fields)
        else:
            logger.info("vendor call", extra=fields)
        vendor_metric(
            "VendorCallLatency",
            MetricUnit.Milliseconds,
            latency_ms,
            vendor=self.vendor,
            operation=operation,
            outcome=type(error).__name__ if error else "ok",
        )
