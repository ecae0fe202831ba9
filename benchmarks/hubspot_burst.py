"""A burst of N financial-status updates through the HubSpot CRM connector, against the HubSpot
sandbox behind the fault proxy (both in this process), counted by what the sandbox and the proxy
saw.

Each scenario has its own portal (sandbox tenant), seeded with N deals through the control API
(not counted), and its own connector; the batching consumer shared with the Salesforce burst
(benchmarks/_burst_consumer.py) sends the N statuses and resends only what came back failed,
after the visibility timeout, at most `max_receives` times per record:
  clean    no fault: write calls against the floor ceil(N / 100) (batch update, 100 inputs a call)
  burst    the portal's ten-secondly window allows half the floor's calls: the sandbox answers
           429 TEN_SECONDLY_ROLLING until the window rolls on (10 s, as HubSpot's)
  outage   after half the floor's write calls the proxy answers the next two with 503
Batch update (100 inputs a call, 207 Multi-Status per-item errors):
https://developers.hubspot.com/docs/api-reference/2026-03/crm/objects/deals/batch/update-deals
Burst limits per 10 s and the 429 answer:
https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines
Lost = records whose status read back from the sandbox's store is not the one sent; written
twice = records the portal acknowledged in more than one answer (seen on the wire).

    .venv/bin/python -m benchmarks.hubspot_burst --records 1000
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

from concord.connectors import hubspot
from concord.connectors.hubspot.client import BATCH_LIMIT
from concord.connectors.registry import ConnectorContext, Role
from concord.domain import FinancialStatus
from concord.local.faults import FaultController, FaultMode, FaultProxy
from concord.local.sandboxes.hubspot import HubSpotSandbox
from concord.local.sandboxes.kit import SandboxController, SandboxServer
from concord.local.vendors import connection_for
from concord.observability import logger

from ._burst_consumer import (
    BurstTimings,
    RedeliveringQueue,
    WriteTap,
    WriteWire,
    burst_figures,
    consume,
    print_burst_table,
    tally,
)
from ._common import provenance, write_results

SCENARIOS = ("clean", "burst", "outage")
STATUS_PROPERTY = "concord_financial_status"
TARGETS = (FinancialStatus.INVOICED, FinancialStatus.PARTIALLY_PAID, FinancialStatus.PAID, FinancialStatus.OVERDUE)
# HubSpot's ten-secondly window; a 429 names no Retry-After, so a refused record waits out the
# visibility timeout, long enough that the window rolls on within `max_receives` deliveries.
TIMINGS = BurstTimings(visibility_timeout=3.0, window_seconds=10.0)


def _batch_acknowledged(_: httpx.Request, response: httpx.Response) -> list[str]:
    """The deals a batch update saved: its `results` (200, or 207 beside `errors`)."""
    if response.status_code not in (200, 207):
        return []
    return [str(result["id"]) for result in response.json().get("results", [])]


BATCH_UPDATE = WriteWire("POST", "/deals/batch/update", _batch_acknowledged)


@dataclass
class Portal:
    """One scenario's tenant: the sandbox, the proxy in front of it, their control clients."""

    tenant: str
    server: SandboxServer
    proxy: FaultProxy
    sandbox: SandboxController
    faults: FaultController

    def connection(self) -> dict[str, Any]:
        return connection_for("hubspot", f"{self.proxy.url}/{self.tenant}")

    def seed(self, n: int) -> list[str]:
        deals = [
            {
                "dealname": f"Burst {k}",
                "dealstage": "closedwon",
                "closedate": "2026-03-31T00:00:00.000Z",
                STATUS_PROPERTY: FinancialStatus.NOT_INVOICED.value,
            }
            for k in range(n)
        ]
        return [str(deal["id"]) for deal in self.sandbox.seed(self.tenant, "deals", deals)]

    def stored_statuses(self) -> dict[str, str | None]:
        # Straight from the sandbox's store: no request, nothing counted against the window.
        return {row["id"]: row.get(STATUS_PROPERTY) for row in self.server.tenant(self.tenant).store.rows("deals")}


