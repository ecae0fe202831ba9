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
import json
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
from concord.local.faults import FaultController, FaultMode, FaultProxy
from concord.local.sandboxes.kit import SandboxController, SandboxServer
from concord.local.sandboxes.salesforce import DEFAULT_CLIENT, SalesforceSandbox
from concord.local.sandboxes.salesforce.objects import crm_org
from concord.observability import logger

from ._burst_consumer import (
    BurstTimings,
    RedeliveringQueue,
    WriteTap,
    WriteWire,
    burst_figures,
    consume,
    print_burst_table,
)
from ._burst_consumer import tally as burst_tally
from ._common import figure, provenance, write_results

SCENARIOS = ("clean", "allocation", "outage", "paced")
STATUS_FIELD = "Concord_Financial_Status__c"
COLLECTIONS_PATH = "/composite/sobjects"


def _collection_acknowledged(request: httpx.Request, response: httpx.Response) -> list[str]:
    """The records an sObject Collections update saved: `success: true`, in request order."""
    if response.status_code != 200:
        return []
    sent = [record["id"] for record in json.loads(request.content)["records"]]
    return [rid for rid, answer in zip(sent, response.json(), strict=True) if answer["success"]]


COLLECTIONS_WRITE = WriteWire("PATCH", COLLECTIONS_PATH, _collection_acknowledged)
TARGETS = (FinancialStatus.INVOICED, FinancialStatus.PARTIALLY_PAID, FinancialStatus.PAID, FinancialStatus.OVERDUE)


@dataclass(frozen=True)
class Timings(BurstTimings):
    """The run's clocks (BurstTimings: the org's rolling allocation window) and Concord's rate
    ceiling in the paced run."""

    paced_per_second: float = 1.0
    paced_burst: float = 1.0


@dataclass
class Org:
    """One scenario's tenant: the sandbox, the proxy in front of it, their control clients."""

    tenant: str
    server: SandboxServer
    proxy: FaultProxy
    sandbox: SandboxController
    faults: FaultController

    def connection(self, **rate: float) -> dict[str, Any]:
        secret = {
            "kind": "salesforce",
            "instance_url": f"{self.proxy.url}/{self.tenant}",
            "auth": {
                "type": "client_credentials",
                "client_id": DEFAULT_CLIENT.client_id,
                "client_secret": DEFAULT_CLIENT.client_secret.get_secret_value(),
            },
        }  # type: ignore[union-attr]
        return {**secret, "rate": rate} if rate else secret

    def seed(self, n: int) -> list[str]:
        records = [
            {
                "Name": f"Burst {k}",
                "StageName": "Closed Won",
                "CloseDate": "2026-03-31",
                STATUS_FIELD: FinancialStatus.NOT_INVOICED.value,
            }
            for k in range(n)
        ]
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


def run_scenario(
    org: Org,
    n: int,
    timings: Timings,
    *,
    rate: dict[str, float] | None = None,
    after_write: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Seed N opportunities, send their statuses through the consumer, count and read back."""
    ids = org.seed(n)
    statuses = {record_id: TARGETS[k % len(TARGETS)] for k, record_id in enumerate(ids)}
    tap = WriteTap(httpx.HTTPTransport(), COLLECTIONS_WRITE, after_write)
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


def tally(
    org: Org,
    statuses: dict[str, FinancialStatus],
    tap: WriteTap,
    queue: RedeliveringQueue,
    n: int,
    deliveries: int,
    elapsed: float,
) -> dict[str, Any]:
    injected = org.faults.list().injected.get(org.tenant, {})
    counts = burst_tally(
        COLLECTIONS_WRITE,
        org.sandbox.calls(org.tenant),
        injected,
        403,
        statuses,
        org.stored_statuses(),
        math.ceil(n / COLLECTION_LIMIT),
        tap,
        queue,
        deliveries,
        elapsed,
    )
    return {**counts, "sandbox_budget_after": org.sandbox.budget(org.tenant)}


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
        results["paced"] = {
            **run_scenario(paced, n, timings, rate=rate),
            "concord_rate": rate,
            "sandbox_allocation_per_window": per_window,
        }
    return results


def figures_of(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    rows = burst_figures(results, 403, COLLECTION_LIMIT, "sObject Collections updates")
    paced = results["paced"]
    rows.append(
        figure(
            "paced: seconds for the burst",
            paced["elapsed_seconds"],
            "s",
            note=f"rate.per_second {paced['concord_rate']['per_second']}, {paced['answered_403']} answered 403",
        )
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1000, help="records in the burst")
    parser.add_argument(
        "--window", type=float, default=Timings.window_seconds, help="the org's rolling allocation window, seconds"
    )
    parser.add_argument(
        "--visibility-timeout",
        type=float,
        default=Timings.visibility_timeout,
        help="seconds before a failed record is delivered again",
    )
    args = parser.parse_args()
    timings = replace(Timings(), window_seconds=args.window, visibility_timeout=args.visibility_timeout)
    logger.setLevel("ERROR")  # one line per vendor call would bury the table

    results = run(args.records, timings)
    command = f"python -m benchmarks.salesforce_burst --records {args.records}"
    path = write_results(
        "salesforce_burst",
        {
            **provenance(),
            "command": command,
            "records": args.records,
            "timings": timings.__dict__,
            "scenarios": results,
            "figures": figures_of(results),
        },
    )

    info = provenance()
    print(
        f"Salesforce burst through the CRM connector, sandbox behind the fault proxy "
        f"({info['machine']}, commit {info['commit']}): {command}"
    )
    print_burst_table(results, 403)
    paced = results["paced"]
    print(
        f"paced: Concord's budget at {paced['concord_rate']['per_second']}/s (burst {paced['concord_rate']['burst']}) "
        f"against an allocation of {paced['sandbox_allocation_per_window']} per {timings.window_seconds:g} s: "
        f"{paced['answered_403']} answered 403 in {paced['elapsed_seconds']:.1f} s"
    )
    print(f"written to {path}")


if __name__ == "__main__":
    main()
