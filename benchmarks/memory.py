"""Peak memory (ru_maxrss) of each function, against a bare interpreter with the same libraries.

One fresh interpreter per function and mode. Functions that need only AWS (webhook_ingest,
audit_trail, quote_to_cash) are invoked twice under moto (in-process) on the local stage's
resources, provisioned from the synthesized template as `concord local up` does: a cold
invocation, then a warm one whose duration and AWS requests are recorded (cost_model.py reads
them). The others need the CRM, PSA and ERP, so their figure is the peak after importing the
handler ("import only"). Floor: the same interpreter doing the same set-up (moto, resources,
events) and importing the same third-party modules the handler loads, without Concord's code.

    .venv/bin/python -m benchmarks.memory [--functions webhook_ingest audit_trail]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib
import json
import os
import resource
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._common import (
    FUNCTIONS_DIR,
    figure,
    function_names,
    provenance,
    run_child,
    write_results,
)
from .cold_start import library_modules

CHILD = "from benchmarks.memory import child; child()"


# --- inside the measured interpreter -----------------------------------------------------


def request_items(operation: str, params: dict[str, Any]) -> int:
    """Billable items in one AWS request: PutEvents entries, transaction / batch items; else 1."""
    if operation == "PutEvents":
        return len(params.get("Entries", []))
    if operation in ("TransactWriteItems", "TransactGetItems"):
        return len(params.get("TransactItems", []))
    if operation in ("BatchWriteItem", "BatchGetItem"):
        return sum(
            len(v if isinstance(v, list) else v.get("Keys", [])) for v in params.get("RequestItems", {}).values()
        )
    if operation in ("SendMessageBatch", "DeleteMessageBatch"):
        return len(params.get("Entries", []))
    return 1


def count_aws_requests() -> Counter[str]:
    """Count every botocore request from now on, as "service:Operation" → items."""
    from botocore.client import BaseClient

    counts: Counter[str] = Counter()
    original = BaseClient._make_api_call

    def counting(self: Any, operation: str, params: dict[str, Any]) -> Any:
        counts[f"{self.meta.service_model.service_name}:{operation}"] += request_items(operation, params)
        return original(self, operation, params)

    BaseClient._make_api_call = counting  # type: ignore[method-assign]
    return counts


def _webhook_events(topology: Any) -> list[dict[str, Any]]:
    from concord.local.demo_secrets import demo_signing_secret
    from concord.local.runtime.api_gateway import proxy_event
    from concord.local.sender import canonical_delivery

    from .record_cpu import ACCOUNT

    events = []
    for _ in range(2):  # two deliveries: a replay of the first would do less work
        delivery = canonical_delivery(demo_signing_secret("crm"), "AccountChanged", ACCOUNT, legal_entity="us-01")
        events.append(
            proxy_event(
                "POST",
                "/webhooks/{source}",
                "/webhooks/crm",
                {"source": "crm"},
                list(delivery.headers.items()),
                "",
                delivery.body,
                "local",
            )
        )
    return events


def _queue_events(topology: Any, function: str, make_event: Callable[[], Any]) -> list[dict[str, Any]]:
    """Two full batches, put on the bus and received from the function's queue as its event source mapping would."""
    import boto3

    from concord.aws.bus import EventBusPublisher
    from concord.local.runtime.queues import sqs_record

    mapping = next(m for m in topology.event_sources if m.function_name == topology_function(topology, function).name)
    sqs = boto3.client("sqs")
    queue_url = sqs.get_queue_url(QueueName=mapping.queue_name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    EventBusPublisher(topology.buses[0], boto3.client("events")).publish(
        [make_event() for _ in range(2 * mapping.batch_size)]
    )
    batches = []
    for _ in range(2):
        messages: list[dict[str, Any]] = []
        while len(messages) < mapping.batch_size:
            messages += sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=mapping.batch_size - len(messages), AttributeNames=["All"]
            ).get("Messages", [])
        batches.append({"Records": [sqs_record(m, queue_arn) for m in messages]})
    return batches


def _account_changed() -> Any:
    from concord.events import new_event
    from concord.events.envelope import AccountChangedEvent

    from .record_cpu import ACCOUNT

    return new_event(AccountChangedEvent, ACCOUNT, legal_entity="us-01", occurred_at=dt.datetime.now(dt.UTC))


def _opportunity_won() -> Any:
    from concord.events import new_event
    from concord.events.envelope import OpportunityClosedWonEvent

    from .record_cpu import OPPORTUNITY

    return new_event(OpportunityClosedWonEvent, OPPORTUNITY, legal_entity="us-01", occurred_at=dt.datetime.now(dt.UTC))


