"""The operator's part of a chaos campaign, once the faults are cleared: `concord dlq redrive`
of each message the campaign parked in a DLQ (poison excepted), then redrive_saga for every deal
whose last saga failed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from concord.aws.sagas import redrive_saga

from .chaos_ledger import Accountant, Injected


def cli_redrive(state_dir: Path, queue: str, event_id: str) -> dict[str, Any]:
    """`concord dlq redrive --local` of one parked message, as an operator runs it."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "concord.cli",
            "dlq",
            "redrive",
            "--local",
            "--json",
            "--queue",
            queue,
            "--filter",
            f"id={event_id}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "CONCORD_LOCAL_DIR": str(state_dir), "COLUMNS": "200"},
    )
    try:
        outcome = json.loads(result.stdout) if result.stdout.strip() else None
    except json.JSONDecodeError:
        outcome = result.stdout[-2000:]
    matched = outcome.get("matched", 0) if isinstance(outcome, dict) else 0
    return {
        "queue": queue,
        "event_id": event_id,
        "exit_code": result.returncode,
        "matched": matched,
        "stderr": result.stderr[-500:],
    }


def redrive_campaign(
    accountant: Accountant, injected: Injected, sfn: Any, state_dir: Path, mark: Callable[[str], None]
) -> dict[str, Any]:
    """Redrive only this campaign's parked messages (the stack may be shared with other tests)
    and failed sagas; returns what was sent back."""
    ledger = accountant.ledger(injected)
    poison = set(injected.poison_ids)
    targets = {
        (item["queue"], item["event_id"])
        for item in ledger.details.get("parked", [])
        if item.get("queue") and item.get("event_id") and item["event_id"] not in poison
    }
    runs = [cli_redrive(state_dir, queue, event_id) for queue, event_id in sorted(targets)]
    dlq = {
        "messages": sum(r["matched"] for r in runs),
        "runs": runs,
        "poison_left_parked": len(ledger.details.get("parked_poison", [])),
    }
    mark(f"concord dlq redrive: {dlq['messages']} message(s) sent back; {dlq['poison_left_parked']} poison left parked")

    sagas = []
    executions_by_opportunity = accountant.executions_by_opportunity()
    for deal in injected.deals:
        executions = executions_by_opportunity.get(deal.opportunity_id, [])
        statuses = [e["status"] for e in executions]
        if executions and "SUCCEEDED" not in statuses and "RUNNING" not in statuses:
            arn = redrive_saga(sfn, executions[-1]["executionArn"])
            sagas.append({"opportunity": deal.opportunity_id, "redrive": arn.rsplit(":", 1)[-1]})
    mark(f"redrive_saga for {len(sagas)} failed saga(s)")
    return {"dlq": dlq, "sagas": sagas}
