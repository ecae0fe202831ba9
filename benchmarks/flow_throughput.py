"""Throughput, latency and calls to the target systems per sync flow, on the local stack with
Tryton, against the emulator's own floor.

For each flow, N canonical events are put on the bus (PutEvents, 10 per call, as fast as the
emulator takes them) and the flow's queue is watched until it is empty:
  billing             N TimeApproved of time entries really approved in Tryton PSA
  financial status    N PaymentReceived of one posted invoice (distinct payment ids)
  customer master     N AccountChanged of one won account (newer each time)
  project terms       N StaffingChanged of one project (newer each time)
Throughput = N / (first put → queue empty). Latency per record = from its put to the lineage
entry the flow writes when it applies it (the customer flow writes one only when a field
changes: it has no per-record latency here). Calls per record = requests the fault proxy
forwarded to each Tryton database during the run, divided by N (scheduled runs are disabled
meanwhile); for billing also against the floor ceil(N / ERP batch limit) batched writes. Floor: the same N events put
on the bus and received from a queue behind a rule, with no handler work.

    .venv/bin/python -m benchmarks.flow_throughput --events 200
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
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
    StaffingChangedEvent,
    TimeApprovedEvent,
)
from concord.local.consistency import SystemsView
from concord.local.faults import FaultController
from concord.local.inspect import LocalView
from concord.local.provision import BUS_TAP
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
    make_events: Callable[[], list[Envelope]]
    # the lineage entries the flow writes as it applies records (None: it writes none per record)
    lineage: Callable[[list[Envelope]], list[LineageEntry]] | None


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


def queue_empty(view: LocalView, queue: str) -> bool:
    attributes = view.sqs.get_queue_attributes(QueueUrl=view.queue_url(queue), AttributeNames=["All"])["Attributes"]
    return attributes["ApproximateNumberOfMessages"] == "0" == attributes["ApproximateNumberOfMessagesNotVisible"]


def measure_floor(view: LocalView, events: list[Envelope]) -> float:
    """Seconds to move the events through EventBridge → SQS → a receiver, no handler."""
    tap = view.queue_url(BUS_TAP)
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


def run_flow(view: LocalView, faults: FaultController, run: FlowRun) -> dict[str, Any]:
    events = run.make_events()
    view.wait_for(lambda: queue_empty(view, run.queue), timeout=120, interval=0.5)
    before = faults.list().forwarded
    started = time.monotonic()
    put_at = put_all(view, events)
    time.sleep(1)  # the rule's delivery to the queue is asynchronous
    if not view.wait_for(lambda: queue_empty(view, run.queue), timeout=600, interval=0.2):
        raise SystemExit(f"{run.name}: the queue did not drain")
    elapsed = time.monotonic() - started
    after = faults.list().forwarded
    calls = {system: after.get(system, 0) - before.get(system, 0) for system in SYSTEMS}
    result: dict[str, Any] = {
        "events": len(events),
        "seconds": elapsed,
        "records_per_second": len(events) / elapsed,
        "calls": calls,
        "calls_per_record": {system: n / len(events) for system, n in calls.items()},
    }
    if run.lineage:
        applied = {e.event_id: e.at.timestamp() for e in run.lineage(events) if e.event_id in put_at}
        latencies = [(applied[i] - put_at[i]) * 1000 for i in applied]
        result["applied_with_lineage"] = len(applied)
        if len(latencies) >= 2:
            result["latency_ms"] = percentiles(latencies)
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


def payment_events(view: LocalView, systems: LocalSystems, tryton: SystemsView, deal: Deal, n: int) -> list[Envelope]:
    """N payments of one posted invoice (its posting announced and applied first)."""
    clerk = FinanceClerk(user_client(systems, "erp"))
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
                    "amount": str(invoice.total.amount - Decimal(k + 1)),
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200, help="events per flow")
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
            project_lineage = lambda _events: xref.lineage("project", deal.project_ref)
            runs = [
                FlowRun(
                    BILLING.label,
                    BILLING.physical_name(STACK_NAME),
                    lambda: billing_events(systems, tryton, deal, n),
                    lambda events: [
                        entry
                        for e in events
                        for entry in xref.lineage("time_entry", canonical_id("time_entry", "psa", e.data.time_entry_id))
                    ],
                ),
                FlowRun(
                    FINANCIAL_STATUS.label,
                    FINANCIAL_STATUS.physical_name(STACK_NAME),
                    lambda: payment_events(view, systems, tryton, deal, n),
                    project_lineage,
                ),
                FlowRun(
                    CUSTOMER_MASTER.label,
                    CUSTOMER_MASTER.physical_name(STACK_NAME),
                    lambda: account_events(deal, n),
                    None,
                ),
                FlowRun(
                    PROJECT_TERMS.label,
                    PROJECT_TERMS.physical_name(STACK_NAME),
                    lambda: staffing_events(deal, n),
                    project_lineage,
                ),
            ]
            flows = {run.name: run_flow(view, faults, run) for run in runs}
            floor_seconds = measure_floor(view, account_events(deal, n))
        finally:
            stack.down()

    floor_rate = n / floor_seconds
    batch_floor = math.ceil(n / ERP_CAPABILITIES.batch_limits.invoice_lines)
    figures = []
    for name, flow in flows.items():
        figures.append(
            figure(
                f"{name}: records/s ({n} events)",
                flow["records_per_second"],
                "records/s",
                floor_rate,
                "emulator floor: bus → SQS → receive, no handler",
            )
        )
        if "latency_ms" in flow:
            figures.append(
                figure(
                    f"{name}: latency median",
                    flow["latency_ms"]["median"],
                    "ms",
                    None,
                    None,
                    f"p95 {flow['latency_ms']['p95']:.0f} ms, p99 {flow['latency_ms']['p99']:.0f} ms",
                )
            )
        for system, per_record in flow["calls_per_record"].items():
            if per_record:
                figures.append(figure(f"{name}: {system.upper()} calls per record", per_record, "calls"))
    billing = flows[BILLING.label]
    figures.append(
        figure(
            "billing: ERP calls per batch floor",
            billing["calls"]["erp"],
            "calls",
            batch_floor,
            f"ceil({n} / {ERP_CAPABILITIES.batch_limits.invoice_lines}) batched writes",
        )
    )
    results = {
        **provenance(),
        "events_per_flow": n,
        "floor_seconds": floor_seconds,
        "floor_records_per_second": floor_rate,
        "erp_invoice_line_batch_limit": ERP_CAPABILITIES.batch_limits.invoice_lines,
        "flows": flows,
        "figures": figures,
    }
    path = write_results("flow_throughput", results)

    print(
        f"sync flows on the local stack with Tryton ({results['machine']}, commit {results['commit']}, {n} events each)"
    )
    print(
        f"{'flow':18} {'rec/s':>7} {'x floor':>8} {'median ms':>10} {'p95 ms':>8} "
        f"{'CRM/rec':>8} {'PSA/rec':>8} {'ERP/rec':>8}"
    )
    for name, flow in flows.items():
        latency = flow.get("latency_ms", {})
        calls = flow["calls_per_record"]
        print(
            f"{name:18} {flow['records_per_second']:7.1f} {flow['records_per_second'] / floor_rate:8.3f} "
            f"{latency.get('median', float('nan')):10.0f} {latency.get('p95', float('nan')):8.0f} "
            f"{calls['crm']:8.2f} {calls['psa']:8.2f} {calls['erp']:8.2f}"
        )
    print(f"{'emulator floor':18} {floor_rate:7.1f}")
    print(
        f"billing: {billing['calls']['erp']} ERP calls for {n} records; "
        f"floor ceil({n}/{ERP_CAPABILITIES.batch_limits.invoice_lines}) = "
        f"{batch_floor} batched writes ({billing['calls']['erp'] / batch_floor:.1f}x)"
    )
    print(f"written to {path}")


if __name__ == "__main__":
    main()
