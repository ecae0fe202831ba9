"""The chaos campaign, shared by `make chaos` (benchmarks/chaos.py) and the smoke test
(tests/e2e/test_chaos_smoke.py); its accounts (the ledger) are in chaos_ledger.py, its
webhook deliveries in chaos_webhooks.py, the operator's redrive in chaos_redrive.py.

Injected business events:
  - webhook facts: AccountChanged from the CRM, each delivered three times (the same delivery
    twice, then once more with a fresh webhook-timestamp), some as out-of-order pairs (a newer
    change of an account, then an older one); a vendor that retries on 5xx / no answer;
  - poison records: malformed AccountChanged put on the bus directly;
  - deals: an account and a won opportunity in Tryton's CRM (push -> quote-to-cash saga);
  - approvals: time logged and approved in Tryton's PSA on projects activated before the
    faults start (push -> TimeApproved -> billed on the project's ERP invoice).
Meanwhile the fault proxy breaks the ERP and the PSA (503 bursts, 429 + Retry-After, resets,
outages, latency beyond the client timeout) and the local Lambda runtime is killed with
SIGKILL and restarted. The ledger then accounts for every injected event.
"""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from concord.catalog import CHANGE_CAPTURE
from concord.local.consistency import SystemsView
from concord.local.faults import FaultController
from concord.local.inspect import LocalView
from concord.local.runtime.schedules import scheduled_event
from concord.local.sagas import machine_arn, wait_for_execution
from concord.local.scenarios.tryton import (
    Consultant,
    SalesRep,
    crm_client,
    random_ein,
    user_client,
)
from concord.local.stack import STACK_NAME, LocalStack, aws_client
from concord.local.state import StackState
from concord.sync.ids import canonical_id

from .chaos_ledger import Accountant, Approval, Deal, Injected, Ledger
from .chaos_redrive import redrive_campaign
from .chaos_webhooks import WebhookSender

FAULT_TARGETS = ("erp", "psa")
# (mode, extra FaultController.set arguments); latency beyond the connectors' 30 s client
# timeout (and the steps' 30 s Lambda timeout) is costly, so it hits one call per target.
# A "quiet" phase clears the faults: sagas that run through one succeed, the others fail,
# compensate and are redriven.
# "seconds" overrides the phase's length (fault_phase_seconds).
DEFAULT_FAULT_CYCLE: tuple[tuple[str, dict[str, Any]], ...] = (
    ("error", {"status": 503}),
    ("throttle", {"retry_after": 1}),
    ("quiet", {"seconds": 2}),
    ("reset", {}),
    ("outage", {}),
    ("error", {"status": 502}),
    ("latency", {"latency_ms": 31_000, "remaining": 1, "seconds": 2}),
    ("quiet", {"seconds": 2}),
)


@dataclass
class ChaosConfig:
    facts: int = 100  # AccountChanged facts (each delivered 3 times)
    out_of_order_pairs: int = 10  # extra facts: a newer change, then an older one
    poison: int = 5
    deals: int = 40
    approvals: int = 30  # time entries approved in the PSA while the ERP is faulted
    billing_projects: int = 2  # projects the approvals are spread over (activated before the faults)
    kills: int = 2
    fault_probability: float = 0.7  # while a fault phase is on
    fault_phase_seconds: float = 6.0
    fault_cycle: tuple[tuple[str, dict[str, Any]], ...] = DEFAULT_FAULT_CYCLE
    sender_workers: int = 4
    deal_gap_seconds: float = 1.0
    settle_timeout: float = 300.0
    redrive_timeout: float = 300.0
    extra_redrives: int = 3  # further redrive rounds for what failed again after the first
    seed: int | None = None


