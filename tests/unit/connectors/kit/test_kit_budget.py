from __future__ import annotations

import threading
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend

from concord.connectors.kit.budget import (
    BudgetPolicy,
    DynamoDbBudgetStore,
    InMemoryBudgetStore,
    RateBudget,
    in_memory_budget,
)
from concord.connectors.kit.errors import Throttled

from .conftest import FakeClock

TABLE = "concord-rate-budgets"
KEY = "budget#salesforce#00D000000000001"


@pytest.fixture
def dynamodb() -> Iterator[None]:
    with mock_aws():
        boto3.client("dynamodb").create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield


def _dynamodb_store() -> DynamoDbBudgetStore:
    # A session per caller: boto3 resources are not shared between threads.
    return DynamoDbBudgetStore(boto3.session.Session().resource("dynamodb").Table(TABLE))


@pytest.fixture(params=["memory", "dynamodb"])
def store_factory(request: pytest.FixtureRequest):
    if request.param == "memory":
        store = InMemoryBudgetStore()
        yield lambda: store
    else:
        request.getfixturevalue("dynamodb")
        yield _dynamodb_store


def _budget(store_factory, policy: BudgetPolicy, clock: FakeClock) -> RateBudget:
    return RateBudget(store_factory(), KEY, policy, clock=clock, sleep=clock.sleep)


# ------------------------------------------------------------------ token bucket


def test_the_burst_is_granted_at_once_then_callers_wait_for_the_refill(store_factory, clock: FakeClock) -> None:
    budget = _budget(store_factory, BudgetPolicy(rate_per_second=2.0, burst=2), clock)
    budget.acquire(max_wait=0)
    budget.acquire(max_wait=0)
    assert clock.slept == []
    budget.acquire(max_wait=5)
    assert clock.slept == [pytest.approx(0.5)]


def test_a_wait_longer_than_max_wait_raises_throttled_with_the_delay(store_factory, clock: FakeClock) -> None:
    budget = _budget(store_factory, BudgetPolicy(rate_per_second=0.5, burst=1), clock)
    budget.acquire(max_wait=0)
    with pytest.raises(Throttled) as raised:
        budget.acquire(max_wait=1.0)
    assert raised.value.retry_after == pytest.approx(2.0)
    assert clock.slept == []  # it did not sleep in vain


# ------------------------------------------------------------------ AIMD


def _state(budget: RateBudget):
    state, _ = budget.store.load(budget.key)
    return state


def test_a_throttle_halves_the_rate_and_successes_creep_back_to_the_ceiling(store_factory, clock: FakeClock) -> None:
    policy = BudgetPolicy(rate_per_second=10.0, burst=10, rate_increase=1.0)
    budget = _budget(store_factory, policy, clock)
    grant = budget.acquire(max_wait=0)
    budget.release(grant, throttled=True)
    assert _state(budget).rate == pytest.approx(5.0)
    budget.release(budget.acquire(max_wait=10), throttled=True)
    assert _state(budget).rate == pytest.approx(2.5)
    budget.release(budget.acquire(max_wait=10), throttled=False)
    assert _state(budget).rate == pytest.approx(3.5)
    for _ in range(20):
        budget.release(budget.acquire(max_wait=10), throttled=False)
    assert _state(budget).rate == pytest.approx(10.0)  # never above the ceiling


def test_after_a_throttle_the_next_caller_waits_at_the_halved_rate(store_factory, clock: FakeClock) -> None:
    budget = _budget(store_factory, BudgetPolicy(rate_per_second=4.0, burst=4), clock)
    budget.release(budget.acquire(max_wait=0), throttled=True)
    budget.acquire(max_wait=5)
    assert clock.slept == [pytest.approx(0.5)]  # 1 token at 2/s, not at 4/s


def test_the_rate_never_halves_below_the_floor(clock: FakeClock) -> None:
    budget = in_memory_budget(BudgetPolicy(rate_per_second=1.0, burst=1, min_rate=0.25), clock=clock, sleep=clock.sleep)
    for _ in range(5):
        budget.release(budget.acquire(max_wait=100), throttled=True)
    assert _state(budget).rate == pytest.approx(0.25)


