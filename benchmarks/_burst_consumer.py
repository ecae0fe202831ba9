"""What the vendor burst benchmarks (salesforce_burst, hubspot_burst) share: a batching SQS
consumer of financial statuses, modelled honestly; a tap on the wire that sees which records the
vendor acknowledged; and the tally, table and figures of a scenario.

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
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from concord.connectors.kit.errors import Throttled
from concord.domain import FinancialStatus
from concord.errors import ConcordError, TransientError
from concord.local.faults import FaultMode
from concord.local.sandboxes.kit import Call

from ._common import figure


class StatusWriter(Protocol):
    """The CRM connector's bulk write (CrmPort.set_financial_statuses)."""

    def set_financial_statuses(self, statuses: Mapping[str, FinancialStatus]) -> dict[str, ConcordError]: ...


@dataclass(frozen=True)
class WriteWire:
    """How a vendor's bulk status write looks on the wire: its method, how its path ends, and
    the ids a successful answer acknowledged."""

    method: str
    path_suffix: str
    acknowledged: Callable[[httpx.Request, httpx.Response], list[str]]

    def is_write(self, method: str, path: str) -> bool:
        return method == self.method and path.split("?")[0].endswith(self.path_suffix)


@dataclass(frozen=True)
class BurstTimings:
    """The clocks of a burst run: the SQS visibility timeout, the vendor's rolling request
    window, the consumer's batch and how often a message may be received."""

    visibility_timeout: float = 1.0
    window_seconds: float = 2.0
    batch_size: int = 1000  # messages per delivery (Lambda's SQS batch, with a batching window)
    max_receives: int = 10  # then the dead-letter queue


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


def consume(
    crm: StatusWriter,
    statuses: Mapping[str, FinancialStatus],
    queue: RedeliveringQueue,
    batch_size: int,
    visibility_timeout: float,
) -> int:
    """Drain the queue through the connector; the number of deliveries (consumer invocations)."""
    deliveries = 0
    while not queue.empty():
        batch = queue.receive(batch_size)
        deliveries += 1
        failures = crm.set_financial_statuses({record_id: statuses[record_id] for record_id in batch})
        queue.fail(failures, visibility_timeout)
    return deliveries


class WriteTap(httpx.BaseTransport):
    """Forwards every request; for each bulk write (`wire`) it sees, counts the records the
    vendor acknowledged by id, and calls `after_write(n)` after the n-th."""

    def __init__(
        self, inner: httpx.BaseTransport, wire: WriteWire, after_write: Callable[[int], None] | None = None
    ) -> None:
        self.inner = inner
        self.wire = wire
        self.after_write = after_write
        self.writes = 0
        self.acknowledged: Counter[str] = Counter()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if self.wire.is_write(request.method, request.url.path):
            response.read()
            self.writes += 1
            self.acknowledged.update(self.wire.acknowledged(request, response))
            if self.after_write:
                self.after_write(self.writes)
        return response

    def close(self) -> None:
        self.inner.close()

    def written_twice(self) -> int:
        return sum(1 for count in self.acknowledged.values() if count > 1)


def tally(
    wire: WriteWire,
    served: Sequence[Call],
    injected: Mapping[FaultMode, int],
    refused_status: int,
    statuses: Mapping[str, FinancialStatus],
    stored: Mapping[str, str | None],
    floor: int,
    tap: WriteTap,
    queue: RedeliveringQueue,
    deliveries: int,
    elapsed: float,
) -> dict[str, Any]:
    """One scenario's counts. Write calls = bulk writes the sandbox answered (any status) + those
    the fault proxy answered itself; lost = records whose stored status is not the one sent."""
    writes = [call for call in served if wire.is_write(call.method, call.path)]
    write_calls = len(writes) + sum(injected.values())
    return {
        "records": len(statuses),
        "write_calls": write_calls,
        "write_calls_seen_by_client": tap.writes,
        "floor": floor,
        "ratio": write_calls / floor,
        f"answered_{refused_status}": sum(1 for call in writes if call.status == refused_status),
        "answered_503": injected.get(FaultMode.ERROR, 0),
        "lost": sum(1 for record_id, status in statuses.items() if stored.get(record_id) != status.value),
        "written_twice": tap.written_twice(),
        "parked": len(queue.parked),
        "deliveries": deliveries,
        "max_receives_of_a_record": max(queue.receives.values(), default=0),
        "elapsed_seconds": elapsed,
    }


def burst_figures(
    results: Mapping[str, Mapping[str, Any]], refused_status: int, per_call: int, call_name: str
) -> list[dict[str, Any]]:
    """Each scenario's write calls against the floor ceil(N / per_call), and its records lost."""
    rows = []
    for name, result in results.items():
        n, floor = result["records"], result["floor"]
        rows.append(
            figure(
                f"{name}: write calls ({n} records)",
                result["write_calls"],
                "calls",
                floor,
                f"ceil({n} / {per_call}) {call_name}",
            )
        )
        rows.append(
            figure(
                f"{name}: records lost",
                result["lost"],
                "records",
                note=f"{refused_status}s {result[f'answered_{refused_status}']}, "
                f"503s {result['answered_503']}, written twice {result['written_twice']}, "
                f"parked {result['parked']}",
            )
        )
    return rows


def print_burst_table(results: Mapping[str, Mapping[str, Any]], refused_status: int) -> None:
    print(
        f"{'scenario':11} {'records':>7} {'write calls':>11} {'floor':>5} {'ratio':>5} {f'{refused_status}s':>4} "
        f"{'503s':>4} {'lost':>4} {'twice':>5} {'parked':>6} {'elapsed s':>9}"
    )
    for name, r in results.items():
        print(
            f"{name:11} {r['records']:7d} {r['write_calls']:11d} {r['floor']:5d} {r['ratio']:5.2f} "
            f"{r[f'answered_{refused_status}']:4d} {r['answered_503']:4d} {r['lost']:4d} {r['written_twice']:5d} "
            f"{r['parked']:6d} {r['elapsed_seconds']:9.2f}"
        )
