"""The ERP billing-run benchmark on a small run, and its arithmetic: the batch floor, how calls
are told apart, and that a throttled run loses and doubles nothing.

The benchmark runs the sandboxes in this process, on loopback: these tests may connect to
127.0.0.1 and nowhere else (pytest-socket)."""

from __future__ import annotations

import pytest
from pytest_socket import _remove_restrictions, socket_allow_hosts

from benchmarks import erp_billing
from benchmarks._erp_billing_accounts import ERPS
from benchmarks._erp_billing_books import workday_kind, xero_lines
from benchmarks._erp_billing_wire import DeclaredCalls, kind_of, most_in_window
from benchmarks.erp_billing import Floor, Timings, floor_of
from concord.local.sandboxes.kit import Request

from .loopback import loopback_only  # noqa: F401 - the fixture

# NetSuite: two writes of up to 200 lines; Business Central, Finance, QuickBooks and Workday: three
# of up to 100; Xero: five of up to 50. Room for a throttle between them.
LINES = 250
# Xero, QuickBooks and Workday re-send the draft's lines with each write: 50 + 100 + ... + 250.
RESENT = {"xero": 750, "quickbooks": 550, "workday": 550}


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
    assert kind_of("POST", "/services/rest/auth/oauth2/v1/token") == "token"
    assert kind_of("POST", "/services/rest/query/v1/suiteql") == "read"
    assert kind_of("GET", "/services/rest/record/v1/salesOrder/7") == "read"
    assert kind_of("PATCH", "/services/rest/record/v1/salesOrder/7") == "write"
    # Entra ID tokens (Business Central, Finance); a `$batch` is one write, as the vendors count it.
    assert kind_of("POST", "/concord-sandbox.onmicrosoft.com/oauth2/v2.0/token") == "token"
    assert kind_of("POST", "/v2.0/tenant/sandbox/api/v2.0/$batch") == "write"
    assert kind_of("POST", "/data/$batch") == "write"
    assert kind_of("GET", "/data/FreeTextInvoiceLines") == "read"
    # Xero's and QuickBooks' token endpoints; Workday's SOAP calls are all POSTs: a Get_* reads.
    assert kind_of("POST", "/connect/token") == kind_of("POST", "/oauth2/v1/tokens/bearer") == "token"
    soap = "/ccx/service/concord_sandbox/Revenue_Management/v45.0"
    get = Request("POST", "erp", soap, body=b"<env:Body><wd:Get_Customer_Invoices_Request wd:version='v45.0'>")
    submit = Request("POST", "erp", soap, body=b"<env:Body><wd:Submit_Customer_Invoice_Request>")
    assert (workday_kind(get), workday_kind(submit)) == ("read", "write")


def test_the_lines_a_xero_write_carries_are_counted() -> None:
    body = b'{"Invoices": [{"InvoiceID": "i-1", "LineItems": [{"LineItemID": "l-1"}, {"Description": "new"}]}]}'
    assert xero_lines(Request("POST", "erp", "/api.xro/2.0/Invoices/i-1", body=body)) == 2
    assert xero_lines(Request("GET", "erp", "/api.xro/2.0/Invoices/i-1")) == 0


def test_the_busiest_window_counts_calls_until_a_window_later() -> None:
    assert most_in_window([], 60.0) == 0
    assert most_in_window([0.0, 10.0, 59.9, 60.0, 61.0], 60.0) == 4  # 0.0 has aged out at 60.0
    assert most_in_window([5.0, 0.0, 0.0], 1.0) == 2


def test_every_erp_of_the_issues_is_benchmarked() -> None:
    assert set(ERPS) == {"netsuite", "business_central", "dynamics_finance", "xero", "quickbooks", "workday"}


@pytest.mark.parametrize("kind", list(ERPS))
def test_a_clean_run_bills_every_line_once_within_a_tenth_of_the_floor(results: dict, kind: str) -> None:
    clean = results[f"{kind}/clean"]
    assert clean["writes"] == clean["floor_writes"]
    assert clean["calls"] <= 1.1 * clean["floor_calls"]
    assert clean["lost"] == clean["doubled"] == clean["parked"] == 0 and clean["registry"] == LINES
    assert clean["lines_sent"] == RESENT.get(kind, LINES)  # each line once, but where the draft is re-sent


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


@pytest.mark.parametrize("scenario", ["clean", "throttled"])
def test_xero_stays_inside_its_minute_and_concurrency_limits_as_the_sandbox_counted(
    results: dict, scenario: str
) -> None:
    xero = results[f"xero/{scenario}"]
    assert xero["window_seconds"] == 60.0 and 0 < xero["max_calls_in_window"] <= 60
    assert 1 <= xero["max_in_flight"] <= 5
    assert xero["calls_per_line"] >= xero["batch_floor_per_line"] == 5 / LINES  # 50 lines a request


def test_xero_throttled_by_its_own_minute_limit_loses_nothing(results: dict) -> None:
    throttled = results["xero/throttled"]
    assert throttled["answered_429"] > 0 and throttled["waited_seconds"] >= 60  # the minute ran out
    assert throttled["lost"] == throttled["doubled"] == throttled["parked"] == 0
