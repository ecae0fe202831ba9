"""A billing run of N approved time entries (N invoice lines on one project) through Concord's
billing flow (concord.sync.billing) and each ERP connector available in-process, against its
sandbox, counting the ERP calls by kind as the sandbox saw them. The ERPs: NetSuite, Business
Central, Dynamics 365 Finance, Xero, QuickBooks Online and Workday (ERPS, in
_erp_billing_accounts.py and _erp_billing_books.py, says what each connector calls).

The floor of a run is the vendor's batch floor: ceil(N / batch_limits.invoice_lines) line writes,
plus the calls the connector declares (DeclaredCalls: reads per write, such as the lines already
billed and the draft's status; per run, the draft look-up, and the draft's creation where the
vendor's draft is a record of its own). The ratio is the calls answered (token requests apart)
over that floor.

How a call is counted: one HTTP request to the vendor is one call, whatever it carries. A `$batch`
(Business Central's JSON batch of up to 100 operations, Finance's multipart change set) is one
write: the request is what both vendors' limits count. Business Central's limit is 6,000 requests
per 5-minute window per user or service principal, and Microsoft recommends batching to "perform
multiple operations in one call"; its docs do not count a batch's operations separately, and the
sandbox takes one request of the allocation per `$batch`.
https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/dynamics-rate-limits
https://learn.microsoft.com/en-us/training/modules/work-with-api/4-limits/
Finance throttles by its resource-based service protection limits (the per-user request counts
are optional and removed from version 10.0.36), answering 429 with Retry-After: the calls here
are HTTP requests too, a change set one of them.
https://learn.microsoft.com/en-us/dynamics365/fin-ops-core/dev-itpro/data-entities/service-protection-api-limits

Each ERP runs twice, on a fresh account:
  clean      no fault: the calls against the floor (goal: at most 1.1x)
  throttled  the account's request allocation runs out after half the floor's calls and refills
             over a short rolling window (each sandbox's own throttle: NetSuite, Business Central
             and Finance answer 429 with Retry-After): failed records come back after their
             retry_after or the visibility timeout, as SQS redelivers them
Time in a run is simulated where it waits: the queue's waits (visibility timeouts, Retry-After)
and the connector's rate budget's advance a clock that the sandbox's allocation window reads too,
so the throttle bites at the same call on any machine, however slow, and a wait costs no wall time
(SimulatedClock; waited_seconds is the simulated time a run spent waiting).
Lost = entries whose line is not on the ERP; doubled = a concord_ref on more than one line
(read straight from the sandbox's store); registry = lines Concord linked in its registry.

From the sandbox's record of calls (_erp_billing_wire.py), on the simulated clock: the most calls
in any rolling minute and the most in progress at once (Xero allows 60 and 5), and the lines
sent: Xero, QuickBooks and Workday re-send a draft's lines with every addition (an update
replaces the lines), so what goes over the wire grows with the square of the lines billed while
the requests grow linearly. calls_per_line is read against batch_floor_per_line, the vendor's
lines per request alone (Xero: 1/50).

    .venv/bin/python -m benchmarks.erp_billing --lines 1000
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import time
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

from concord.connectors.kit.budget import RateBudget, in_memory_budget
from concord.connectors.xero.budget import OrganisationBudget
from concord.domain import Customer
from concord.errors import ConcordError
from concord.events import new_event
from concord.events.envelope import TimeApprovedEvent
from concord.events.types import Address, System
from concord.observability import logger
from concord.ports import ErpPort
from concord.sync import billing
from concord.sync.ids import canonical_id
from concord.sync.systems import Systems
from tests.unit.fakes import FakeBus, FakeCrm, FakePsa, FakeXref, system_of_record, us_rules

from ._burst_consumer import BurstTimings, RedeliveringQueue
from ._common import figure, provenance, write_results
from ._erp_billing_accounts import ERPS
from ._erp_billing_wire import DeclaredCalls, ErpUnderTest, WireCall, most_in_window

SCENARIOS = ("clean", "throttled")
PSA_PROJECT, OPPORTUNITY, ACCOUNT = "p-1", "o-1", "a-1"
PROJECT_REF = canonical_id("project", System.CRM, OPPORTUNITY)
CUSTOMER_REF = canonical_id("customer", System.CRM, ACCOUNT)
APPROVED_AT = dt.datetime(2026, 11, 25, 18, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Timings(BurstTimings):
    """The run's clocks (BurstTimings: the account's rolling allocation window, the visibility
    timeout, the delivery size)."""


@dataclass
class SimulatedClock:
    """Seconds that pass only when the consumer waits: the queue's clock and sleep, and the clock
    of the sandbox's request allocation when throttled."""

    seconds: float = 0.0

    def now(self) -> float:
        return self.seconds

    def sleep(self, seconds: float) -> None:
        self.seconds += max(0.0, seconds)


