"""The ERP billing-run benchmark on a small run, and its arithmetic: the batch floor, how calls
are told apart, and that a throttled run loses and doubles nothing.

The benchmark runs the sandboxes in this process, on loopback: these tests may connect to
127.0.0.1 and nowhere else (pytest-socket)."""

from __future__ import annotations

import pytest
from pytest_socket import _remove_restrictions, socket_allow_hosts

from benchmarks import erp_billing
from benchmarks._erp_billing_accounts import ERPS, DeclaredCalls
from benchmarks.erp_billing import Floor, Timings, floor_of, kind_of
from concord.local.sandboxes.kit.tenant import Call

from .loopback import loopback_only  # noqa: F401 - the fixture

# NetSuite: two writes of up to 200 lines; Business Central and Finance: three of up to 100. Room
# for a throttle between them.
LINES = 250


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, object]]:
    socket_allow_hosts(["127.0.0.1"], allow_unix_socket=True)
    try:
        return erp_billing.run(LINES, Timings())  # waits are simulated: no wall time
    finally:
        _remove_restrictions()


def test_the_floor_is_the_batched_writes_and_the_declared_calls() -> None:
    netsuite = DeclaredCalls(reads_per_write=3, reads_per_run=2)
    assert floor_of(1000, 200, netsuite) == Floor(writes=5, reads=17)
    assert floor_of(1001, 200, netsuite) == Floor(writes=6, reads=20)
    assert floor_of(1000, 100, DeclaredCalls(reads_per_write=1, reads_per_run=0)).calls == 20
    # A draft that is a record of its own is created once a run, beside the line writes.
    assert floor_of(1000, 100, DeclaredCalls(reads_per_write=0, reads_per_run=1, writes_per_run=1)) == Floor(
        writes=11, reads=1
    )


def test_calls_are_told_apart_by_what_they_ask() -> None:
    assert kind_of(Call("POST", "/services/rest/auth/oauth2/v1/token", 200)) == "token"
    assert kind_of(Call("POST", "/services/rest/query/v1/suiteql", 200)) == "read"
    assert kind_of(Call("GET", "/services/rest/record/v1/salesOrder/7", 200)) == "read"
    assert kind_of(Call("PATCH", "/services/rest/record/v1/salesOrder/7", 429)) == "write"
    # Entra ID tokens (Business Central, Finance); a `$batch` is one write, as the vendors count it.
    assert kind_of(Call("POST", "/concord-sandbox.onmicrosoft.com/oauth2/v2.0/token", 200)) == "token"
    assert kind_of(Call("POST", "/v2.0/tenant/sandbox/api/v2.0/$batch", 200)) == "write"
    assert kind_of(Call("POST", "/data/$batch", 429)) == "write"
    assert kind_of(Call("GET", "/data/FreeTextInvoiceLines", 200)) == "read"


def test_every_erp_of_the_issue_is_benchmarked() -> None:
    assert set(ERPS) == {"netsuite", "business_central", "dynamics_finance"}


@pytest.mark.parametrize("kind", list(ERPS))
def test_a_clean_run_bills_every_line_once_within_a_tenth_of_the_floor(results: dict, kind: str) -> None:
    clean = results[f"{kind}/clean"]
    assert clean["writes"] == clean["floor_writes"]
    assert clean["calls"] <= 1.1 * clean["floor_calls"]
    assert clean["lost"] == clean["doubled"] == clean["parked"] == 0 and clean["registry"] == LINES


@pytest.mark.parametrize("kind", list(ERPS))
def test_a_run_the_sandbox_throttles_midway_loses_and_doubles_nothing(results: dict, kind: str) -> None:
    throttled = results[f"{kind}/throttled"]
    refused = next(v for k, v in throttled.items() if k.startswith("answered_"))
    assert refused > 0  # the throttle really happened mid-run
    assert throttled["deliveries"] > 1  # what failed came back
    assert throttled["lost"] == throttled["doubled"] == throttled["parked"] == 0 and throttled["registry"] == LINES


@pytest.mark.parametrize("kind", list(ERPS))
def test_the_figures_read_each_run_against_its_floor(results: dict, kind: str) -> None:
    figures = {row["name"]: row for row in erp_billing.figures_of(results)}
    clean = figures[f"{kind}/clean: ERP calls ({LINES} lines)"]
    assert (clean["value"], clean["floor"]) == (
        results[f"{kind}/clean"]["calls"],
        results[f"{kind}/clean"]["floor_calls"],
    )