# Functions invoked under moto: how to build their two invocation events.
SCENARIOS: dict[str, Callable[[Any], list[dict[str, Any]]]] = {
    "webhook_ingest": _webhook_events,
    "audit_trail": lambda topology: _queue_events(topology, "audit_trail", _account_changed),
    "quote_to_cash": lambda topology: _queue_events(topology, "quote_to_cash", _opportunity_won),
}


def topology_function(topology: Any, function: str) -> Any:
    return next(f for f in topology.functions if f.source == f"functions/{function}")


def _import_all(modules: list[str]) -> None:
    for name in modules:
        # Aliases that are not importable by name (see cold_start) raise anything.
        with contextlib.suppress(Exception):
            importlib.import_module(name)


def child() -> None:
    """argv: mode ("handler" | "floor"), function, template path, library modules (JSON)."""
    mode, function, template, modules = sys.argv[1], sys.argv[2], Path(sys.argv[3]), json.loads(sys.argv[4])
    result: dict[str, Any] = {"invoked": function in SCENARIOS}
    if function in SCENARIOS:
        import boto3
        from moto import mock_aws

        from concord.local.demo_secrets import demo_secret_value
        from concord.local.provision import provision
        from concord.local.stack import STACK_NAME
        from concord.local.template import read_topology
        from concord.local.worker import LocalLambdaContext

        with mock_aws():
            topology = read_topology(template, STACK_NAME)
            secrets = {
                name: demo_secret_value(name.rsplit("/", 1)[-1]) for name in topology.secrets if "/webhooks/" in name
            }
            provision(topology, boto3.client, secrets, None)
            spec = topology_function(topology, function)
            os.environ.update(spec.environment)
            cold_event, warm_event = SCENARIOS[function](topology)
            if mode == "handler":
                sys.path.insert(0, str(FUNCTIONS_DIR / function))
                handler = importlib.import_module("handler").handler
                started = time.perf_counter()
                handler(cold_event, LocalLambdaContext(spec.name, spec.memory_mb, spec.timeout_seconds))
                result["cold_invocation_ms"] = (time.perf_counter() - started) * 1000
                requests = count_aws_requests()
                started = time.perf_counter()
                answer = handler(warm_event, LocalLambdaContext(spec.name, spec.memory_mb, spec.timeout_seconds))
                result["warm_invocation_ms"] = (time.perf_counter() - started) * 1000
                result["aws_requests"] = dict(requests)
                result["records"] = len(warm_event.get("Records", [])) or 1
                result["answer"] = answer.get("statusCode", answer)  # 202, or the batch's failures
            else:
                _import_all(modules)
    elif mode == "handler":
        sys.path.insert(0, str(FUNCTIONS_DIR / function))
        importlib.import_module("handler")
    else:
        _import_all(modules)
    result["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(result, default=str))


# --- the benchmark ----------------------------------------------------------------------


def measure(functions: list[str], template: Path) -> list[dict[str, Any]]:
    rows = []
    for function in functions:
        modules = json.dumps(library_modules(function))
        handler = run_child(CHILD, "handler", function, str(template), modules)
        floor = run_child(CHILD, "floor", function, str(template), modules)
        rows.append(
            {
                "function": function,
                "measured": "import + 2 invocations under moto"
                if handler["invoked"]
                else "import only (needs CRM/PSA/ERP)",
                "peak_rss_mb": handler["maxrss_kb"] / 1024,
                "floor_rss_mb": floor["maxrss_kb"] / 1024,
                **{
                    k: handler[k]
                    for k in ("cold_invocation_ms", "warm_invocation_ms", "aws_requests", "records", "answer")
                    if k in handler
                },
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--functions", nargs="*", default=None, help="default: every functions/<name>/handler.py")
    args = parser.parse_args()
    functions = args.functions or function_names()

    from concord.local.template import synthesize

    with tempfile.TemporaryDirectory(prefix="concord-bench-") as cache:
        rows = measure(functions, synthesize(Path(cache)))
    results = {
        **provenance(),
        "functions": rows,
        "figures": [
            figure(
                f"peak RSS: {row['function']}",
                row["peak_rss_mb"],
                "MB",
                row["floor_rss_mb"],
                "same libraries (and moto set-up), no Concord code",
                note=row["measured"],
            )
            for row in rows
        ],
    }
    path = write_results("memory", results)
    print(f"peak memory per function ({results['machine']}, commit {results['commit']})")
    print(f"{'function':32} {'peak MB':>8} {'floor MB':>9} {'x floor':>8} {'warm ms':>8}  measured")
    for row in rows:
        warm = f"{row['warm_invocation_ms']:8.1f}" if "warm_invocation_ms" in row else f"{'-':>8}"
        print(
            f"{row['function']:32} {row['peak_rss_mb']:8.1f} {row['floor_rss_mb']:9.1f} "
            f"{row['peak_rss_mb'] / row['floor_rss_mb']:8.2f} {warm}  {row['measured']}"
        )
    print(f"written to {path}")


if __name__ == "__main__":
    main()
