"""What the billing benchmark reads of an ERP account without a request: every call the sandbox
answered, as the sandbox saw it (a wrapper around the vendor inside the sandbox server), with
when it came on the run's simulated clock, how many calls were in progress at the sandbox then,
and how many invoice lines its body carried. From that record: the most calls in any rolling
window (Xero: 60 a minute) and the most in progress at once (Xero: 5).
"""

from __future__ import annotations

import bisect
import json
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from concord.connectors.kit.http import VendorClient
from concord.local.sandboxes.kit import Request, RequestBudget, Response
from concord.local.sandboxes.kit.tenant import Call, Tenant, Vendor
from concord.ports import ErpPort

Clock = Callable[[], float]


@dataclass(frozen=True)
class WireCall(Call):
    """One answered request: `kind` is token, read or write; `at` its simulated second; `in_flight`
    the calls in progress at the sandbox with it (itself included); `lines` the invoice lines sent."""

    kind: str = "write"
    at: float = 0.0
    in_flight: int = 1
    lines: int = 0


def kind_of(method: str, path: str) -> str:
    """token, read or write by what the request asks: an OAuth token request is neither; GETs and
    NetSuite's SuiteQL read; record POST, PUT, PATCH and `$batch` write (billing's batches hold
    line inserts only)."""
    if ("/oauth2/" in path and path.endswith("/token")) or path.endswith(("/connect/token", "/tokens/bearer")):
        return "token"
    if method == "GET" or path.endswith("/query/v1/suiteql"):
        return "read"
    return "write"


def no_lines(request: Request) -> int:
    return 0


def json_body(request: Request) -> Any:
    try:
        return json.loads(request.body or b"null")
    except ValueError:
        return None


def allocate(tenant: Tenant, allocation: int, window: float, clock: Clock) -> None:
    """The account's request allocation from now on: `allocation` requests per rolling `window`
    seconds of `clock`."""
    tenant.budget = RequestBudget(allocation, window, clock)


@dataclass
class RecordingVendor:
    """A sandbox vendor that keeps a record of every call it answers (thread safe: the server
    answers each connection on its own thread). `clock` is set to the run's simulated clock."""

    inner: Vendor
    classify: Callable[[Request], str] = lambda request: kind_of(request.method, request.path)
    lines_of: Callable[[Request], int] = no_lines
    clock: Clock = lambda: 0.0
    _calls: list[WireCall] = field(default_factory=list)
    _in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    name: str = field(init=False)

    def __post_init__(self) -> None:
        self.name = self.inner.name

    def new_tenant(self, name: str) -> Tenant:
        return self.inner.new_tenant(name)

    def seed(self, tenant: Tenant, table: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return self.inner.seed(tenant, table, records)

    def handle(self, tenant: Tenant, request: Request) -> Response:
        with self._lock:
            self._in_flight += 1
            in_flight, at = self._in_flight, self.clock()
        try:
            response = self.inner.handle(tenant, request)
        finally:
            with self._lock:
                self._in_flight -= 1
        call = WireCall(
            request.method,
            request.path,
            response.status,
            kind=self.classify(request),
            at=at,
            in_flight=in_flight,
            lines=self.lines_of(request),
        )
        with self._lock:
            self._calls.append(call)
        return response

    def calls(self) -> list[WireCall]:
        with self._lock:
            return list(self._calls)

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()


def most_in_window(moments: list[float], window: float) -> int:
    """The most moments in any rolling `window` (a moment counts until `window` later, exclusive,
    as the sandboxes' request allocations count a request)."""
    ordered = sorted(moments)
    return max((k + 1 - bisect.bisect_right(ordered, at - window) for k, at in enumerate(ordered)), default=0)


@dataclass(frozen=True)
class DeclaredCalls:
    """The calls a connector makes beside its batched line writes: reads per write and per run,
    and writes per run (a draft header that is a record of its own)."""

    reads_per_write: int
    reads_per_run: int
    writes_per_run: int = 0


@dataclass
class ErpUnderTest:
    """One ERP account in its sandbox, with what the benchmark reads of it without a request."""

    erp: ErpPort
    vendor: VendorClient  # the connector's HTTP client, whose rate budget paces its calls
    recorder: RecordingVendor
    throttle: Callable[[int, float, Clock], None]  # allocation, window seconds, the window's clock
    line_refs: Callable[[], list[str]]  # the concord_ref of every line on the ERP's documents
    declared: DeclaredCalls
    throttle_status: int
    # Puts the sandbox's own limits on the run's clock (the vendors whose limits count a minute).
    on_clock: Callable[[Clock], None] = lambda clock: None
    window_seconds: float = 60.0  # the rolling window its calls are counted in


ErpAccount = Callable[[], AbstractContextManager[ErpUnderTest]]