# ------------------------------------------------------------------ concurrency leases


def test_leases_cap_concurrent_calls_and_a_release_frees_one(store_factory, clock: FakeClock) -> None:
    budget = _budget(store_factory, BudgetPolicy(max_leases=2), clock)
    first = budget.acquire(max_wait=0)
    budget.acquire(max_wait=0)
    with pytest.raises(Throttled):
        budget.acquire(max_wait=0)
    budget.release(first, throttled=False)
    assert budget.acquire(max_wait=0).lease_id is not None


def test_a_crashed_holders_lease_expires(store_factory, clock: FakeClock) -> None:
    budget = _budget(store_factory, BudgetPolicy(max_leases=1, lease_seconds=30), clock)
    budget.acquire(max_wait=0)  # never released
    with pytest.raises(Throttled):
        budget.acquire(max_wait=0)
    clock.now += 31
    budget.acquire(max_wait=0)


def test_a_throttle_halves_the_lease_limit_then_it_grows_back(store_factory, clock: FakeClock) -> None:
    budget = _budget(store_factory, BudgetPolicy(max_leases=4), clock)
    budget.release(budget.acquire(max_wait=0), throttled=True)
    assert _state(budget).lease_limit == 2
    held = [budget.acquire(max_wait=0), budget.acquire(max_wait=0)]
    with pytest.raises(Throttled):
        budget.acquire(max_wait=0)
    for grant in held:
        budget.release(grant, throttled=False)
    for _ in range(20):
        budget.release(budget.acquire(max_wait=0), throttled=False)
    assert _state(budget).lease_limit == 4


# ------------------------------------------------------------------ racing Lambdas


class _CountingStore(DynamoDbBudgetStore):
    lost_races = 0

    def save(self, key, state, version) -> bool:
        saved = super().save(key, state, version)
        if not saved:
            type(self).lost_races += 1
        return saved


@pytest.fixture
def atomic_conditional_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB applies a conditional UpdateItem atomically per item, and a read sees an item
    before or after a write. moto checks the condition and applies the SET actions one by one
    without a lock, so two threads can both pass and a reader can see half an item.
    Give moto DynamoDB's guarantee."""
    lock = threading.Lock()

    def atomic(method):
        def locked(self, *args, **kwargs):
            with lock:
                return method(self, *args, **kwargs)

        return locked

    monkeypatch.setattr(DynamoDBBackend, "update_item", atomic(DynamoDBBackend.update_item))
    monkeypatch.setattr(DynamoDBBackend, "get_item", atomic(DynamoDBBackend.get_item))


@pytest.mark.usefixtures("dynamodb", "atomic_conditional_writes")
def test_threads_racing_for_the_last_tokens_never_get_more_than_there_are() -> None:
    # Five tokens, a refill too slow to matter, eight takers that will not wait.
    policy = BudgetPolicy(rate_per_second=0.0001, burst=5, min_rate=0.0001)
    start = threading.Barrier(8)
    granted: list[bool] = []
    crashed: list[BaseException] = []

    def take(budget: RateBudget) -> None:
        start.wait()
        for _ in range(2):
            try:
                budget.acquire(max_wait=0)
                granted.append(True)
            except Throttled:
                granted.append(False)
            except BaseException as error:  # noqa: BLE001 - surfaced below: a thread's exception is otherwise lost
                crashed.append(error)

    # Sessions are made here, one after the other: creating boto3 sessions is not thread-safe.
    budgets = [
        RateBudget(_CountingStore(boto3.session.Session().resource("dynamodb").Table(TABLE)), KEY, policy)
        for _ in range(8)
    ]
    threads = [threading.Thread(target=take, args=(budget,)) for budget in budgets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert crashed == []
    assert granted.count(True) == 5
    assert granted.count(False) == 11
    state, version = _dynamodb_store().load(KEY)
    assert state is not None and 0 <= state.tokens < 1
    assert version == 5  # one successful write per grant; every other write lost its race
