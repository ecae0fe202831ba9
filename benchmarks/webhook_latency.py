"""Webhook-to-handler latency on the local stack, against the emulator's own floor.

Pipeline: signed webhook → API front → ingest λ → PutEvents → rule → SQS → poller →
audit-trail λ → DynamoDB, measured from the moment the request is sent to the audit
record's `recorded_at`. Floor, measured in the same run: the same canonical events put on
the bus directly and received from a queue behind a rule, with no handler work at all.

    .venv/bin/python -m benchmarks.webhook_latency --events 200 --rate 10
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from concord.local.demo_secrets import demo_signing_secret
from concord.local.inspect import LocalView
from concord.local.provision import BUS_TAP
from concord.local.sender import canonical_delivery, post
from concord.local.stack import LocalStack

from ._common import free_port, percentiles, provenance, write_results


def measure_floor(view: LocalView, events: int) -> list[float]:
    """put_events → rule → SQS → receive, one event at a time, no handler work."""
    bus = view.topology.setting("EVENT_BUS_NAME")
    view.drain_tap()
    tap = view.queue_url(BUS_TAP)
    latencies = []
    for n in range(events):
        detail = {"id": str(uuid.uuid4()), "type": "AccountChanged", "n": n}
        started = time.perf_counter()
        view.events.put_events(
            Entries=[
                {
                    "EventBusName": bus,
                    "Source": "concord.floor",
                    "DetailType": "AccountChanged",
                    "Detail": json.dumps(detail),
                }
            ]
        )
        while True:
            messages = view.sqs.receive_message(QueueUrl=tap, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
                "Messages", []
            )
            if messages:
                view.sqs.delete_message_batch(
                    QueueUrl=tap,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
                )
                break
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def measure_pipeline(view: LocalView, events: int, rate: float) -> tuple[list[float], list[float]]:
    url = f"{view.state.webhook_url}/crm"
    secret = demo_signing_secret("crm")
    sent: dict[str, dt.datetime] = {}
    acks: list[float] = []
    lock = threading.Lock()

    def send(client: httpx.Client, n: int) -> None:
        delivery = canonical_delivery(secret, "AccountChanged", {"account_id": f"BENCH-{n}", "name": "Bench Ltd"})
        started_at, started = dt.datetime.now(dt.UTC), time.perf_counter()
        response = post(client, url, delivery)
        elapsed = (time.perf_counter() - started) * 1000
        response.raise_for_status()
        with lock:
            sent[response.json()["event_id"]] = started_at
            acks.append(elapsed)

    with httpx.Client(timeout=30, limits=httpx.Limits(max_connections=16)) as client, ThreadPoolExecutor(8) as pool:
        for n in range(events):
            pool.submit(send, client, n)
            time.sleep(1 / rate)
    deadline = time.monotonic() + 120
    recorded: dict[str, dt.datetime] = {}
    while len(recorded) < len(sent) and time.monotonic() < deadline:
        for event_id in set(sent) - set(recorded):
            item = view.audit.event(event_id)
            if item and item.recorded_at:
                recorded[event_id] = item.recorded_at
        time.sleep(0.2)
    if len(recorded) < events:
        raise SystemExit(f"only {len(recorded)} of {events} events reached the audit trail")
    latencies = [(recorded[i] - sent[i]).total_seconds() * 1000 for i in sent]
    return latencies, acks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--rate", type=float, default=10.0, help="webhooks per second")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="concord-bench-") as state_dir:
        stack = LocalStack(
            Path(state_dir), aws_port=free_port(), webhook_port=free_port(), lambda_port=free_port(), with_systems=False
        )
        stack.up()
        try:
            view = LocalView(stack)
            measure_pipeline(view, 5, rate=5)  # warm both functions: cold starts are not latency
            pipeline, acks = measure_pipeline(view, args.events, args.rate)
            floor = measure_floor(view, args.events)
        finally:
            stack.down()

    results = {
        **provenance(),
        "rate_per_second": args.rate,
        "webhook_to_handler_ms": percentiles(pipeline),
        "webhook_ack_ms": percentiles(acks),
        "emulator_floor_ms": percentiles(floor),
    }
    path = write_results("webhook_latency", results)

    floor_median = results["emulator_floor_ms"]["median"]
    print(f"webhook latency on the local stack ({results['machine']}, commit {results['commit']}, {args.rate}/s)")
    print(f"{'metric':32} {'median':>9} {'p95':>9} {'p99':>9} {'x floor':>8}")
    for name in ("webhook_to_handler_ms", "webhook_ack_ms", "emulator_floor_ms"):
        row = results[name]
        print(f"{name:32} {row['median']:9.1f} {row['p95']:9.1f} {row['p99']:9.1f} {row['median'] / floor_median:8.2f}")
    print(f"written to {path}")


if __name__ == "__main__":
    main()