@contextmanager
def running_portals() -> Iterator[Callable[[str], Portal]]:
    """The sandbox (one portal per scenario) behind the fault proxy; yields Portal by tenant."""
    with SandboxServer(HubSpotSandbox(), SCENARIOS) as server, FaultProxy(server.url) as proxy:
        control, faults = SandboxController(server.url), FaultController(proxy.url)
        try:
            yield lambda tenant: Portal(tenant, server, proxy, control, faults)
        finally:
            control.close()
            faults.close()


def run_scenario(
    portal: Portal, n: int, timings: BurstTimings, *, after_write: Callable[[int], None] | None = None
) -> dict[str, Any]:
    """Seed N deals, send their statuses through the consumer, count and read back."""
    ids = portal.seed(n)
    statuses = {deal_id: TARGETS[k % len(TARGETS)] for k, deal_id in enumerate(ids)}
    tap = WriteTap(httpx.HTTPTransport(), BATCH_UPDATE, after_write)
    secret = portal.connection()
    crm = hubspot.connect(Role.CRM, secret, ConnectorContext("us-01", lambda: dict(secret)), transport=tap)
    queue = RedeliveringQueue(max_receives=timings.max_receives)
    queue.send(ids)
    started = time.monotonic()
    try:
        deliveries = consume(crm, statuses, queue, timings.batch_size, timings.visibility_timeout)
    finally:
        crm.client.close()
    elapsed = time.monotonic() - started
    injected = portal.faults.list().injected.get(portal.tenant, {})
    return tally(
        BATCH_UPDATE,
        portal.sandbox.calls(portal.tenant),
        injected,
        429,
        statuses,
        portal.stored_statuses(),
        math.ceil(n / BATCH_LIMIT),
        tap,
        queue,
        deliveries,
        elapsed,
    )


def run(n: int, timings: BurstTimings = TIMINGS) -> dict[str, dict[str, Any]]:
    """Every scenario on a fresh portal; results by scenario name."""
    floor = math.ceil(n / BATCH_LIMIT)
    results: dict[str, dict[str, Any]] = {}
    with running_portals() as portal_of:
        results["clean"] = run_scenario(portal_of("clean"), n, timings)

        burst = portal_of("burst")
        burst.sandbox.set_budget(burst.tenant, max(1, floor // 2), timings.window_seconds)
        results["burst"] = run_scenario(burst, n, timings)

        outage = portal_of("outage")

        def outage_mid_burst(writes: int) -> None:
            if writes == max(1, floor // 2):
                outage.faults.set(outage.tenant, FaultMode.ERROR, status=503, remaining=2)

        results["outage"] = run_scenario(outage, n, timings, after_write=outage_mid_burst)
    return results


def figures_of(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return burst_figures(results, 429, BATCH_LIMIT, "batch updates")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1000, help="records in the burst")
    parser.add_argument(
        "--window", type=float, default=TIMINGS.window_seconds, help="the portal's rolling burst window, seconds"
    )
    parser.add_argument(
        "--visibility-timeout",
        type=float,
        default=TIMINGS.visibility_timeout,
        help="seconds before a failed record is delivered again",
    )
    args = parser.parse_args()
    timings = replace(TIMINGS, window_seconds=args.window, visibility_timeout=args.visibility_timeout)
    logger.setLevel("ERROR")  # one line per vendor call would bury the table

    results = run(args.records, timings)
    command = f"python -m benchmarks.hubspot_burst --records {args.records}"
    path = write_results(
        "hubspot_burst",
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
        f"HubSpot burst through the CRM connector, sandbox behind the fault proxy "
        f"({info['machine']}, commit {info['commit']}): {command}"
    )
    print_burst_table(results, 429)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
