"""A burst of N financial-status updates through the Salesforce CRM connector, against the
Salesforce sandbox behind the fault proxy (both in this process), counted by what the sandbox
and the proxy saw.

Each scenario has its own org (sandbox tenant), seeded with N Opportunities through the control
API (not counted), and its own connector; a batching consumer (benchmarks/_burst_consumer.py)
sends the N statuses and resends only what came back failed, after its retry_after or the
visibility timeout, at most `max_receives` times per record:
  clean       no fault: write calls against the floor ceil(N / 200) (sObject Collections)
  allocation  the org's request allocation runs out after half the floor's calls and refills
              over a short rolling window: the sandbox answers 403 REQUEST_LIMIT_EXCEEDED
  outage      after half the floor's write calls the proxy answers the next two with 503
  paced       Concord's own rate budget set low (rate.per_second, burst) and the org's
              allocation per window set to what that budget allows: no 403 expected
sObject Collections update (200 records a call):
https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_update.htm
403 REQUEST_LIMIT_EXCEEDED when the org's allocation is spent:
https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm
Write calls = collection updates the sandbox answered (any status) + those the proxy answered
itself. Lost = records whose status read back from the sandbox's store is not the one sent.
Written twice = records the org acknowledged in more than one answer (seen on the wire); with
these faults a call is applied whole or not at all, so that is every double write there is.

    .venv/bin/python -m benchmarks.salesforce_burst --records 1000
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import httpx

from concord.connectors import salesforce
from concord.connectors.registry import ConnectorContext, Role
from concord.connectors.salesforce.client import COLLECTION_LIMIT
from concord.domain import FinancialStatus
from concord.observability import logger
from concord.local.faults import FaultController, FaultMode, FaultProxy
from concord.local.sandboxes.kit import SandboxController, SandboxServer
from concord.local.sandboxes.salesforce import DEFAULT_CLIENT, SalesforceSandbox
from concord.local.sandboxes.salesforce.objects import crm_org

from ._burst_consumer import COLLECTIONS_PATH, RedeliveringQueue, WriteTap, consume
from ._common import figure, provenance, write_results

SCENARIOS = ("clean", "allocation", "outage", "paced")
STATUS_FIELD = "Concord_Financial_Status__c"
TARGETS = (FinancialStatus.INVOICED, FinancialStatus.PARTIALLY_PAID, FinancialStatus.PAID, FinancialStatus.OVERDUE)


@dataclass(frozen=True)
class Timings:
    """The clocks of the run: SQS visibility timeout, the org's rolling allocation window, and
    Concord's rate ceiling in the paced run."""

    visibility_timeout: float = 1.0
    window_seconds: float = 2.0
    paced_per_second: float = 1.0
    paced_burst: float = 1.0
    batch_size: int = 1000  # messages per delivery (Lambda's SQS batch, with a batching window)
    max_receives: int = 10  # then the dead-letter queue


@dataclass
class Org:
    """One scenario's tenant: the sandbox, the proxy in front of it, their control clients."""

    tenant: str
    server: SandboxServer
    proxy: FaultProxy
    sandbox: SandboxController
    faults: FaultController

    def connection(self, **rate: float) -> dict[str, Any]:
        secret = {"kind": "salesforce", "instance_url": f"{self.proxy.url}/{self.tenant}",
                  "auth": {"type": "client_credentials", "client_id": DEFAULT_CLIENT.client_id,
                           "client_secret": DEFAULT_CLIENT.client_secret.get_secret_value()}}  # type: ignore[union-attr]
        return {**secret, "rate": rate} if rate else secret

    def seed(self, n: int) -> list[str]:
        records = [{"Name": f"Burst {k}", "StageName": "Closed Won", "CloseDate": "2026-03-31",
                    STATUS_FIELD: FinancialStatus.NOT_INVOICED.value} for k in range(n)]
        return [str(record["Id"]) for record in self.sandbox.seed(self.tenant, "Opportunity", records)]

    def stored_statuses(self) -> dict[str, str | None]:
        # Straight from the sandbox's store: no request, nothing counted against the allocation.
        return {row["Id"]: row.get(STATUS_FIELD) for row in self.server.tenant(self.tenant).store.rows("Opportunity")}


@contextmanager
def running_orgs() -> Iterator[Callable[[str], Org]]:
    """The sandbox (one CRM org per scenario) behind the fault proxy; yields Org by tenant."""
    sandbox = SalesforceSandbox(orgs={name: crm_org for name in SCENARIOS})
    with SandboxServer(sandbox, SCENARIOS) as server, FaultProxy(server.url) as proxy:
        control, faults = SandboxController(server.url), FaultController(proxy.url)
        try:
            yield lambda tenant: Org(tenant, server, proxy, control, faults)
        finally:
            control.close()
            faults.close()


