"""One adaptive rate budget per vendor account, shared by every concurrent Lambda.

The state (a token bucket and a set of concurrency leases) lives in one record per vendor account
and is changed only by compare-and-swap on a version number, so concurrent takers never overdraw:
the loser of a race re-reads and tries again. The same arithmetic runs on DynamoDB (production)
and in memory (unit tests of other code).

Adaptive (AIMD): a throttle answer halves the rate and the lease limit; each success adds a little
back, never above the configured ceiling. `acquire` sleeps only up to `max_wait` (what the caller's
Lambda has time for) and otherwise raises `Throttled(retry_after=...)` so the queue retries later.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Protocol

from botocore.exceptions import ClientError

from .errors import Throttled

# Refill arithmetic in floats can leave 0.999999… tokens after waiting exactly long enough.
_EPSILON = 1e-9


@dataclass(frozen=True)
class BudgetPolicy:
    """Ceilings of one vendor account. Leave `rate_per_second` or `max_leases` None to not limit it."""

    rate_per_second: float | None = None
    burst: float = 1.0
    max_leases: int | None = None
    lease_seconds: float = 60.0  # a crashed holder's lease frees itself after this long
    min_rate: float = 0.05
    rate_increase: float | None = None  # per success; default: 1% of the ceiling
    lease_poll_seconds: float = 0.25  # how often a full lease set is looked at again

    @property
    def increase(self) -> float:
        return self.rate_increase if self.rate_increase is not None else (self.rate_per_second or 0) / 100


@dataclass(frozen=True)
class BudgetState:
    tokens: float
    refilled_at: float
    rate: float
    lease_limit: float
    leases: dict[str, float] = field(default_factory=dict)  # lease id -> expiry

    @classmethod
    def fresh(cls, policy: BudgetPolicy, now: float) -> BudgetState:
        return cls(policy.burst, now, policy.rate_per_second or 0.0, float(policy.max_leases or 0))


@dataclass(frozen=True)
class Grant:
    """What `acquire` hands out; give it back to `release`."""

    lease_id: str | None


def take(state: BudgetState, policy: BudgetPolicy, now: float, lease_id: str) -> tuple[BudgetState, float]:
    """The state after taking one token (and one lease), or the unchanged state and the seconds to wait."""
    state = _refilled(state, policy, now)
    leases = {key: expiry for key, expiry in state.leases.items() if expiry > now}
    wait = 0.0
    if policy.rate_per_second is not None and state.tokens < 1 - _EPSILON:
        wait = (1 - state.tokens) / state.rate
    if policy.max_leases is not None and len(leases) >= int(state.lease_limit):
        first_free = min(leases.values(), default=now + policy.lease_poll_seconds) - now
        wait = max(wait, min(policy.lease_poll_seconds, first_free))
    if wait > 0:
        return replace(state, leases=leases), wait
    if policy.max_leases is not None:
        leases[lease_id] = now + policy.lease_seconds
    tokens = max(0.0, state.tokens - 1) if policy.rate_per_second is not None else state.tokens
    return replace(state, tokens=tokens, leases=leases), 0.0


def settle(state: BudgetState, policy: BudgetPolicy, now: float, grant: Grant, throttled: bool) -> BudgetState:
    """The state after a call ended: its lease returned, the limits adapted to how it went."""
    state = _refilled(state, policy, now)
    leases = {key: expiry for key, expiry in state.leases.items() if key != grant.lease_id and expiry > now}
    if throttled:
        rate = max(policy.min_rate, state.rate / 2)
        lease_limit = max(1.0, state.lease_limit / 2)
        return replace(state, tokens=min(state.tokens, 0.0), rate=rate, lease_limit=lease_limit, leases=leases)
    rate = min(policy.rate_per_second or 0.0, state.rate + policy.increase)
    # Additive increase of the lease limit: about one more lease per limit's worth of successes.
    lease_limit = min(float(policy.max_leases or 0), state.lease_limit + 1 / max(state.lease_limit, 1.0))
    return replace(state, rate=rate, lease_limit=lease_limit, leases=leases)


def _refilled(state: BudgetState, policy: BudgetPolicy, now: float) -> BudgetState:
    if policy.rate_per_second is None:
        return state
    elapsed = max(0.0, now - state.refilled_at)
    return replace(state, tokens=min(policy.burst, state.tokens + elapsed * state.rate), refilled_at=now)


class BudgetStore(Protocol):
    """Where the state lives: `load` gives it with its version, `save` succeeds only on that version."""

    def load(self, key: str) -> tuple[BudgetState | None, int]: ...

    def save(self, key: str, state: BudgetState, version: int) -> bool: ...


class RateBudget:
    """The budget of one vendor account (`key`, e.g. `budget#salesforce#<org id>`)."""

    def __init__(
        self,
        store: BudgetStore,
        key: str,
        policy: BudgetPolicy,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store, self.key, self.policy = store, key, policy
        self._clock, self._sleep = clock, sleep

    def acquire(self, *, max_wait: float) -> Grant:
        """Take a token (and a lease), waiting at most `max_wait` seconds; else raise `Throttled`."""
        deadline = self._clock() + max_wait
        lease_id = uuid.uuid4().hex if self.policy.max_leases is not None else None
        while True:
            now = self._clock()
            state, version = self._current(now)
            taken, wait = take(state, self.policy, now, lease_id or "")
            if wait == 0:
                if self.store.save(self.key, taken, version):
                    return Grant(lease_id)
                continue  # another taker won the race: look again
            if now + wait > deadline:
                raise Throttled(f"rate budget {self.key}: no capacity within {max_wait:.1f}s", retry_after=wait)
            self._sleep(wait)

    def release(self, grant: Grant, *, throttled: bool) -> None:
        """Return the lease and tell the budget whether the vendor throttled the call."""
        while True:
            now = self._clock()
            state, version = self._current(now)
            settled = settle(state, self.policy, now, grant, throttled)
            if settled == state or self.store.save(self.key, settled, version):
                return

    def _current(self, now: float) -> tuple[BudgetState, int]:
        state, version = self.store.load(self.key)
        return state or BudgetState.fresh(self.policy, now), version


class InMemoryBudgetStore:
    """A process-local store with the same compare-and-swap contract as DynamoDB's."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[BudgetState, int]] = {}
        self._lock = threading.Lock()

    def load(self, key: str) -> tuple[BudgetState | None, int]:
        with self._lock:
            state, version = self._items.get(key, (None, 0))
            return state, version

    def save(self, key: str, state: BudgetState, version: int) -> bool:
        with self._lock:
            if self._items.get(key, (None, 0))[1] != version:
                return False
            self._items[key] = (state, version + 1)
            return True


