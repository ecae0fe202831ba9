"""A per-tenant request allocation over a rolling window (Salesforce's 24 h total request
allocation, a vendor's per-minute rate): spent requests refill as they age out of the window."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Usage:
    used: int
    allocation: int


class RequestBudget:
    def __init__(
        self, allocation: int = 100_000, window_seconds: float = 86_400.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._taken: deque[float] = deque()
        self.allocation = allocation
        self.window_seconds = window_seconds

    def configure(self, allocation: int, window_seconds: float | None = None) -> None:
        with self._lock:
            self.allocation = allocation
            if window_seconds is not None:
                self.window_seconds = window_seconds

    def take(self) -> Usage | None:
        """Counts one request and returns the usage after it, or None when the allocation is
        spent (the request is then not counted)."""
        with self._lock:
            self._expire()
            if len(self._taken) >= self.allocation:
                return None
            self._taken.append(self._clock())
            return Usage(len(self._taken), self.allocation)

    def usage(self) -> Usage:
        with self._lock:
            self._expire()
            return Usage(len(self._taken), self.allocation)

    def refill(self) -> None:
        with self._lock:
            self._taken.clear()

    def _expire(self) -> None:
        horizon = self._clock() - self.window_seconds
        while self._taken and self._taken[0] <= horizon:
            self._taken.popleft()
