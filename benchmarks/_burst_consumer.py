"""A batching SQS consumer of financial statuses, modelled honestly for the Salesforce burst
benchmark, and a tap on the wire that sees which records the org acknowledged.

The queue holds one message per record. The consumer receives up to `batch_size` visible
messages, writes them with one `set_financial_statuses` call and reports what failed by id
(Lambda's batch item failures): a transient failure (`Throttled`, an outage) becomes visible
again after its `retry_after`, or after the visibility timeout when the answer named none; a
permanent one, or a message received `max_receives` times, is parked (the dead-letter queue).
Every message is received at most `max_receives` times, so the loop always ends.
"""

from __future__ import annotations

import heapq
import itertools
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import httpx

from concord.connectors.kit.errors import Throttled
from concord.connectors.salesforce import SalesforceCrm
from concord.domain import FinancialStatus
from concord.errors import ConcordError, TransientError

COLLECTIONS_PATH = "/composite/sobjects"


@dataclass
class RedeliveringQueue:
    """SQS as one consumer sees it: messages become visible at a time, are counted per receive
    and are parked after `max_receives`."""

    max_receives: int
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    receives: Counter[str] = field(default_factory=Counter)
    parked: dict[str, str] = field(default_factory=dict)
    _visible: list[tuple[float, int, str]] = field(default_factory=list)  # (visible at, order, id)
    _order: itertools.count[int] = field(default_factory=itertools.count)

    def send(self, message_ids: Iterable[str]) -> None:
        now = self.clock()
        for message_id in message_ids:
            heapq.heappush(self._visible, (now, next(self._order), message_id))

    def empty(self) -> bool:
        return not self._visible

    def receive(self, batch_size: int) -> list[str]:
        """Up to `batch_size` messages, waiting until the first one is visible again."""
        if not self._visible:
            return []
        self.sleep(max(0.0, self._visible[0][0] - self.clock()))
        now = self.clock()
        batch: list[str] = []
        while self._visible and self._visible[0][0] <= now and len(batch) < batch_size:
            batch.append(heapq.heappop(self._visible)[2])
        self.receives.update(batch)
        return batch

    def fail(self, failures: Mapping[str, ConcordError], visibility_timeout: float) -> None:
        """What the batch item failures of one delivery do to their messages: back on the queue
        together (the delivery's visibility timeout, or the retry_after a throttle named), or parked."""
        now = self.clock()
        for message_id, error in failures.items():
            if not isinstance(error, TransientError):
                self.parked[message_id] = f"{type(error).__name__}: {error}"
            elif self.receives[message_id] >= self.max_receives:
                self.parked[message_id] = f"received {self.max_receives} times; last: {error}"
            else:
                retry_after = error.retry_after if isinstance(error, Throttled) else None
                delay = retry_after if retry_after is not None else visibility_timeout
                heapq.heappush(self._visible, (now + delay, next(self._order), message_id))


def consume(crm: SalesforceCrm, statuses: Mapping[str, FinancialStatus], queue: RedeliveringQueue,
            batch_size: int, visibility_timeout: float) -> int:
    """Drain the queue through the connector; the number of deliveries (consumer invocations)."""
    deliveries = 0
    while not queue.empty():
        batch = queue.receive(batch_size)
        deliveries += 1
        failures = crm.set_financial_statuses({record_id: statuses[record_id] for record_id in batch})
        queue.fail(failures, visibility_timeout)
    return deliveries


class WriteTap(httpx.BaseTransport):
    """Forwards every request; for each sObject Collections update it sees, counts the records
    the org acknowledged (`success: true`) by id, and calls `after_write(n)` after the n-th."""

    def __init__(self, inner: httpx.BaseTransport, after_write: Callable[[int], None] | None = None) -> None:
        self.inner = inner
        self.after_write = after_write
        self.writes = 0
        self.acknowledged: Counter[str] = Counter()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "PATCH" and request.url.path.endswith(COLLECTIONS_PATH):
            response.read()
            self.writes += 1
            if response.status_code == 200:
                sent = [record["id"] for record in json.loads(request.content)["records"]]
                answers = response.json()
                self.acknowledged.update(rid for rid, answer in zip(sent, answers, strict=True) if answer["success"])
            if self.after_write:
                self.after_write(self.writes)
        return response

    def close(self) -> None:
        self.inner.close()

    def written_twice(self) -> int:
        return sum(1 for count in self.acknowledged.values() if count > 1)
