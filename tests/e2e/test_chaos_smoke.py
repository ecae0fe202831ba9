"""A small `make chaos`: a handful of webhooks (each delivered three times, an out-of-order
pair, a poison record), a few deals and a few approved time entries, with ERP/PSA faults and
one kill -9 of the runtime, then the operator's redrive. The ledger must show nothing lost and
nothing duplicated."""

from __future__ import annotations

import pytest

from benchmarks.chaos_campaign import Campaign, ChaosConfig
from concord.local.faults import FaultController
from concord.local.inspect import LocalView
from concord.local.stack import LocalStack

pytestmark = pytest.mark.e2e

SMOKE = ChaosConfig(
    facts=4,
    out_of_order_pairs=1,
    poison=1,
    deals=2,
    approvals=4,
    billing_projects=1,
    kills=1,
    fault_probability=0.3,
    fault_phase_seconds=3.0,
    # no latency beyond the 30 s client timeout here: it would cost half the time budget
    fault_cycle=(("error", {"status": 503}), ("throttle", {"retry_after": 1}), ("reset", {}), ("outage", {})),
    sender_workers=3,
    deal_gap_seconds=0.2,
    settle_timeout=40,
    redrive_timeout=40,
    seed=8,
)


def test_a_small_chaos_campaign_loses_nothing_and_duplicates_nothing(local_stack: LocalStack, view: LocalView) -> None:
    systems = local_stack.systems()
    assert systems is not None, "the e2e stack must run with its business systems"
    campaign = Campaign(local_stack, view, SMOKE, log=lambda line: None)
    try:
        results = campaign.run()
    finally:
        FaultController(systems.faults_url).clear()

    after = results["after_redrive"]
    assert len(results["kills"]) == 1
    assert results["injected"]["webhook_facts"] == 6 and results["injected"]["deals"] == 2
    assert results["injected"]["approvals"] == 4
    assert after["lost"] == 0, after["details"]
    assert after["duplicated"] == 0, after["details"]
    # every webhook fact, deal and approval applied once (approvals: one ERP invoice line each);
    # the poison parked with its reason
    assert after["applied"] == 6 + 2 + 4, after["details"]
    assert after["parked_poison"] == 1 and all(p["reasons"] for p in after["details"]["parked_poison"])