class Campaign:
    def __init__(self, stack: LocalStack, view: LocalView, config: ChaosConfig, log: Any = print) -> None:
        self.stack, self.view, self.config, self.log = stack, view, config, log
        self.rng = random.Random(config.seed)
        systems = stack.systems()
        assert systems is not None, "the chaos campaign needs the stack's business systems"
        self.systems = systems
        self.faults = FaultController(systems.faults_url)
        self.sfn = aws_client(view.state, "stepfunctions")
        self.rep = SalesRep(crm_client(systems))
        self.tryton = SystemsView.direct(systems)
        self.run_id = uuid.uuid4().hex[:8]
        self.injected = Injected()
        self.webhooks = WebhookSender(f"{view.state.webhook_url}/crm", self.run_id, self.rng, self.injected)
        self.accountant = Accountant(view, self.sfn, self.tryton)
        self.billing_projects: list[tuple[str, str]] = []  # (PSA project id, project ref)
        self.kills: list[dict[str, Any]] = []
        self.timeline: list[tuple[float, str]] = []
        self._stop_faults = threading.Event()
        self._started = time.monotonic()
        self._last_poll = self._started  # the campaign's last change capture run

    def _mark(self, what: str) -> None:
        self.timeline.append((round(time.monotonic() - self._started, 1), what))
        self.log(f"  [{time.monotonic() - self._started:6.1f}s] {what}")

    # -------------------------------------------------------------------------- faults

    def _cycle_faults(self) -> None:
        phase = 0
        while not self._stop_faults.is_set():
            mode, extra = self.config.fault_cycle[phase % len(self.config.fault_cycle)]
            extra = dict(extra)
            seconds = extra.pop("seconds", self.config.fault_phase_seconds)
            for target in FAULT_TARGETS:
                if mode == "quiet":
                    self.faults.clear(target)
                else:
                    self.faults.set(target, mode, probability=self.config.fault_probability, **extra)
            phase += 1
            self._stop_faults.wait(seconds)

    # -------------------------------------------------------------------------- webhooks

    def _send_webhooks(self) -> None:
        self.webhooks.send(self.config.facts, self.config.out_of_order_pairs, self.config.sender_workers)

    def _send_poison(self) -> None:
        bus = self.view.topology.setting("EVENT_BUS_NAME")
        for n in range(self.config.poison):
            event_id = str(uuid.uuid4())
            self.injected.poison_ids.append(event_id)
            self.view.events.put_events(
                Entries=[
                    {
                        "EventBusName": bus,
                        "Source": "concord.crm",
                        "DetailType": "AccountChanged",
                        # no version, source_system, occurred_at, correlation_id, legal_entity, account_id
                        "Detail": json.dumps(
                            {"id": event_id, "type": "AccountChanged", "data": {"name": f"poison {n}"}}
                        ),
                    }
                ]
            )
            time.sleep(self.rng.uniform(0.5, 2.0))

    # -------------------------------------------------------------------------- deals

    def _win_deals(self) -> None:
        for n in range(self.config.deals):
            account = self.rep.create_account(
                f"Chaos Deal {self.run_id} {n}",
                street="1 Main Street",
                city="Boston",
                country="US",
                tax_id=random_ein(),
            )
            opportunity = self.rep.win_opportunity(account, f"Chaos deal {n}", [("Discovery", 8), ("Build", 24)])
            self.injected.deals.append(Deal(str(opportunity), account))
            time.sleep(self.config.deal_gap_seconds)

    # -------------------------------------------------------------------------- approvals

    def _activate_billing_projects(self) -> None:
        """Projects to bill time on, activated by quote-to-cash before any fault."""
        for n in range(self.config.billing_projects):
            account = self.rep.create_account(
                f"Chaos Billing {self.run_id} {n}",
                street="1 Main Street",
                city="Boston",
                country="US",
                tax_id=random_ein(),
            )
            opportunity = str(self.rep.win_opportunity(account, f"Chaos billing {n}", [("Delivery", 200)]))
            execution = wait_for_execution(self.sfn, opportunity)
            if execution["status"] != "SUCCEEDED":
                raise RuntimeError(f"billing project saga {execution['name']} ended {execution['status']}")
            project_ref = canonical_id("project", "crm", opportunity)
            (project,) = self.tryton.psa.client.search_read("project.work", [["concord_ref", "=", project_ref]], ["id"])
            self.billing_projects.append((str(project["id"]), project_ref))

    def _approve_time(self) -> None:
        consultant = Consultant(user_client(self.systems, "psa"))
        for n in range(self.config.approvals):
            project_id, project_ref = self.billing_projects[n % len(self.billing_projects)]
            line = consultant.log_time(project_id, 1 + n % 4)
            consultant.approve([line])
            self.injected.approvals.append(Approval(str(line), project_ref))
            time.sleep(self.rng.uniform(0.1, 0.6))

    # -------------------------------------------------------------------------- crashes

    def _running_sagas(self) -> int:
        running = self.sfn.list_executions(stateMachineArn=machine_arn(self.sfn), statusFilter="RUNNING")
        return len(running["executions"])

    def kill_runtime(self) -> None:
        state = StackState.load(self.stack.state_dir)
        running = self._running_sagas()
        os.killpg(state.runtime_pid, signal.SIGKILL)
        self._mark(
            f"kill -9 runtime pid {state.runtime_pid} ({running} saga(s) running, "
            f"{sum(len(f.statuses) for f in self.injected.facts)} deliveries answered)"
        )
        time.sleep(1.0)
        started = time.monotonic()
        self.stack.up()
        new_pid = StackState.load(self.stack.state_dir).runtime_pid
        self.kills.append(
            {
                "killed_pid": state.runtime_pid,
                "sagas_running": running,
                "restart_s": round(time.monotonic() - started, 1),
                "new_pid": new_pid,
            }
        )
        self._mark(f"runtime restarted as pid {new_pid} in {time.monotonic() - started:.1f} s")

    def _crash_loop(self, done: threading.Event) -> None:
        for n in range(self.config.kills):
            # mid-batch and mid-saga: wait until a saga is running (or give up after a while)
            wait_until = time.monotonic() + 20
            time.sleep(5 if n == 0 else 15)
            while time.monotonic() < wait_until and not self._running_sagas():
                time.sleep(0.2)
            self.kill_runtime()
        done.set()

    # -------------------------------------------------------------------------- the run

    def inject(self) -> None:
        self.view.drain_tap()
        self.poll_changes()  # the change-capture watch has a checkpoint from here on, as on a live stage
        if self.config.approvals:
            self._activate_billing_projects()
        self._mark(f"run {self.run_id}: faults on {', '.join(FAULT_TARGETS)} at p={self.config.fault_probability}")
        fault_thread = threading.Thread(target=self._cycle_faults, daemon=True)
        fault_thread.start()
        crashes_done = threading.Event()
        workers = [
            threading.Thread(target=fn, daemon=True)
            for fn in (self._send_webhooks, self._send_poison, self._win_deals, self._approve_time)
        ]
        crasher = threading.Thread(target=self._crash_loop, args=(crashes_done,), daemon=True)
        for worker in workers:
            worker.start()
        crasher.start()
        for worker in workers:
            worker.join()
        self._mark(
            f"injected {len(self.injected.facts)} webhook facts x3, {len(self.injected.poison_ids)} poison, "
            f"{len(self.injected.deals)} deals, {len(self.injected.approvals)} approvals"
        )
        crasher.join()

    def poll_changes(self) -> dict[str, Any]:
        """What the scheduled rule does every minute, now: change capture finds won deals and
        approvals whose push was lost (Tryton pushes once; the runtime may have been dead).
        With the systems faulted a run may fail (on AWS: retried, then alarmed); the watches
        that failed resume from their checkpoints at the next run."""
        try:
            return self.view.invoke(CHANGE_CAPTURE.folder, scheduled_event(CHANGE_CAPTURE.physical_name(STACK_NAME)))
        except RuntimeError as error:
            self._mark(f"change_capture failed (systems faulted): {str(error)[:160]}")
            return {"watches": []}

    def poll_for_missing(self, ledger: Ledger) -> None:
        """Deals without a saga and approvals not billed may have lost their push (the runtime
        was dead when the system sent it): the scheduled change capture finds them. The e2e
        stack's schedules are disabled, so the campaign plays the rule, every 10 s at most."""
        in_flight = ledger.details.get("in_flight", [])
        no_saga = [d for d in in_flight if d.get("kind") == "deal" and not d["executions"]]
        unbilled = [d for d in in_flight if d.get("kind") == "approval"]
        now = time.monotonic()
        if not (no_saga or unbilled) or now - self._last_poll <= 10:
            return
        watches = self.poll_changes().get("watches", [])
        self._mark(
            f"{len(no_saga)} deal(s) without a saga, {len(unbilled)} approval(s) not billed: change_capture ran, "
            f"{sum(w.get('events', 0) for w in watches)} event(s) announced"
        )
        self._last_poll = now

    def settle(self, timeout: float) -> None:
        """Wait until every injected event has an outcome (or timeout)."""
        started = time.monotonic()
        self._last_poll = last_log = started
        while time.monotonic() < started + timeout:
            ledger = self.accountant.ledger(self.injected)
            pending = ledger.in_flight + ledger.lost + ledger.unreported
            if pending == 0:
                return
            self.poll_for_missing(ledger)
            now = time.monotonic()
            if now - last_log > 15:
                self._mark("settling: " + ", ".join(f"{k} {v}" for k, v in ledger.counts().items() if v))
                last_log = now
            time.sleep(3)

    def stop_faults(self) -> None:
        self._stop_faults.set()
        self.faults.clear()

    # -------------------------------------------------------------------------- redrive

    def redrive(self) -> dict[str, Any]:
        """Faults cleared: the operator's redrive (chaos_redrive.py)."""
        return redrive_campaign(self.accountant, self.injected, self.sfn, self.stack.state_dir, self._mark)

    def faults_report(self) -> dict[str, Any]:
        report = self.faults.list()
        injected = {t: {m.value: n for m, n in modes.items()} for t, modes in report.injected.items()}
        per_target = {}
        for target in FAULT_TARGETS:
            hit = sum(injected.get(target, {}).values())
            total = hit + report.forwarded.get(target, 0)
            per_target[target] = {"injected": hit, "calls": total, "share": round(hit / total, 3) if total else 0.0}
        hit = sum(v["injected"] for v in per_target.values())
        calls = sum(v["calls"] for v in per_target.values())
        return {
            "injected": injected,
            "forwarded": dict(report.forwarded),
            "per_target": per_target,
            "share_of_calls": round(hit / calls, 3) if calls else 0.0,
        }

    def run(self) -> dict[str, Any]:
        """The whole campaign; returns the results (ledgers before and after the redrive)."""
        try:
            self.inject()
            self._mark("waiting for every event to reach an outcome (faults still on)")
            self.settle(self.config.settle_timeout)
        finally:
            self.stop_faults()
        faults = self.faults_report()
        self._mark(f"faults cleared; {faults['share_of_calls']:.0%} of ERP/PSA calls were faulted")
        before = self.accountant.ledger(self.injected, after_redrive=False)
        self._mark("ledger before redrive: " + ", ".join(f"{k} {v}" for k, v in before.counts().items()))
        redrive = self.redrive()
        deadline = time.monotonic() + self.config.redrive_timeout
        while True:
            after = self.accountant.ledger(self.injected, after_redrive=time.monotonic() > deadline)
            if after.in_flight + after.parked + after.unreported + after.lost == 0 or time.monotonic() > deadline:
                break
            self.poll_for_missing(after)
            if after.parked and not after.in_flight:
                if len(redrive.get("again", [])) >= self.config.extra_redrives:
                    break
                # a redriven saga that failed again, or a message that reached its DLQ only now:
                # the operator redrives once more (counted in the results)
                extra = self.redrive()
                redrive.setdefault("again", []).append(extra)
            time.sleep(3)
        after = self.accountant.ledger(self.injected, after_redrive=True)
        self._mark("ledger after redrive: " + ", ".join(f"{k} {v}" for k, v in after.counts().items()))
        return {
            "run_id": self.run_id,
            "config": {k: v for k, v in asdict(self.config).items() if k != "fault_cycle"},
            "fault_cycle": [m for m, _ in self.config.fault_cycle],
            "injected": {
                "webhook_facts": len(self.injected.facts),
                "webhook_deliveries": sum(len(f.statuses) for f in self.injected.facts),
                "out_of_order_pairs": self.config.out_of_order_pairs,
                "poison": len(self.injected.poison_ids),
                "deals": len(self.injected.deals),
                "approvals": len(self.injected.approvals),
            },
            "faults": faults,
            "webhook_answers": dict(Counter(str(s) for f in self.injected.facts for s in f.statuses)),
            "webhook_retried_answers": dict(Counter(r for f in self.injected.facts for r in f.retried)),
            "kills": self.kills,
            "before_redrive": before.as_json(),
            "redrive": redrive,
            "after_redrive": after.as_json(),
            "timeline": self.timeline,
            "duration_s": round(time.monotonic() - self._started, 1),
        }
