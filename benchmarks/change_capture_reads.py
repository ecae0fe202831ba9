"""Change capture's reads of the PSA: N time entries approved in Tryton, then the poller run for
several minutes' worth of polls (a simulated clock: the polls follow each other at once), every
PSA call counted. The PSA sits behind the proxy a function's connectors sit behind
(concord.aws.systems.RoleConnector), so what is measured is the live path.

Floor: ceil(N / page size) page reads for the poll that finds the approvals, and one read for each
poll that finds nothing new (a poll must ask). Each entry must be announced exactly once.

    python -m benchmarks.change_capture_reads --entries 200 --polls 6
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import uuid
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from concord.aws.systems import RoleConnector
from concord.connectors.tryton import TrytonPsa, TrytonRpcClient
from concord.domain import ProjectPlan, TaskPlan
from concord.events import Envelope
from concord.events.types import Money
from concord.local.scenarios.tryton import SERVICE_CODE, Consultant
from concord.local.tryton import (
    ADMIN_LOGIN,
    admin_password,
    ensure_databases,
    ensure_installed,
    restore_snapshot,
    running_server,
    start_server,
    stop_server,
)
from concord.sync.change_capture import capture, watch_for

from ._common import REPO_ROOT, figure, free_port, provenance, ratio, write_results

WATCH = "psa:time_entry"


class CountingClient:
    """A Tryton client that counts its calls by method (what the poller costs the PSA)."""

    def __init__(self, client: TrytonRpcClient) -> None:
        self._client = client
        self.calls: Counter[str] = Counter()

    def call(self, method: str, *params: Any, context: dict[str, Any] | None = None) -> Any:
        self.calls[method] += 1
        return self._client.call(method, *params, context=context)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


class Checkpoints:
    def __init__(self) -> None:
        self.saved: dict[str, str] = {}

    def load(self, key: str) -> str | None:
        return self.saved.get(key)

    def save(self, key: str, cursor: str) -> None:
        self.saved[key] = cursor


class Bus:
    def __init__(self) -> None:
        self.events: list[Envelope] = []

    def publish(self, events: Sequence[Envelope]) -> None:
        self.events += events


def approve_entries(client: TrytonRpcClient, n: int, batch: int) -> None:
    """N one-hour lines on a new project, approved `batch` at a time (one transaction each)."""
    plan = ProjectPlan(
        external_ref=f"bench-{uuid.uuid4().hex[:8]}",
        name="Capture bench",
        customer_ref="bench",
        customer_name="Capture Bench Ltd",
        budget=Money(amount=Decimal(1000), currency="USD"),
        tasks=[TaskPlan(name="Delivery", service_item=SERVICE_CODE)],
    )
    project = TrytonPsa(client).create_project(plan)
    consultant = Consultant(client)
    lines = [consultant.log_time(project.project_id, 1) for _ in range(n)]
    for start in range(0, n, batch):
        consultant.approve(lines[start : start + batch])


def run(client: TrytonRpcClient, n: int, polls: int, page_size: int, batch: int) -> dict[str, Any]:
    counting = CountingClient(client)
    tryton_psa = TrytonPsa(counting)  # type: ignore[arg-type]
    psa = RoleConnector(lambda: tryton_psa)  # as connectors_for() gives it to a function
    now = dt.datetime.now(dt.UTC)
    checkpoints, bus = Checkpoints(), Bus()

    def poll(minute: int) -> dict[str, int]:
        at = now + dt.timedelta(minutes=minute)
        watch = watch_for("psa", "time_entry", "psa", (None, psa, None), "us-01", clock=lambda: at)  # type: ignore[arg-type]
        before = sum(counting.calls.values())
        report = capture(watch, checkpoints, bus, at, page_size=page_size)
        return {
            "minute": minute,
            "changes": report.changes,
            "events": report.events,
            "calls": sum(counting.calls.values()) - before,
        }

    poll(0)  # sets the checkpoint: the approvals come after it
    approve_entries(client, n, batch)
    runs = [poll(minute) for minute in range(1, polls + 1)]
    ids = [event.id for event in bus.events]
    reads = sum(r["calls"] for r in runs)
    floor = math.ceil(n / page_size) + (polls - 1)
    return {
        "entries": n,
        "polls": polls,
        "page_size": page_size,
        "approved_per_transaction": batch,
        "polls_run": runs,
        "calls_by_method": dict(counting.calls),
        "reads": reads,
        "floor": floor,
        "ratio": ratio(reads, floor),
        "idle_poll_reads": [r["calls"] for r in runs[1:]],
        "announced": len(ids),
        "duplicates": len(ids) - len(set(ids)),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=200)
    parser.add_argument("--polls", type=int, default=6, help="one per simulated minute")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--batch", type=int, default=10, help="entries approved per transaction")
    args = parser.parse_args(argv)

    home = Path(os.environ.get("CONCORD_TRYTON_HOME") or REPO_ROOT / ".local-stack" / "tryton").resolve()
    if running_server(home):
        raise SystemExit(f"a Tryton server of {home} is running: stop it first (the benchmark restores the snapshot)")
    ensure_installed(home)
    ensure_databases(home)
    restore_snapshot(home)
    server = start_server(home, free_port())
    try:
        client = TrytonRpcClient(server.url, "psa", ADMIN_LOGIN, admin_password(home))
        measured = run(client, args.entries, args.polls, args.page_size, args.batch)
        client.close()
    finally:
        stop_server(home)

    results = {
        **provenance(),
        **measured,
        "figures": [
            figure(
                f"change capture: PSA reads, {args.entries} approvals then {args.polls - 1} idle polls",
                measured["reads"],
                "calls",
                measured["floor"],
                "ceil(changed / page size) + 1 per idle poll",
                note=f"{measured['duplicates']} announced twice",
            ),
        ],
    }
    path = write_results("change_capture_reads", results)
    print(
        f"change capture on Tryton PSA ({results['machine']}, commit {results['commit']}): "
        f"{args.entries} approvals, {args.polls} polls, page size {args.page_size}"
    )
    for r in measured["polls_run"]:
        print(f"  minute {r['minute']}: {r['changes']:4d} changes, {r['events']:4d} events, {r['calls']:4d} PSA calls")
    print(
        f"  reads {measured['reads']} vs floor {measured['floor']} = {measured['ratio']:.2f}x; "
        f"announced {measured['announced']}, {measured['duplicates']} twice; by method {measured['calls_by_method']}"
    )
    print(f"written to {path}")


if __name__ == "__main__":
    main()