class DynamoDbBudgetStore:
    """One item per vendor account in a table keyed by the string attribute `key`."""

    def __init__(self, table: Any) -> None:
        self.table = table  # a boto3 DynamoDB Table resource

    def load(self, key: str) -> tuple[BudgetState | None, int]:
        item = self.table.get_item(Key={"key": key}, ConsistentRead=True).get("Item")
        if item is None:
            return None, 0
        state = BudgetState(
            tokens=float(item["tokens"]),
            refilled_at=float(item["refilled_at"]),
            rate=float(item["rate"]),
            lease_limit=float(item["lease_limit"]),
            leases={lease: float(expiry) for lease, expiry in item.get("leases", {}).items()},
        )
        return state, int(item["version"])

    def save(self, key: str, state: BudgetState, version: int) -> bool:
        try:
            self.table.update_item(
                Key={"key": key},
                UpdateExpression=(
                    "SET tokens = :t, refilled_at = :r, rate = :q, lease_limit = :l, leases = :m, version = :next"
                ),
                ConditionExpression="attribute_not_exists(#k) OR version = :expected",
                ExpressionAttributeNames={"#k": "key"},
                ExpressionAttributeValues={
                    ":t": _number(state.tokens),
                    ":r": _number(state.refilled_at),
                    ":q": _number(state.rate),
                    ":l": _number(state.lease_limit),
                    ":m": {lease: _number(expiry) for lease, expiry in state.leases.items()},
                    ":next": version + 1,
                    ":expected": version,
                },
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True


def _number(value: float) -> Decimal:
    return Decimal(repr(round(value, 6)))


def in_memory_budget(policy: BudgetPolicy, key: str = "budget#test", **kwargs: Any) -> RateBudget:
    """A budget for unit tests of code that takes a `RateBudget`."""
    return RateBudget(InMemoryBudgetStore(), key, policy, **kwargs)


def dynamodb_budget(table_name: str, key: str, policy: BudgetPolicy, **kwargs: Any) -> RateBudget:
    """The shared budget of one vendor account on Concord's budget table."""
    from concord.aws.clients import resource

    return RateBudget(DynamoDbBudgetStore(resource("dynamodb").Table(table_name)), key, policy, **kwargs)
