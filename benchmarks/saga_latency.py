"""Quote-to-cash latency on the local stack against real Tryton, and the systems' set-up cost.

For each of N deals: a sales rep wins an opportunity in Tryton CRM (push → ingest → bus →
queue → start → Step Functions), and the saga's steps run against Tryton CRM, ERP and PSA.
Reports per-step and whole-saga latency (median, p95, p99) from the executions' histories,
and "won → project active" from the CRM's confirmation to the execution's end. Set-up:
building the Tryton cache from nothing (--fresh-cache) and restoring a stack's databases
from the snapshot.

    .venv/bin/python -m benchmarks.saga_latency --sagas 50 [--fresh-cache]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from pathlib import Path

from concord.local.sagas import steps, wait_for_execution
from concord.local.scenarios.tryton import SalesRep, crm_client, random_ein
from concord.local.stack import LocalStack, aws_client
from concord.local.systems import LocalSystems, cache_home

from ._common import free_port, percentiles, provenance, write_results

STEP_ORDER = [
    "ValidateCustomer",
    "UpsertErpCustomer",
    "CreatePsaProject",
    "AssignBillingTerms",
    "MapRevenueSchedule",
    "PublishProjectActivated",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sagas", type=int, default=50)
    parser.add_argument(
        "--fresh-cache", action="store_true", help="also time installing and seeding Tryton from nothing"
    )
    args = parser.parse_args()

    setup: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="concord-bench-") as tmp:
        if args.fresh_cache:
            os.environ["CONCORD_TRYTON_HOME"] = str(Path(tmp) / "tryton-cache")
            started = time.monotonic()
            LocalSystems(Path(tmp) / "probe", "127.0.0.1", free_port(), free_port(), cache_home()).prepare()
            setup["tryton_first_install_and_seed_s"] = time.monotonic() - started
        stack = LocalStack(
            Path(tmp) / "stack",
            aws_port=free_port(),
            webhook_port=free_port(),
            lambda_port=free_port(),
            tryton_port=free_port(),
            faults_port=free_port(),
        )
        started = time.monotonic()
        stack.up()
        setup["stack_up_s"] = time.monotonic() - started
        try:
            systems = stack.systems()
            started = time.monotonic()
            systems.reset()
            setup["snapshot_restore_with_restart_s"] = time.monotonic() - started
            sfn = aws_client(stack.current_state(), "stepfunctions")
            rep = SalesRep(crm_client(systems))

            per_step: dict[str, list[float]] = {name: [] for name in STEP_ORDER}
            whole, won_to_active = [], []
            for n in range(args.sagas + 2):
                account = rep.create_account(
                    f"Bench Client {n}", street="1 Main Street", city="Boston", country="US", tax_id=random_ein()
                )
                opportunity = str(rep.win_opportunity(account, f"Bench deal {n}", [("Discovery", 8), ("Build", 40)]))
                won_at = dt.datetime.now(dt.UTC)
                execution = wait_for_execution(sfn, opportunity)
                if execution["status"] != "SUCCEEDED":
                    raise SystemExit(f"saga {execution['name']} ended {execution['status']}")
                if n < 2:
                    continue  # warm-up: cold starts of the step functions are not saga latency
                whole.append((execution["stopDate"] - execution["startDate"]).total_seconds() * 1000)
                won_to_active.append((execution["stopDate"] - won_at).total_seconds() * 1000)
                for run in steps(sfn, execution["executionArn"]):
                    if run.state in per_step and run.duration_ms is not None:
                        per_step[run.state].append(run.duration_ms)
        finally:
            stack.down()

    results = {
        **provenance(),
        "sagas": args.sagas,
        "setup_seconds": setup,
        "saga_ms": percentiles(whole),
        "won_to_project_active_ms": percentiles(won_to_active),
        "step_ms": {name: percentiles(values) for name, values in per_step.items()},
    }
    path = write_results("saga_latency", results)
    print(f"quote-to-cash on the local stack ({results['machine']}, commit {results['commit']}, {args.sagas} sagas)")
    print(f"{'':32} {'median':>9} {'p95':>9} {'p99':>9}")
    for name, row in [
        ("whole saga", results["saga_ms"]),
        ("won -> project active", results["won_to_project_active_ms"]),
        *results["step_ms"].items(),
    ]:
        print(f"{name:32} {row['median']:9.1f} {row['p95']:9.1f} {row['p99']:9.1f}")
    for name, seconds in setup.items():
        print(f"{name:32} {seconds:9.1f} s")
    print(f"written to {path}")


if __name__ == "__main__":
    main()
