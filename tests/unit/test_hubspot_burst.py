"""The HubSpot burst benchmark on a small burst, with short clocks: batch updates of 100, a
spent ten-secondly window (429) and a 503 from the fault proxy mid-burst.

The benchmark runs the sandbox and the fault proxy in this process, on loopback: these tests
may connect to 127.0.0.1 and nowhere else (pytest-socket)."""

from __future__ import annotations

import pytest
from pytest_socket import _remove_restrictions, socket_allow_hosts

from benchmarks import hubspot_burst
from benchmarks._burst_consumer import BurstTimings

QUICK = BurstTimings(visibility_timeout=0.3, window_seconds=0.6)
RECORDS = 250  # three batch updates: room for a refusal between them


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, object]]:
    socket_allow_hosts(["127.0.0.1"], allow_unix_socket=True)
    try:
        return hubspot_burst.run(RECORDS, QUICK)
    finally:
        _remove_restrictions()


def test_a_clean_burst_writes_in_batches_of_100_within_a_tenth_of_the_floor(results: dict) -> None:
    clean = results["clean"]
    assert clean["floor"] == 3  # ceil(250 / 100)
    assert clean["write_calls"] <= 1.1 * clean["floor"]
    assert clean["lost"] == clean["written_twice"] == clean["parked"] == 0


@pytest.mark.parametrize(("scenario", "refusal"), [("burst", "answered_429"), ("outage", "answered_503")])
def test_refusals_mid_burst_lose_nothing_and_write_nothing_twice(results: dict, scenario: str, refusal: str) -> None:
    run = results[scenario]
    assert run[refusal] > 0  # the refusal really happened mid-burst
    assert run["lost"] == run["written_twice"] == run["parked"] == 0
    # Only what failed is resent: one more call per refusal, not a resend of the whole burst.
    assert run["write_calls"] == run["floor"] + run["answered_429"] + run["answered_503"]


def test_the_figures_compare_write_calls_with_the_floor_of_batches_of_100(results: dict) -> None:
    figures = {row["name"]: row for row in hubspot_burst.figures_of(results)}
    clean = figures[f"clean: write calls ({RECORDS} records)"]
    assert (clean["value"], clean["floor"]) == (results["clean"]["write_calls"], 3)
    assert figures["burst: records lost"]["value"] == 0
