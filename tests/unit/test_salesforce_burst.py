"""The Salesforce burst benchmark on a small burst, and its consumer's redelivery rules.

The benchmark runs the sandbox and the fault proxy in this process, on loopback: these tests
may connect to 127.0.0.1 and nowhere else (pytest-socket)."""

from __future__ import annotations

import pytest
from pytest_socket import _remove_restrictions, socket_allow_hosts

from benchmarks import salesforce_burst
from benchmarks._burst_consumer import RedeliveringQueue
from benchmarks.salesforce_burst import Timings
from concord.connectors.kit.errors import Throttled
from concord.errors import TransientError, ValidationFailed

from .loopback import loopback_only  # noqa: F401 - the fixture

QUICK = Timings(visibility_timeout=0.2, window_seconds=0.4, paced_per_second=2.0, paced_burst=1.0)
RECORDS = 450  # three collection calls: room for a fault between them


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, object]]:
    socket_allow_hosts(["127.0.0.1"], allow_unix_socket=True)
    try:
        return salesforce_burst.run(RECORDS, QUICK)
    finally:
        _remove_restrictions()


def test_a_clean_burst_writes_in_collection_calls_within_a_tenth_of_the_floor(results: dict) -> None:
    clean = results["clean"]
    assert clean["floor"] == 3  # ceil(450 / 200)
    assert clean["write_calls"] <= 1.1 * clean["floor"]
    assert clean["lost"] == clean["written_twice"] == clean["parked"] == 0


@pytest.mark.parametrize(("scenario", "refusal"), [("allocation", "answered_403"), ("outage", "answered_503")])
def test_refusals_mid_burst_lose_nothing_and_write_nothing_twice(results: dict, scenario: str, refusal: str) -> None:
    run = results[scenario]
    assert run[refusal] > 0  # the fault really happened mid-burst
    assert run["lost"] == run["written_twice"] == run["parked"] == 0
    # Only what failed is resent: one more call per refusal, not a resend of the whole burst.
    assert run["write_calls"] == run["floor"] + run["answered_403"] + run["answered_503"]


def test_concords_budget_keeps_the_burst_under_the_orgs_allocation(results: dict) -> None:
    paced = results["paced"]
    assert paced["sandbox_allocation_per_window"] < paced["write_calls"]  # unpaced, the burst would overrun it
    assert paced["answered_403"] == 0
    assert paced["lost"] == 0


def test_the_benchmark_figures_compare_write_calls_with_the_floor(results: dict) -> None:
    figures = {row["name"]: row for row in salesforce_burst.figures_of(results)}
    clean = figures[f"clean: write calls ({RECORDS} records)"]
    assert (clean["value"], clean["floor"]) == (results["clean"]["write_calls"], 3)


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_failed_messages_come_back_after_their_delay_and_are_parked_when_hopeless() -> None:
    clock = _Clock()
    queue = RedeliveringQueue(max_receives=2, sleep=clock.sleep, clock=clock)
    queue.send(["a", "b", "c", "d"])
    assert queue.receive(10) == ["a", "b", "c", "d"]

    queue.fail(
        {
            "a": Throttled("slow down", retry_after=5.0),
            "b": TransientError("503"),
            "c": ValidationFailed("bad picklist value"),
        },
        visibility_timeout=1.0,
    )

    assert queue.parked.keys() == {"c"}
    assert queue.receive(10) == ["b"] and clock.now == 1.0  # the visibility timeout
    assert queue.receive(10) == ["a"] and clock.now == 5.0  # the throttle's retry_after
    queue.fail({"a": TransientError("503 again")}, visibility_timeout=1.0)
    assert queue.empty() and queue.parked.keys() == {"a", "c"}  # received twice: parked