@dataclass(frozen=True)
class Floor:
    writes: int
    reads: int

    @property
    def calls(self) -> int:
        return self.writes + self.reads


def floor_of(lines: int, batch_limit: int, declared: DeclaredCalls) -> Floor:
    batches = math.ceil(lines / batch_limit)
    return Floor(
        writes=batches + declared.writes_per_run,
        reads=declared.reads_per_run + declared.reads_per_write * batches,
    )


def call_counts(calls: list[WireCall], floor: Floor, throttle_status: int, window: float) -> dict[str, Any]:
    """The calls by kind against the floor, and the limits' view: the most calls (tokens apart)
    in any rolling `window` and in progress at once, as the sandbox counted them."""
    kinds = Counter(call.kind for call in calls)
    answered = kinds["read"] + kinds["write"]
    return {
        "floor_writes": floor.writes,
        "floor_reads": floor.reads,
        "floor_calls": floor.calls,
        "writes": kinds["write"],
        "reads": kinds["read"],
        "tokens": kinds["token"],
        "calls": answered,
        f"answered_{throttle_status}": sum(call.status == throttle_status for call in calls),
        "ratio": answered / floor.calls,
        "write_ratio": kinds["write"] / floor.writes,
        "window_seconds": window,
        "max_calls_in_window": most_in_window([call.at for call in calls if call.kind != "token"], window),
        "max_in_flight": max((call.in_flight for call in calls), default=0),
        "lines_sent": sum(call.lines for call in calls),
    }


def on_simulated_clock(budget: RateBudget, clock: SimulatedClock) -> RateBudget:
    """The connector's budget, fresh, with the same policy (Xero's: its minute and day budgets)
    on the run's clock."""
    if isinstance(budget, OrganisationBudget):
        return OrganisationBudget(on_simulated_clock(budget.minute, clock), on_simulated_clock(budget.day, clock))
    return in_memory_budget(budget.policy, budget.key, clock=clock.now, sleep=clock.sleep)


def billing_systems(erp: ErpPort) -> Systems:
    """The ERP under test, and in memory what billing reads besides: the registry with the
    project linked to its PSA id and its customer to the ERP's."""
    customer = erp.upsert_customer(
        Customer(
            account_id=ACCOUNT,
            name=f"Billing Run {time.time_ns()}",
            tax_id="12-3456789",
            currency="USD",
            legal_entity="us-01",
            billing_address=Address(street="1 Main St", city="Boston", country="US"),
        ),
        CUSTOMER_REF,
        None,
    )
    xref = FakeXref()
    xref.link("customer", CUSTOMER_REF, System.ERP, customer.customer_id, "bench")
    xref.link("project", PROJECT_REF, System.PSA, PSA_PROJECT, "bench")
    xref.relate("project", PROJECT_REF, "customer", CUSTOMER_REF)
    return Systems(
        crm=FakeCrm(),
        psa=FakePsa(),
        erp=erp,
        xref=xref,
        bus=FakeBus(),
        rules={"us-01": us_rules()},
        ownership=system_of_record(),
    )


def approved_time(n: int) -> dict[str, TimeApprovedEvent]:
    return {
        str(k): new_event(
            TimeApprovedEvent,
            {
                "time_entry_id": f"te-{k}",
                "project_id": PSA_PROJECT,
                "task_id": "t-1",
                "employee_id": "e-1",
                "worked_on": "2026-11-25",
                "hours": "1.50",
                "billable": True,
                "approved_at": APPROVED_AT,
            },
            legal_entity="us-01",
            occurred_at=APPROVED_AT,
        )
        for k in range(n)
    }


