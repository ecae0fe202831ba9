"""A billing run of N approved time entries (N invoice lines on one project) through Concord's
billing flow (concord.sync.billing) and each ERP connector available in-process, against its
sandbox, counting the ERP calls by kind as the sandbox saw them.

The floor of a run is the vendor's batch floor: ceil(N / batch_limits.invoice_lines) line writes,
plus the reads the connector declares (DECLARED_READS: per write, the look-up of lines already
billed before it and of the line ids after it, and the order's status; per run, the draft and
item look-ups). The ratio is the calls answered (token requests apart) over that floor.
Each ERP runs twice, on a fresh account:
  clean      no fault: the calls against the floor (goal: at most 1.1x)
  throttled  the account's request allocation runs out after half the floor's calls and refills
             over a short rolling window (NetSuite answers 429): failed records come back after
             their retry_after or the visibility timeout, as SQS redelivers them
Lost = entries whose line is not on the ERP; doubled = a concord_ref on more than one line
(read straight from the sandbox's store); registry = lines Concord linked in its registry.

    .venv/bin/python -m benchmarks.erp_billing --lines 1000

Business Central and Dynamics 365 Finance join with an entry in ERPS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from typing import Any

from concord.connectors import netsuite
from concord.connectors.registry import ConnectorContext, Role
from concord.domain import Customer
from concord.errors import ConcordError
from concord.events import new_event
from concord.events.envelope import TimeApprovedEvent
from concord.events.types import Address, System
from concord.local.sandboxes.kit import SandboxServer
from concord.local.sandboxes.kit.tenant import Call
from concord.local.sandboxes.netsuite import NetSuiteSandbox
from concord.local.vendors import netsuite_connection
from concord.observability import logger
from concord.ports import ErpPort
from concord.sync import billing
from concord.sync.ids import canonical_id
from concord.sync.systems import Systems
from tests.unit.fakes import FakeBus, FakeCrm, FakePsa, FakeXref, system_of_record, us_rules

from ._burst_consumer import BurstTimings, RedeliveringQueue
from ._common import figure, provenance, write_results

SCENARIOS = ("clean", "throttled")
PSA_PROJECT, OPPORTUNITY, ACCOUNT = "p-1", "o-1", "a-1"
PROJECT_REF = canonical_id("project", System.CRM, OPPORTUNITY)
CUSTOMER_REF = canonical_id("customer", System.CRM, ACCOUNT)
APPROVED_AT = dt.datetime(2026, 11, 25, 18, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Timings(BurstTimings):
    """The run's clocks (BurstTimings: the account's rolling allocation window, the visibility
    timeout, the delivery size)."""


@dataclass(frozen=True)
class DeclaredReads:
    per_write: int
    per_run: int


@dataclass(frozen=True)
class Floor:
    writes: int
    reads: int

    @property
    def calls(self) -> int:
        return self.writes + self.reads


def floor_of(lines: int, batch_limit: int, declared: DeclaredReads) -> Floor:
    writes = math.ceil(lines / batch_limit)
    return Floor(writes=writes, reads=declared.per_run + declared.per_write * writes)


def kind_of(call: Call) -> str:
    """token, read or write: SuiteQL and GETs read; record POST, PUT, PATCH write."""
    if call.path.endswith("/oauth2/v1/token"):
        return "token"
    if call.method == "GET" or call.path.endswith("/query/v1/suiteql"):
        return "read"
    return "write"


def call_counts(calls: list[Call], floor: Floor, throttle_status: int) -> dict[str, Any]:
    kinds = Counter(kind_of(call) for call in calls)
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
    }


@dataclass
class ErpUnderTest:
    """One ERP account in its sandbox, with what the benchmark reads of it without a request."""

    erp: ErpPort
    calls: Callable[[], list[Call]]
    clear_calls: Callable[[], None]
    throttle: Callable[[int, float], None]  # allocation, window seconds
    line_refs: Callable[[], list[str]]  # the concord_ref of every line on the ERP's documents
    declared: DeclaredReads
    throttle_status: int


@contextmanager
def netsuite_account() -> Iterator[ErpUnderTest]:
    with SandboxServer(NetSuiteSandbox(), ["erp"]) as server:
        secret = netsuite_connection(f"{server.url}/erp")
        erp = netsuite.connect(Role.ERP, secret, ConnectorContext("us-01", lambda: dict(secret)))
        tenant = server.tenant("erp")

        def line_refs() -> list[str]:
            return [
                str(line.get("custcol_concord_ref"))
                for order in tenant.store.rows("salesOrder")
                for line in (order.get("item") or {}).get("items") or []
            ]

        try:
            # Reads: per write, the lines already billed (by ref), the order's status, the new
            # lines' ids; per run, the open draft and the items' ids (the currency's is cached).
            yield ErpUnderTest(
                erp,
                tenant.calls.calls,
                tenant.calls.clear,
                lambda allocation, window: tenant.budget.configure(allocation, window),
                line_refs,
                DeclaredReads(per_write=3, per_run=2),
                throttle_status=429,
            )
        finally:
            erp.client.close()


ERPS: dict[str, Callable[[], AbstractContextManager[ErpUnderTest]]] = {"netsuite": netsuite_account}


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
        bus=FakeBus(),  # type: ignore[arg-type]
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
    under_test.clear_calls()
    if throttled:
        under_test.throttle(max(1, floor.calls // 2), timings.window_seconds)
    queue = RedeliveringQueue(max_receives=timings.max_receives)
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
    return {
        **call_counts(under_test.calls(), floor, under_test.throttle_status),
        "lines": n,
        "deliveries": deliveries,
        "lost": len(expected - set(refs)),
        "doubled": sum(count - 1 for count in refs.values() if count > 1),
        "registry": sum(1 for e in events.values() if registry_line(systems, e)),
        "parked": len(queue.parked),
        "elapsed_seconds": elapsed,
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
            note=f"{run['writes']} writes, {run['reads']} reads; lost {run['lost']}, doubled {run['doubled']}",
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
    args = parser.parse_args()
    timings = replace(Timings(), window_seconds=args.window)
    logger.setLevel("ERROR")  # one line per vendor call would bury the table

    results = run(args.lines, timings)
    command = f"python -m benchmarks.erp_billing --lines {args.lines}"
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
        f"{'run':<22}{'writes':>8}{'reads':>7}{'floor':>7}{'ratio':>7}{'throttled':>10}{'lost':>6}"
        f"{'doubled':>8}{'registry':>9}{'seconds':>9}"
    )
    for name, run_ in results.items():
        refused = next(v for k, v in run_.items() if k.startswith("answered_"))
        print(
            f"{name:<22}{run_['writes']:>8}{run_['reads']:>7}{run_['floor_calls']:>7}{run_['ratio']:>7.2f}"
            f"{refused:>10}{run_['lost']:>6}{run_['doubled']:>8}{run_['registry']:>9}{run_['elapsed_seconds']:>9.1f}"
        )
    print(f"written to {path}")


if __name__ == "__main__":
    main()
