"""Throughput, latency and calls to the target systems per sync flow, on the local stack with
Tryton, against the emulator's own floor.

For each flow, one event is put alone first (it warms the function: session, reference data;
not counted), then N canonical events are put on the bus (PutEvents, 10 per call, as fast as
the emulator takes them: the burst) and the flow's queue is watched until it is empty; then
S more at a steady rate (--steady-rate per second), for their latency:
  billing             N TimeApproved of time entries really approved in Tryton PSA
  financial status    N PaymentReceived of one posted invoice (distinct payment ids)
  customer master     N AccountChanged of one won account (newer each time)
  project terms       N StaffingChanged of one project (newer each time)
Throughput = N / (first put → queue empty), against the emulator floor measured right before
each flow's burst (N ProjectActivated put on the bus and received from a queue behind a rule, no
handler; no flow takes that type). Latency per record = from its put to the lineage
entry the flow writes when it applies it (the customer flow writes one only when a field
changes: it has no per-record latency here). Calls per record = requests the fault proxy
forwarded to each Tryton database during the run, divided by N (scheduled runs are disabled
meanwhile), each read against the flow's vendor-call floor (benchmarks/_floors.py).

    .venv/bin/python -m benchmarks.flow_throughput --events 200 --steady 30 --steady-rate 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from concord.catalog import BILLING, CUSTOMER_MASTER, FINANCIAL_STATUS, PROJECT_TERMS
from concord.connectors.tryton.erp import CAPABILITIES as ERP_CAPABILITIES
from concord.domain import LineageEntry
from concord.events import Envelope, new_event
from concord.events.envelope import (
    AccountChangedEvent,
    PaymentReceivedEvent,
    ProjectActivatedEvent,
    StaffingChangedEvent,
    TimeApprovedEvent,
)
from concord.local.consistency import SystemsView
from concord.local.faults import FaultController
from concord.local.inspect import LocalView
from concord.local.sagas import wait_for_execution
from concord.local.scenarios.tryton import (
    Consultant,
    FinanceClerk,
    SalesRep,
    random_ein,
    user_client,
)
from concord.local.stack import STACK_NAME, LocalStack, aws_client
from concord.local.systems import LocalSystems
from concord.stores.registry import Registry
from concord.sync.ids import canonical_id

from . import _floors
from ._common import figure, free_port, percentiles, provenance, write_results

SYSTEMS = ("crm", "psa", "erp")


@dataclass(frozen=True)
class Deal:
    account_id: str
    opportunity_id: str
    project_id: str
    project_ref: str
    customer_ref: str


@dataclass
class FlowRun:
    name: str
    queue: str
    make_events: Callable[[int], list[Envelope]]  # that many, in order of occurrence
    # the lineage entries the flow writes as it applies records (None: it writes none per record)
    lineage: Callable[[list[Envelope]], list[LineageEntry]] | None
    floors: Callable[[list[Envelope]], list[_floors.Floor]]  # of the burst's events


def put_all(view: LocalView, events: list[Envelope]) -> dict[str, float]:
    """PutEvents in chunks of 10; the monotonic time each event was put, by event id."""
    bus = view.topology.setting("EVENT_BUS_NAME")
    put_at: dict[str, float] = {}
    for start in range(0, len(events), 10):
        chunk = events[start : start + 10]
        view.events.put_events(
            Entries=[
                {"EventBusName": bus, "Source": e.bus_source, "DetailType": e.type, "Detail": e.model_dump_json()}
                for e in chunk
            ]
        )
        now = time.time()
        put_at.update({e.id: now for e in chunk})
    return put_at


def put_steadily(view: LocalView, events: list[Envelope], rate: float) -> dict[str, float]:
    """One event per PutEvents, `rate` a second; the time each was put, by event id."""
    put_at: dict[str, float] = {}
    start = time.monotonic()
    for k, event in enumerate(events):
        time.sleep(max(0.0, start + k / rate - time.monotonic()))
        put_at.update(put_all(view, [event]))
    return put_at


def latencies(run: FlowRun, events: list[Envelope], put_at: dict[str, float]) -> dict[str, Any]:
    """From put to the lineage entry the flow wrote when it applied each (those it applied)."""
    if not run.lineage:
        return {}
    applied = {e.event_id: e.at.timestamp() for e in run.lineage(events) if e.event_id in put_at}
    values = [(applied[i] - put_at[i]) * 1000 for i in applied]
    return {"applied_with_lineage": len(applied), **({"latency_ms": percentiles(values)} if len(values) >= 2 else {})}


def drain(view: LocalView, run: FlowRun) -> None:
    time.sleep(1)  # the rule's delivery to the queue is asynchronous
    if not view.wait_for(lambda: queue_empty(view, run.queue), timeout=600, interval=0.2):
        raise SystemExit(f"{run.name}: the queue did not drain")


def queue_empty(view: LocalView, queue: str) -> bool:
    attributes = view.sqs.get_queue_attributes(QueueUrl=view.queue_url(queue), AttributeNames=["All"])["Attributes"]
    return attributes["ApproximateNumberOfMessages"] == "0" == attributes["ApproximateNumberOfMessagesNotVisible"]


def measure_floor(view: LocalView, events: list[Envelope]) -> float:
    """Seconds to move the events through EventBridge → SQS → a receiver, no handler."""
    tap = view.queue_url("concord-local-bus-tap")
    view.drain_tap()
    started = time.monotonic()
    put_all(view, events)
    received = 0
    while received < len(events):
        messages = view.sqs.receive_message(QueueUrl=tap, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        if messages:
            view.sqs.delete_message_batch(
                QueueUrl=tap,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )
            received += len(messages)
    return time.monotonic() - started


def run_flow(
    view: LocalView, faults: FaultController, run: FlowRun, floor: list[Envelope], steady: int, rate: float
) -> dict[str, Any]:
    """The flow's burst of len(floor) events against the emulator floor measured just before it
    (these machines are shared: a floor measured minutes apart is read against other load)."""
    n = len(floor)
    events = run.make_events(1 + n + steady)
    warm, burst, later = events[0], events[1 : n + 1], events[n + 1 :]
    view.wait_for(lambda: queue_empty(view, run.queue), timeout=120, interval=0.5)
    put_all(view, [warm])
    drain(view, run)
    floor_rate = n / measure_floor(view, floor)
    before = faults.list().forwarded
    started = time.monotonic()
    put_at = put_all(view, burst)
    drain(view, run)
    elapsed = time.monotonic() - started
    after = faults.list().forwarded
    calls = {system: after.get(system, 0) - before.get(system, 0) for system in SYSTEMS}
    result: dict[str, Any] = {
        "events": len(burst),
        "seconds": elapsed,
        "records_per_second": len(burst) / elapsed,
        "floor_records_per_second": floor_rate,
        "x_floor": len(burst) / elapsed / floor_rate,
        "calls": calls,
        "calls_per_record": {system: calls_made / len(burst) for system, calls_made in calls.items()},
        "floors": _floors.against(run.floors(burst), calls),
        **latencies(run, burst, put_at),
    }
    if later:
        steady_at = put_steadily(view, later, rate)
        drain(view, run)
        result["steady"] = {"events": len(later), "rate_per_second": rate, **latencies(run, later, steady_at)}
    return result


def win_deal(view: LocalView, rep: SalesRep) -> Deal:
    account = rep.create_account(
        f"Bench {uuid.uuid4().hex[:6]}", street="1 Main Street", city="Boston", country="US", tax_id=random_ein()
    )
    opportunity = str(rep.win_opportunity(account, "Bench rollout", [("Delivery", 400)]))
    execution = wait_for_execution(aws_client(view.state, "stepfunctions"), opportunity)
    if execution["status"] != "SUCCEEDED":
        raise SystemExit(f"saga ended {execution['status']}")
    project_ref = canonical_id("project", "crm", opportunity)
    xref = Registry(aws_client(view.state, "dynamodb"), view.topology.setting("XREF_TABLE_NAME"))
    return Deal(
        str(account),
        opportunity,
        xref.records_of("project", project_ref)["psa"],
        project_ref,
        canonical_id("customer", "crm", str(account)),
    )


def billing_events(systems: LocalSystems, tryton: SystemsView, deal: Deal, n: int) -> list[Envelope]:
    """N time entries approved in Tryton without push (the benchmark announces them itself)."""
    quiet = user_client(systems, "psa", announce=False)
    consultant = Consultant(quiet)
    lines = [consultant.log_time(deal.project_id, 1) for _ in range(n)]
    consultant.approve(lines)
    entries = [entry for line in lines for entry in tryton.psa.approved_entries(str(line))]
    return [
        new_event(TimeApprovedEvent, e.model_dump(), legal_entity="us-01", occurred_at=e.approved_at) for e in entries
    ]


def payment_events(
    view: LocalView, systems: LocalSystems, tryton: SystemsView, deal: Deal, n: int, paid_in_full: int
) -> list[Envelope]:
    """N payments of one posted invoice (its posting announced and applied first), each leaving
    1.00 less due; the one at index `paid_in_full` says nothing is left due."""
    # Posting hundreds of lines takes Tryton long on a loaded machine.
    clerk = FinanceClerk(user_client(systems, "erp", timeout=300))
    draft = view.wait_for(lambda: clerk.draft_invoice(deal.project_ref), timeout=60, interval=0.3)
    clerk.post(draft["id"])
    view.wait_for(lambda: tryton.crm.financial_status(deal.opportunity_id) is not None, timeout=60, interval=0.3)
    invoice = tryton.erp.get_invoice(str(draft["id"]))
    now = dt.datetime.now(dt.UTC)
    return [
        new_event(
            PaymentReceivedEvent,
            {
                "payment_id": f"bench-{uuid.uuid4().hex[:8]}",
                "invoice_id": invoice.invoice_id,
                "amount": {"amount": "1.00", "currency": invoice.total.currency},
                "received_on": now.date().isoformat(),
                "invoice_amount_due": {
                    "amount": str(0 if k == paid_in_full else invoice.total.amount - Decimal(k + 1)),
                    "currency": invoice.total.currency,
                },
            },
            legal_entity="us-01",
            occurred_at=now + dt.timedelta(milliseconds=k),
        )
        for k in range(n)
    ]


def account_events(deal: Deal, n: int) -> list[Envelope]:
    now = dt.datetime.now(dt.UTC)
    return [
        new_event(
            AccountChangedEvent,
            {"account_id": deal.account_id, "name": "Bench", "changed_fields": ["name"]},
            legal_entity="us-01",
            occurred_at=now + dt.timedelta(milliseconds=k),
        )
        for k in range(n)
    ]


def staffing_events(deal: Deal, n: int) -> list[Envelope]:
    now = dt.datetime.now(dt.UTC)
    rate = {"amount": "80.00", "currency": "USD"}
    return [
        new_event(
            StaffingChangedEvent,
            {
                "project_id": deal.project_id,
                "assignments": [
                    {"employee_id": "1", "role": "Lead", "planned_hours": str(100 + k), "cost_rate": rate},
                    {"employee_id": "2", "role": "Analyst", "planned_hours": "40", "cost_rate": rate},
                ],
            },
            legal_entity="us-01",
            occurred_at=now + dt.timedelta(milliseconds=k),
        )
        for k in range(n)
    ]


def floor_events(deal: Deal, n: int) -> list[Envelope]:
    """Events for the emulator floor: ProjectActivated, which no flow takes (only the audit trail
    does, as it takes every flow's events), so measuring the floor loads no flow."""
    budget = {"amount": "400.00", "currency": "USD"}
    now = dt.datetime.now(dt.UTC)
    return [
        new_event(
            ProjectActivatedEvent,
            {
                "project_id": deal.project_id,
                "opportunity_id": deal.opportunity_id,
                "erp_customer_id": "1",
                "name": "Bench",
                "budget": budget,
            },
            legal_entity="us-01",
            occurred_at=now,
        )
        for _ in range(n)
    ]


def payment_floor(burst: list[Envelope], total: Decimal, due_before: Decimal) -> list[_floors.Floor]:
    dues = [e.data.invoice_amount_due.amount for e in burst if isinstance(e, PaymentReceivedEvent)]
    return _floors.financial_status(_floors.status_changes(total, dues, due_before))


def flow_runs(
    view: LocalView, systems: LocalSystems, tryton: SystemsView, xref: Registry, deal: Deal, n: int
) -> list[FlowRun]:
    project_lineage = lambda _events: xref.lineage("project", deal.project_ref)
    invoice: dict[str, Any] = {}

    def payments(count: int) -> list[Envelope]:
        events = payment_events(view, systems, tryton, deal, count, paid_in_full=n)  # the burst's last
        invoice["total"] = Decimal(events[0].data.invoice_amount_due.amount) + 1  # type: ignore[attr-defined]
        invoice["due_after_warm_up"] = events[0].data.invoice_amount_due.amount  # type: ignore[attr-defined]
        return events

    line_limit = ERP_CAPABILITIES.batch_limits.invoice_lines
    return [
        FlowRun(
            BILLING.label,
            BILLING.physical_name(STACK_NAME),
            lambda count: billing_events(systems, tryton, deal, count),
            lambda events: [
                entry
                for e in events
                for entry in xref.lineage("time_entry", canonical_id("time_entry", "psa", e.data.time_entry_id))
            ],
            lambda burst: _floors.billing(len(burst), line_limit),
        ),
        FlowRun(
            FINANCIAL_STATUS.label,
            FINANCIAL_STATUS.physical_name(STACK_NAME),
            payments,
            project_lineage,
            lambda burst: payment_floor(burst, invoice["total"], invoice["due_after_warm_up"]),
        ),
        # The account is not changed in the CRM: no target differs.
        FlowRun(
            CUSTOMER_MASTER.label,
            CUSTOMER_MASTER.physical_name(STACK_NAME),
            lambda count: account_events(deal, count),
            None,
            lambda burst: _floors.customer_master(len(burst), differing_targets=0),
        ),
        FlowRun(
            PROJECT_TERMS.label,
            PROJECT_TERMS.physical_name(STACK_NAME),
            lambda count: staffing_events(deal, count),
            project_lineage,
            lambda burst: _floors.project_terms(len(burst)),
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200, help="events per flow (the burst)")
    parser.add_argument("--steady", type=int, default=30, help="events per flow put at a steady rate")
    parser.add_argument("--steady-rate", type=float, default=3.0, help="events per second of the steady run")
    args = parser.parse_args()
    n = args.events

    with tempfile.TemporaryDirectory(prefix="concord-bench-") as tmp:
        stack = LocalStack(
            Path(tmp) / "stack",
            aws_port=free_port(),
            webhook_port=free_port(),
            lambda_port=free_port(),
            tryton_port=free_port(),
            faults_port=free_port(),
        )
        stack.up()
        try:
            view = LocalView(stack)
            systems = stack.systems()
            tryton = SystemsView.direct(systems)
            faults = FaultController(systems.faults_url)
            xref = Registry(aws_client(view.state, "dynamodb"), view.topology.setting("XREF_TABLE_NAME"))
            rep = SalesRep(user_client(systems, "crm"))
            deal = win_deal(view, rep)
            # Scheduled runs off (as an operator can on AWS): the poller's re-reads of what it saw
            # in its overlap would be counted as the flows' calls to the systems.
            for schedule in view.topology.schedules:
                view.events.disable_rule(Name=schedule.name)
            flows = {}
            for run in flow_runs(view, systems, tryton, xref, deal, n):
                flows[run.name] = run_flow(view, faults, run, floor_events(deal, n), args.steady, args.steady_rate)
                print(f"{run.name}: {json.dumps(flows[run.name])}", flush=True)  # kept should a later run fail
        finally:
            stack.down()

    results = {
        **provenance(),
        "events_per_flow": n,
        "erp_invoice_line_batch_limit": ERP_CAPABILITIES.batch_limits.invoice_lines,
        "flows": flows,
        "figures": flow_figures(flows, n),
    }
    path = write_results("flow_throughput", results)
    print_tables(results, flows, n)
    print(f"written to {path}")


def flow_figures(flows: dict[str, dict[str, Any]], n: int) -> list[dict[str, Any]]:
    figures = []
    for name, flow in flows.items():
        figures.append(
            figure(
                f"{name}: records/s ({n} events)",
                flow["records_per_second"],
                "records/s",
                flow["floor_records_per_second"],
                "emulator floor just before: bus → SQS → receive, no handler",
            )
        )
        for run, label in ((flow, "burst"), (flow.get("steady", {}), "steady")):
            if "latency_ms" in run:
                latency = run["latency_ms"]
                figures.append(
                    figure(
                        f"{name}: latency median, {label}",
                        latency["median"],
                        "ms",
                        None,
                        None,
                        f"p95 {latency['p95']:.0f} ms, p99 {latency['p99']:.0f} ms",
                    )
                )
        for row in flow["floors"]:
            figures.append(
                figure(
                    f"{name}: {row['system'].upper()} calls ({n} events)",
                    row["calls"],
                    "calls",
                    row["floor"] or None,
                    row["rule"],
                )
            )
    return figures


def print_tables(results: dict[str, Any], flows: dict[str, dict[str, Any]], n: int) -> None:
    print(
        f"sync flows on the local stack with Tryton ({results['machine']}, commit {results['commit']}, "
        f"{n} events each, warm functions)"
    )
    print(
        f"{'flow':18} {'rec/s':>7} {'floor/s':>8} {'x floor':>8} "
        f"{'burst median/p95 ms':>20} {'steady median/p95 ms':>21}"
    )
    for name, flow in flows.items():
        cells = []
        for run in (flow, flow.get("steady", {})):
            latency = run.get("latency_ms")
            cells.append(f"{latency['median']:.0f} / {latency['p95']:.0f}" if latency else "-")
        print(
            f"{name:18} {flow['records_per_second']:7.1f} {flow['floor_records_per_second']:8.1f} "
            f"{flow['x_floor']:8.3f} {cells[0]:>20} {cells[1]:>21}"
        )
    print("floor/s: the emulator's put → SQS → receive of as many events, measured just before each flow")
    print(f"\n{'flow':18} {'system':6} {'calls':>6} {'floor':>6} {'ratio':>6}  floor rule")
    for name, flow in flows.items():
        for row in flow["floors"]:
            ratio = f"{row['ratio']:.2f}" if row["ratio"] is not None else ("met" if row["met"] else "over")
            print(f"{name:18} {row['system'].upper():6} {row['calls']:6d} {row['floor']:6d} {ratio:>6}  {row['rule']}")
    steady = next((f["steady"] for f in flows.values() if "steady" in f), None)
    if steady:
        print(f"steady: {steady['events']} events per flow at {steady['rate_per_second']:g}/s after the burst")


if __name__ == "__main__":
    main()
