"""The rate budgets of Xero, QuickBooks and Workday after a run of throttles: however often the
vendor throttled, the next call waits no longer than the connector's max_wait. Below that a
delivery gets one call through at most, a billing batch (a read, then a write) never completes
and its messages are dead-lettered (benchmarks/erp_billing.py, workday/throttled, showed it)."""

from __future__ import annotations

import pytest

from concord.connectors.kit.budget import BudgetPolicy, in_memory_budget
from concord.connectors.kit.errors import Throttled
from concord.connectors.quickbooks.connection import RateSettings as QuickBooksRate
from concord.connectors.workday.connection import RateSettings as WorkdayRate
from concord.connectors.xero.connection import RateSettings as XeroRate


class FakeClock:
    def __init__(self) -> None:
        self.seconds = 0.0

    def now(self) -> float:
        return self.seconds

    def sleep(self, seconds: float) -> None:
        self.seconds += seconds


def after_throttles(policy: BudgetPolicy, throttles: int, max_wait: float) -> float:
    """Seconds the call after `throttles` throttled calls in a row waited for its token."""
    clock = FakeClock()
    budget = in_memory_budget(policy, clock=clock.now, sleep=clock.sleep)
    for _ in range(throttles):
        budget.release(budget.acquire(max_wait=max_wait), throttled=True)
    started = clock.now()
    budget.release(budget.acquire(max_wait=max_wait), throttled=False)
    return clock.now() - started


@pytest.mark.parametrize(
    ("name", "policy", "max_wait"),
    [
        ("xero", XeroRate().minute_policy(), XeroRate().max_wait_seconds),
        ("quickbooks", QuickBooksRate().policy(), QuickBooksRate().max_wait_seconds),
        ("workday", WorkdayRate().policy(), WorkdayRate().max_wait_seconds),
    ],
)
def test_a_run_of_throttles_never_leaves_a_call_waiting_past_max_wait(
    name: str, policy: BudgetPolicy, max_wait: float
) -> None:
    waited = after_throttles(policy, throttles=12, max_wait=max_wait)  # the rate halved 12 times
    assert 0 < waited <= max_wait, name


def test_the_kit_default_floor_would_leave_it_waiting_too_long() -> None:
    """The case the floors fix: the kit's default minimum rate (0.05 a second) after the same run."""
    unfloored = BudgetPolicy(rate_per_second=2.0, burst=4.0, max_leases=2)
    with pytest.raises(Throttled):
        after_throttles(unfloored, throttles=12, max_wait=WorkdayRate().max_wait_seconds)


def test_the_floor_never_exceeds_the_ceiling() -> None:
    slow = WorkdayRate(per_second=0.1, max_wait_seconds=2.0).policy()
    assert slow.min_rate == 0.1
    assert XeroRate(max_wait_seconds=20).minute_policy().min_rate == pytest.approx(0.05)