def run_billing(under_test: ErpUnderTest, n: int, timings: Timings, *, throttled: bool) -> dict[str, Any]:
    systems = billing_systems(under_test.erp)
    floor = floor_of(n, under_test.erp.capabilities.batch_limits.invoice_lines, under_test.declared)
    events = approved_time(n)
    clock = SimulatedClock()
    under_test.recorder.clear()
    under_test.recorder.clock = clock.now
    under_test.on_clock(clock.now)
    under_test.vendor.budget = on_simulated_clock(under_test.vendor.budget, clock)
    if throttled:
        under_test.throttle(max(1, floor.calls // 2), timings.window_seconds, clock.now)
    queue = RedeliveringQueue(max_receives=timings.max_receives, sleep=clock.sleep, clock=clock.now)
    queue.send(events)
    deliveries, started = 0, time.monotonic()
    while not queue.empty():
        batch = queue.receive(timings.batch_size)
        deliveries += 1
        outcomes = billing.bill([(key, events[key]) for key in batch], systems)
        failures: dict[str, ConcordError] = {str(k): e for k, e in outcomes.items() if isinstance(e, ConcordError)}
        if unexpected := [e for e in outcomes.values() if isinstance(e, Exception) and not isinstance(e, ConcordError)]:
            raise unexpected[0]
        queue.fail(failures, timings.visibility_timeout)
    elapsed = time.monotonic() - started
    refs = Counter(under_test.line_refs())
    expected = {f"time:te-{k}" for k in range(n)}
    limit = under_test.erp.capabilities.batch_limits.invoice_lines
    counts = call_counts(under_test.recorder.calls(), floor, under_test.throttle_status, under_test.window_seconds)
    return {
        **counts,
        "lines": n,
        "calls_per_line": counts["calls"] / n,
        "batch_floor_per_line": math.ceil(n / limit) / n,
        "lines_sent_per_line": counts["lines_sent"] / n,
        "deliveries": deliveries,
        "lost": len(expected - set(refs)),
        "doubled": sum(count - 1 for count in refs.values() if count > 1),
        "registry": sum(1 for e in events.values() if registry_line(systems, e)),
        "parked": len(queue.parked),
        "elapsed_seconds": elapsed,
        "waited_seconds": clock.now(),
    }


def registry_line(systems: Systems, event: TimeApprovedEvent) -> str | None:
    """The ERP line Concord's registry links to the time entry (None: not billed)."""
    object_type, psa_id = billing.source_ref(event)
    return systems.xref.records_of(object_type, canonical_id(object_type, System.PSA, psa_id)).get(System.ERP)


def run(n: int, timings: Timings = Timings(), kinds: tuple[str, ...] = tuple(ERPS)) -> dict[str, dict[str, Any]]:
    """Every ERP kind, clean then throttled, each on a fresh account: results by "kind/scenario"."""
    results: dict[str, dict[str, Any]] = {}
    for kind in kinds:
        for scenario in SCENARIOS:
            with ERPS[kind]() as under_test:
                results[f"{kind}/{scenario}"] = run_billing(under_test, n, timings, throttled=scenario == "throttled")
    return results


def figures_of(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        figure(
            f"{name}: ERP calls ({run['lines']} lines)",
            run["calls"],
            "calls",
            floor=run["floor_calls"],
            floor_name="batch floor (line writes + declared reads)",
            note=(
                f"{run['writes']} writes, {run['reads']} reads; {run['lines_sent']} lines sent; "
                f"at most {run['max_calls_in_window']} calls a minute, {run['max_in_flight']} at once; "
                f"lost {run['lost']}, doubled {run['doubled']}"
            ),
        )
        for name, run in results.items()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1000, help="approved time entries (invoice lines) in the run")
    parser.add_argument(
        "--window",
        type=float,
        default=Timings.window_seconds,
        help="the account's rolling allocation window when throttled, seconds",
    )
    parser.add_argument("--erps", nargs="+", choices=list(ERPS), default=list(ERPS), help="the ERPs to run")
    args = parser.parse_args()
    timings = replace(Timings(), window_seconds=args.window)
    logger.setLevel("ERROR")  # one line per vendor call would bury the table

    results = run(args.lines, timings, tuple(args.erps))
    command = f"python -m benchmarks.erp_billing --lines {args.lines}"
    if args.erps != list(ERPS):
        command += f" --erps {' '.join(args.erps)}"
    path = write_results(
        "erp_billing",
        {
            **provenance(),
            "command": command,
            "lines": args.lines,
            "timings": timings.__dict__,
            "scenarios": results,
            "figures": figures_of(results),
        },
    )
    info = provenance()
    print(
        f"Billing run of {args.lines} lines through the ERP connectors, sandboxes in-process "
        f"({info['machine']}, commit {info['commit']}): {command}"
    )
    print(
        f"{'run':<28}{'writes':>7}{'reads':>6}{'floor':>6}{'ratio':>6}{'/line':>7}{'floor':>7}{'sent':>7}"
        f"{'/min':>5}{'conc':>5}{'refused':>8}{'lost':>5}{'dbl':>4}{'registry':>9}{'sim s':>7}{'wall s':>7}"
    )
    for name, run_ in results.items():
        refused = next(v for k, v in run_.items() if k.startswith("answered_"))
        print(
            f"{name:<28}{run_['writes']:>7}{run_['reads']:>6}{run_['floor_calls']:>6}{run_['ratio']:>6.2f}"
            f"{run_['calls_per_line']:>7.3f}{run_['batch_floor_per_line']:>7.3f}{run_['lines_sent']:>7}"
            f"{run_['max_calls_in_window']:>5}{run_['max_in_flight']:>5}{refused:>8}{run_['lost']:>5}"
            f"{run_['doubled']:>4}{run_['registry']:>9}{run_['waited_seconds']:>7.0f}{run_['elapsed_seconds']:>7.1f}"
        )
    print(f"written to {path}")


if __name__ == "__main__":
    main()