def run_scenario(org: Org, n: int, timings: Timings, *, rate: dict[str, float] | None = None,
                 after_write: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Seed N opportunities, send their statuses through the consumer, count and read back."""
    ids = org.seed(n)
    statuses = {record_id: TARGETS[k % len(TARGETS)] for k, record_id in enumerate(ids)}
    tap = WriteTap(httpx.HTTPTransport(), after_write)
    secret = org.connection(**(rate or {}))
    crm = salesforce.connect(Role.CRM, secret, ConnectorContext("us-01", lambda: dict(secret)), transport=tap)
    queue = RedeliveringQueue(max_receives=timings.max_receives)
    queue.send(ids)
    started = time.monotonic()
    try:
        deliveries = consume(crm, statuses, queue, timings.batch_size, timings.visibility_timeout)
    finally:
        crm.client.close()
    elapsed = time.monotonic() - started
    return tally(org, statuses, tap, queue, n, deliveries, elapsed)


def tally(org: Org, statuses: dict[str, FinancialStatus], tap: WriteTap, queue: RedeliveringQueue,
          n: int, deliveries: int, elapsed: float) -> dict[str, Any]:
    served = [call for call in org.sandbox.calls(org.tenant)
              if call.method == "PATCH" and call.path.split("?")[0].endswith(COLLECTIONS_PATH)]
    injected = org.faults.list().injected.get(org.tenant, {})
    injected_503 = injected.get(FaultMode.ERROR, 0)
    stored = org.stored_statuses()
    floor = math.ceil(n / COLLECTION_LIMIT)
    write_calls = len(served) + sum(injected.values())
    budget = org.sandbox.budget(org.tenant)
    return {
        "records": n,
        "write_calls": write_calls,
        "write_calls_seen_by_client": tap.writes,
        "floor": floor,
        "ratio": write_calls / floor,
        "answered_403": sum(1 for call in served if call.status == 403),
        "answered_503": injected_503,
        "lost": sum(1 for record_id, status in statuses.items() if stored.get(record_id) != status.value),
        "written_twice": tap.written_twice(),
        "parked": len(queue.parked),
        "deliveries": deliveries,
        "max_receives_of_a_record": max(queue.receives.values(), default=0),
        "sandbox_budget_after": budget,
        "elapsed_seconds": elapsed,
    }


def paced_allocation(timings: Timings) -> int:
    """What Concord's token bucket can send in one window (burst + rate x window), plus one
    for a request whose answer is still on its way when the window moves."""
    return math.floor(timings.paced_burst + timings.paced_per_second * timings.window_seconds) + 1


def run(n: int, timings: Timings = Timings()) -> dict[str, dict[str, Any]]:
    """Every scenario on a fresh org; results by scenario name."""
    floor = math.ceil(n / COLLECTION_LIMIT)
    results: dict[str, dict[str, Any]] = {}
    with running_orgs() as org_of:
        results["clean"] = run_scenario(org_of("clean"), n, timings)

        allocation = org_of("allocation")
        allocation.sandbox.set_budget(allocation.tenant, max(1, floor // 2), timings.window_seconds)
        results["allocation"] = run_scenario(allocation, n, timings)

        outage = org_of("outage")

        def outage_mid_burst(writes: int) -> None:
            if writes == max(1, floor // 2):
                outage.faults.set(outage.tenant, FaultMode.ERROR, status=503, remaining=2)

        results["outage"] = run_scenario(outage, n, timings, after_write=outage_mid_burst)

        paced = org_of("paced")
        per_window = paced_allocation(timings)
        paced.sandbox.set_budget(paced.tenant, per_window, timings.window_seconds)
        rate = {"per_second": timings.paced_per_second, "burst": timings.paced_burst}
        results["paced"] = {**run_scenario(paced, n, timings, rate=rate),
                            "concord_rate": rate, "sandbox_allocation_per_window": per_window}
    return results


def figures_of(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for name, result in results.items():
        n, floor = result["records"], result["floor"]
        rows.append(figure(f"{name}: write calls ({n} records)", result["write_calls"], "calls", floor,
                           f"ceil({n} / {COLLECTION_LIMIT}) sObject Collections updates"))
        rows.append(figure(f"{name}: records lost", result["lost"], "records",
                           note=f"403s {result['answered_403']}, 503s {result['answered_503']}, "
                                f"written twice {result['written_twice']}, parked {result['parked']}"))
    paced = results["paced"]
    rows.append(figure("paced: seconds for the burst", paced["elapsed_seconds"], "s",
                       note=f"rate.per_second {paced['concord_rate']['per_second']}, "
                            f"{paced['answered_403']} answered 403"))
    return rows


def print_table(results: dict[str, dict[str, Any]]) -> None:
    print(f"{'scenario':11} {'records':>7} {'write calls':>11} {'floor':>5} {'ratio':>5} {'403s':>4} {'503s':>4} "
          f"{'lost':>4} {'twice':>5} {'parked':>6} {'elapsed s':>9}")
    for name, r in results.items():
        print(f"{name:11} {r['records']:7d} {r['write_calls']:11d} {r['floor']:5d} {r['ratio']:5.2f} "
              f"{r['answered_403']:4d} {r['answered_503']:4d} {r['lost']:4d} {r['written_twice']:5d} "
              f"{r['parked']:6d} {r['elapsed_seconds']:9.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1000, help="records in the burst")
    parser.add_argument("--window", type=float, default=Timings.window_seconds,
                        help="the org's rolling allocation window, seconds")
    parser.add_argument("--visibility-timeout", type=float, default=Timings.visibility_timeout,
                        help="seconds before a failed record is delivered again")
    args = parser.parse_args()
    timings = replace(Timings(), window_seconds=args.window, visibility_timeout=args.visibility_timeout)
    logger.setLevel("ERROR")  # one line per vendor call would bury the table

    results = run(args.records, timings)
    command = f"python -m benchmarks.salesforce_burst --records {args.records}"
    path = write_results("salesforce_burst", {
        **provenance(), "command": command, "records": args.records, "timings": timings.__dict__,
        "scenarios": results, "figures": figures_of(results)})

    info = provenance()
    print(f"Salesforce burst through the CRM connector, sandbox behind the fault proxy "
          f"({info['machine']}, commit {info['commit']}): {command}")
    print_table(results)
    paced = results["paced"]
    print(f"paced: Concord's budget at {paced['concord_rate']['per_second']}/s (burst {paced['concord_rate']['burst']}) "
          f"against an allocation of {paced['sandbox_allocation_per_window']} per {timings.window_seconds:g} s: "
          f"{paced['answered_403']} answered 403 in {paced['elapsed_seconds']:.1f} s")
    print(f"written to {path}")


if __name__ == "__main__":
    main()
