"""`make chaos`: a fault campaign on a dedicated local stack, and a ledger of every event.

On its own stack (free ports, a temporary directory; stopped at the end):
  - the fault proxy breaks the ERP and the PSA on a share of their calls, cycling through 503
    bursts, 429 with Retry-After, connection resets, outages, 502s and latency beyond the
    connectors' client timeout;
  - AccountChanged webhooks from the CRM, each delivered three times (the same delivery twice,
    then a retry with a fresh timestamp), some as out-of-order pairs (a newer change, then an
    older one); malformed events (poison) put on the bus directly;
  - deals won in Tryton's CRM, each pushed to Concord and run through the quote-to-cash saga;
  - the local Lambda runtime killed with SIGKILL mid-batch and mid-saga, then restarted.
The ledger accounts for every injected business event (applied exactly once, parked with its
reason, in flight, lost, duplicated), before and after the operator's redrive (faults cleared,
`concord dlq redrive` of everything but poison, `redrive_saga` for failed sagas). Exit 1 when
anything is lost or duplicated after the redrive.

    .venv/bin/python -m benchmarks.chaos [--facts 30] [--deals 12] [--kills 2] [--probability 0.35]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from concord.local.inspect import LocalView
from concord.local.stack import LocalStack

from ._common import free_port, provenance, write_results
from .chaos_campaign import Campaign, ChaosConfig
from .chaos_ledger import print_ledger


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = ChaosConfig()
    parser.add_argument(
        "--facts", type=int, default=defaults.facts, help="AccountChanged facts, each delivered 3 times"
    )
    parser.add_argument(
        "--pairs", type=int, default=defaults.out_of_order_pairs, help="out-of-order pairs (2 more facts each)"
    )
    parser.add_argument("--poison", type=int, default=defaults.poison)
    parser.add_argument("--deals", type=int, default=defaults.deals)
    parser.add_argument(
        "--approvals",
        type=int,
        default=defaults.approvals,
        help="time entries approved in the PSA while the ERP is faulted (billed in the ERP)",
    )
    parser.add_argument("--kills", type=int, default=defaults.kills, help="kill -9 of the local Lambda runtime")
    parser.add_argument(
        "--probability",
        type=float,
        default=defaults.fault_probability,
        help="probability of a fault on each ERP/PSA call while a fault phase is on",
    )
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--visibility-timeout-cap",
        type=int,
        default=5,
        help="local queue visibility cap (s): how soon a crashed runtime's messages return",
    )
    args = parser.parse_args()
    config = ChaosConfig(
        facts=args.facts,
        out_of_order_pairs=args.pairs,
        poison=args.poison,
        deals=args.deals,
        approvals=args.approvals,
        kills=args.kills,
        fault_probability=args.probability,
        seed=args.seed,
    )

    with tempfile.TemporaryDirectory(prefix="concord-chaos-") as tmp:
        stack = LocalStack(
            Path(tmp) / "stack",
            aws_port=free_port(),
            webhook_port=free_port(),
            lambda_port=free_port(),
            tryton_port=free_port(),
            faults_port=free_port(),
            visibility_timeout_cap=args.visibility_timeout_cap,
        )
        started = time.monotonic()
        print("starting a dedicated local stack ...", flush=True)
        stack.up()
        stack_up_s = time.monotonic() - started
        try:
            campaign = Campaign(stack, LocalView(stack), config, log=lambda line: print(line, flush=True))
            results = campaign.run()
        finally:
            stack.down()

    after = results["after_redrive"]
    ok = after["lost"] == 0 and after["duplicated"] == 0 and after["inconsistent"] == 0
    results = {**provenance(), "stack_up_s": round(stack_up_s, 1), **results, "ok": ok}
    path = write_results("chaos", results)
    injected, faults = results["injected"], results["faults"]
    print(
        f"\nchaos campaign on the local stack ({results['machine']}, commit {results['commit']}, "
        f"{results['duration_s']:.0f} s)"
    )
    print(
        f"injected: {injected['webhook_facts']} webhook facts ({injected['webhook_deliveries']} deliveries, "
        f"{injected['out_of_order_pairs']} out-of-order pairs), {injected['poison']} poison, "
        f"{injected['deals']} deals, {injected['approvals']} approved time entries; "
        f"{len(results['kills'])} kill -9 of the runtime"
    )
    print(
        f"faults: {faults['share_of_calls']:.0%} of ERP/PSA calls "
        + ", ".join(f"{t}: {v['injected']}/{v['calls']}" for t, v in faults["per_target"].items())
        + "; by mode "
        + ", ".join(f"{t}={m}" for t, m in faults["injected"].items())
    )
    print(
        f"webhook answers: {results['webhook_answers']}; retried by the sender on: "
        f"{results['webhook_retried_answers'] or 'nothing'}"
    )
    print(
        f"redrive: {results['redrive']['dlq']['messages']} DLQ message(s) sent back by `concord dlq redrive` "
        f"(poison excluded), {len(results['redrive']['sagas'])} saga(s) redriven with redrive_saga"
    )
    if faults["share_of_calls"] < 0.3:
        print(
            f"WARNING: only {faults['share_of_calls']:.0%} of ERP/PSA calls were faulted (target 30%): "
            "raise --probability"
        )
    print_ledger(results)
    for category in ("lost", "duplicated", "inconsistent", "parked", "unreported"):
        for item in after["details"].get(category, [])[:10]:
            print(f"  after redrive, {category}: {item}")
    print(f"written to {path}")
    print("OK: nothing lost, nothing duplicated" if ok else "FAILED: events lost or duplicated after redrive")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
