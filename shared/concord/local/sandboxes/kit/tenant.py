"""A tenant's state (one org / company / realm the sandbox plays) and the vendor interface."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Protocol

from .budget import RequestBudget
from .http import Request, Response
from .oauth import TokenIssuer
from .paging import Cursors
from .store import RecordStore


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    status: int


class CallLog:
    """What a tenant was asked, in order: for tests and benchmarks (method, path, status)."""

    def __init__(self) -> None:
        self._calls: list[Call] = []
        self._lock = threading.Lock()

    def record(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)

    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()


@dataclass
class Tenant:
    name: str
    store: RecordStore
    budget: RequestBudget = field(default_factory=RequestBudget)
    tokens: TokenIssuer = field(default_factory=TokenIssuer)
    cursors: Cursors = field(default_factory=Cursors)
    calls: CallLog = field(default_factory=CallLog)

    def reset(self) -> None:
        """Forget records, cursors and calls and refill the budget; issued tokens stay valid,
        as a data reset does not log a client out."""
        self.store.clear()
        self.cursors.clear()
        self.calls.clear()
        self.budget.refill()


class Vendor(Protocol):
    """What a vendor package supplies: its tenants' state, its routes, and seeding."""

    name: str

    def new_tenant(self, name: str) -> Tenant: ...

    def handle(self, tenant: Tenant, request: Request) -> Response:
        """Answers one request below `/<tenant>` (auth, budget and errors included)."""
        ...

    def seed(self, tenant: Tenant, table: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Stores records as given (no validation: seeding may set up what the API refuses,
        e.g. duplicate external ids) and returns them as stored."""
        ...
