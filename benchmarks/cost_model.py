"""Modelled AWS cost per 1M canonical events, from the prod stage's synthesized template.

What each flow does per event is read from the template (Lambda memory and architecture,
event source mappings and their batch sizes, rules and which queues an event reaches, the
archive, the quote-to-cash state machine's happy path); durations and DynamoDB writes come
from the other benchmarks' results when present (named in the output), else from stated
assumptions. The price table (benchmarks._cost_prices) is printed beside the result, and for the
webhook paths issue 16 sets a goal for, the floor choice by choice (benchmarks.cost_floor).

    .venv/bin/python -m benchmarks.cost_model [--batch-fill 10]

What the template decides is read from it: the webhook API (REST or HTTP) and its WAF web ACL.
Not modelled: free tiers, Lambda INIT billing of cold starts, CloudWatch Logs ingestion and
metrics, X-Ray traces, KMS and Secrets Manager requests (secrets are cached), DynamoDB and
SQS storage, data transfer, and fixed monthly costs (alarms, dashboard, KMS key, secrets,
the idle polling of event source mappings, the change-capture schedule).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from concord.catalog import (
    AUDIT_TRAIL,
    BILLING,
    CUSTOMER_MASTER,
    FINANCIAL_STATUS,
    INGRESS,
    PROJECT_TERMS,
    QUOTE_TO_CASH,
    SAGA,
)
from concord.events import producer_of
from concord.local.template import Resolver, Topology, read_topology
from concord.naming import Names

from ._audit_units import write_units_by_type
from ._common import REPO_ROOT, RESULTS, figure, provenance, write_results
from ._cost_prices import PRICES, PRICES_AS_OF
from .cost_floor import design_minimum, ladder, print_floor, taken

STAGE = "prod"
STACK_NAME = Names(STAGE).prefix

# Used when no benchmark result measured them (ms per invocation of one record); "consumer"
# stands for any queue consumer no benchmark invokes (e.g. customer_master).
ASSUMED_DURATION_MS = {
    INGRESS: 50.0,
    AUDIT_TRAIL.folder: 10.0,
    QUOTE_TO_CASH.folder: 10.0,
    "consumer": 50.0,
    "saga_step": 300.0,
}
# DynamoDB write units per record when memory.json did not count them (from the code: the ingest's
# delivery ledger = one conditional PutItem of a small item; Powertools idempotency = conditional
# PutItem + UpdateItem). "consumer": what a flow writes to the registry per record (links, applied
# states, snapshots); flows keep no idempotency record of their own (aws.flows.consume_batch), so
# this is their state, not dedupe, and it is not counted per flow. The audit trail's records are
# sized per event type instead (benchmarks._audit_units): they hold the event and its rendering.
ASSUMED_WRITES_PER_RECORD = {INGRESS: 1.0, QUOTE_TO_CASH.folder: 0.0, "consumer": 2.0}
# The ledger's strongly consistent GetItem before publishing (concord.aws.delivery_ledger).
INGEST_READ_UNITS = 1.0
# Saga steps, per invocation, from the code: run_once's idempotency record (PutItem +
# UpdateItem) in every step, and xref.link (TransactWriteItems of 2 puts = 4 WRU) twice in
# UpsertErpCustomer and CreatePsaProject (sync/quote_to_cash.py). Re-count when steps change.
SAGA_STEP_WRITE_UNITS = {
    SAGA.folder(SAGA.step("upsert_erp_customer")): 2 + 2 * 4,
    SAGA.folder(SAGA.step("create_psa_project")): 2 + 2 * 4,
}
SAGA_STEP_DEFAULT_WRITE_UNITS = 2
SAGA_STEP_PUBLISHES = {SAGA.folder(SAGA.step("publish_project_activated")): "ProjectActivated"}
# Size of one event on the bus, EventBridge's envelope included (the samples are 1-2 KB);
# it only matters for the archive, a few cents per 1M events.
ASSUMED_EVENT_BYTES = 2048


@dataclass(frozen=True)
class LineItem:
    service: str
    what: str
    quantity: float  # per triggering event
    price: str  # key of PRICES
    # What the item pays for, where a design choice in benchmarks.cost_floor changes it.
    part: str = ""

    @property
    def usd(self) -> float:
        return self.quantity * PRICES[self.price][0]


@dataclass(frozen=True)
class Measured:
    """Durations (ms) and DynamoDB write units (per record) per function, with their source."""

    duration_ms: dict[str, float]
    writes_per_record: dict[str, float]
    audit_write_units: dict[str, float]  # per event type: one audit-trail record
    records_per_measure: dict[str, int]
    sources: dict[str, str]


# --- reading the template -----------------------------------------------------------------


def synthesize_prod(outdir: Path) -> Path:
    """`cdk synth -c concord:stage=prod -c concord:bundle=code`, as concord.local.template does for local."""
    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    context.update({"concord:stage": STAGE, "concord:bundle": "code"})
    env = {
        **os.environ,
        "CDK_OUTDIR": str(outdir),
        "CDK_CONTEXT_JSON": json.dumps(context),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "infra" / "app.py")], env=env, cwd=REPO_ROOT, capture_output=True, text=True
    )
    template = outdir / f"{STACK_NAME}.template.json"
    if result.returncode != 0 or not template.exists():
        raise RuntimeError(f"cdk synth of the {STAGE} stage failed:\n{result.stderr[-4000:]}")
    return template


def architectures(template: dict[str, Any]) -> dict[str, str]:
    """Function name → instruction set (Lambda's default is x86_64)."""
    resolver = Resolver(template, STACK_NAME)
    return {
        resolver.name_of(lid): (resource["Properties"].get("Architectures") or ["x86_64"])[0]
        for lid, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function"
    }


def folder_of(topology: Topology, function_name: str) -> str:
    """functions/<folder> of a deployed function name."""
    return topology.function(function_name).source.rsplit("/", 1)[-1]


def matches(pattern: dict[str, Any], source: str, detail_type: str) -> bool:
    """Whether an event pattern of exact `source` / `detail-type` values matches."""
    unsupported = set(pattern) - {"source", "detail-type"}
    if unsupported:
        raise ValueError(f"the cost model reads only source / detail-type patterns, not {sorted(unsupported)}")
    return source in pattern.get("source", [source]) and detail_type in pattern.get("detail-type", [detail_type])


def front_door(template: dict[str, Any]) -> list[LineItem]:
    """What a webhook request costs before the function: the API in the template and its WAF."""
    kinds = {resource["Type"] for resource in template["Resources"].values()}
    items = []
    if "AWS::ApiGateway::RestApi" in kinds:
        items.append(LineItem("API Gateway", "REST API: POST /webhooks/{source}", 1, "api_gateway_rest_request", "api"))
    elif "AWS::ApiGatewayV2::Api" in kinds:
        items.append(LineItem("API Gateway", "HTTP API: POST /webhooks/{source}", 1, "api_gateway_http_request", "api"))
    if "AWS::WAFv2::WebACLAssociation" in kinds:
        items.append(LineItem("WAF", "web ACL on the webhook API: request inspected", 1, "waf_request", "waf"))
    return items


def happy_path(definition: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """States an execution passes through when every step succeeds (each is one transition)."""
    states, name, path = definition["States"], definition["StartAt"], []
    while name is not None:
        state = states[name]
        path.append((name, state))
        name = None if state.get("End") or state["Type"] in ("Succeed", "Fail") else state.get("Next")
    return path


# --- the model ----------------------------------------------------------------------------


class Model:
    def __init__(
        self, template: dict[str, Any], topology: Topology, measured: Measured, batch_fill: int | None
    ) -> None:
        self.topology = topology
        self.measured = measured
        self.batch_fill = batch_fill  # records per consumer batch; None = the mapping's batch size
        self.arch = architectures(template)
        self.front_door = front_door(template)
        self.assumed: set[str] = set()  # consumers priced with the generic "consumer" assumptions
        self.consumers: list[str] = []  # every consumer an event reached, in order (for the flow's name)
        self.trigger = ""

    def lambda_items(self, function_name: str, invocations: float, duration_ms: float, what: str) -> list[LineItem]:
        spec = self.topology.function(function_name)
        # Billed duration is rounded up to the millisecond.
        gb_seconds = spec.memory_mb / 1024 * math.ceil(duration_ms) / 1000
        return [
            LineItem("Lambda", f"{what}: requests", invocations, "lambda_request"),
            LineItem(
                "Lambda",
                f"{what}: {spec.memory_mb} MB x {duration_ms:.0f} ms",
                invocations * gb_seconds,
                f"lambda_gb_second_{self.arch[function_name]}",
            ),
        ]

    def webhook(self, event_type: str) -> list[LineItem]:
        """A canonical event delivered by webhook: API Gateway → ingest λ → bus → its consumers."""
        self.trigger = event_type
        ingest = next(f.name for f in self.topology.functions if folder_of(self.topology, f.name) == "webhook_ingest")
        return [
            *self.front_door,
            *self.lambda_items(ingest, 1, self.measured.duration_ms["webhook_ingest"], "webhook_ingest"),
            LineItem("DynamoDB", "webhook_ingest: delivery ledger read", INGEST_READ_UNITS, "dynamodb_read_unit"),
            LineItem(
                "DynamoDB",
                "webhook_ingest: delivery ledger write",
                self.measured.writes_per_record["webhook_ingest"],
                "dynamodb_write_unit",
            ),
            *self.published(event_type),
        ]

    def published(self, event_type: str) -> list[LineItem]:
        """One event put on the bus: PutEvents, the archive, every queue a rule routes it to."""
        source, size_gb = f"concord.{producer_of(event_type).value}", ASSUMED_EVENT_BYTES / 1e9
        items = [LineItem("EventBridge", f"PutEvents {event_type}", 1, "eventbridge_event")]
        for archive in self.topology.archives:
            if archive["pattern"] is None or matches(archive["pattern"], source, event_type):
                items += [
                    LineItem("EventBridge", f"archive {event_type}", size_gb, "eventbridge_archive_gb"),
                    LineItem(
                        "EventBridge",
                        f"archive storage, {archive['retention_days']} days",
                        size_gb * archive["retention_days"] / 30,
                        "eventbridge_archive_gb_month",
                        "archive_storage",
                    ),
                ]
        for rule in self.topology.rules:
            if matches(rule.pattern, source, event_type):
                for queue_arn in rule.target_queue_arns:
                    items += self.consumed(queue_arn.rsplit(":", 1)[-1], event_type)
        return items

    def consumed(self, queue: str, event_type: str) -> list[LineItem]:
        """A message through a queue to its consumer: send, receive and delete per batch, invocation per batch."""
        mapping = next(m for m in self.topology.event_sources if m.queue_name == queue)
        folder = folder_of(self.topology, mapping.function_name)
        self.consumers.append(folder if event_type == self.trigger else f"{folder} ({event_type})")
        fill = min(self.batch_fill or mapping.batch_size, mapping.batch_size)
        if folder not in self.measured.duration_ms:
            self.assumed.add(folder)
        per_record_ms = self.measured.duration_ms.get(
            folder, ASSUMED_DURATION_MS["consumer"]
        ) / self.measured.records_per_measure.get(folder, 1)
        if folder == AUDIT_TRAIL.folder:
            writes = self.measured.audit_write_units[event_type]
        else:
            writes = self.measured.writes_per_record.get(folder, ASSUMED_WRITES_PER_RECORD["consumer"])
        items = [
            LineItem("SQS", f"{queue}: SendMessage (rule target)", 1, "sqs_request"),
            LineItem("SQS", f"{queue}: ReceiveMessage + DeleteMessageBatch, {fill}/batch", 2 / fill, "sqs_request"),
            # Duration assumed proportional to the records in the batch.
            *self.lambda_items(mapping.function_name, 1 / fill, per_record_ms * fill, f"{folder} ({fill}/batch)"),
        ]
        if writes:
            items.append(LineItem("DynamoDB", f"{folder}: {writes:g} write units", writes, "dynamodb_write_unit"))
        if folder == AUDIT_TRAIL.folder:
            items = [replace(item, part=AUDIT_TRAIL.name) for item in items]
        if folder == QUOTE_TO_CASH.folder:
            items += self.saga()
        return items

    def saga(self) -> list[LineItem]:
        """One quote-to-cash execution along its happy path."""
        [machine] = self.topology.state_machines
        path = happy_path(json.loads(machine.definition))
        items = [
            LineItem("Step Functions", f"{machine.name}: {len(path)} states", len(path), "sfn_standard_transition")
        ]
        for name, state in path:
            if state["Type"] != "Task":
                continue
            function_name = state["Resource"].rsplit(":", 1)[-1]
            folder = folder_of(self.topology, function_name)
            duration = self.measured.duration_ms.get(f"saga:{name}", ASSUMED_DURATION_MS["saga_step"])
            items += self.lambda_items(function_name, 1, duration, f"{name}")
            items.append(
                LineItem(
                    "DynamoDB",
                    f"{name}: idempotency + cross-references",
                    SAGA_STEP_WRITE_UNITS.get(folder, SAGA_STEP_DEFAULT_WRITE_UNITS),
                    "dynamodb_write_unit",
                )
            )
            if folder in SAGA_STEP_PUBLISHES:
                items += self.published(SAGA_STEP_PUBLISHES[folder])
        return items


def per_million(items: list[LineItem]) -> float:
    return sum(item.usd for item in items) * 1e6


def by_service(items: list[LineItem]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for item in items:
        totals[item.service] = totals.get(item.service, 0.0) + item.usd * 1e6
    return totals


# --- measurements -------------------------------------------------------------------------


def load_measured(results: Path) -> Measured:
    """Durations and writes from the other benchmarks' JSON where present, else the assumptions."""
    duration = dict(ASSUMED_DURATION_MS)
    writes = dict(ASSUMED_WRITES_PER_RECORD)
    records: dict[str, int] = {}
    sources = {name: "assumed" for name in duration} | {f"writes:{name}": "assumed (from the code)" for name in writes}
    sources[f"writes:{AUDIT_TRAIL.folder}"] = (
        f"item sizes of the mapping corpus' events with the {STAGE} rendering (benchmarks._audit_units)"
    )

    memory = _read(results / "memory.json")
    for row in memory.get("functions", []):
        name = row["function"]
        if "warm_invocation_ms" in row and name in duration:
            duration[name] = row["warm_invocation_ms"]
            records[name] = row["records"]
            sources[name] = f"memory.json: warm invocation under moto, {row['records']} record(s)"
            if name == AUDIT_TRAIL.folder:
                continue  # its records are sized per event type, not counted
            writes[name] = (
                sum(
                    n
                    for op, n in row["aws_requests"].items()
                    if op.split(":")[1] in ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem")
                )
                / row["records"]
            )
            sources[f"writes:{name}"] = "memory.json: counted requests"
    webhook = _read(results / "webhook_latency.json")
    if "webhook_ack_ms" in webhook:
        duration["webhook_ingest"] = webhook["webhook_ack_ms"]["median"]
        records["webhook_ingest"] = 1
        sources["webhook_ingest"] = "webhook_latency.json: median HTTP acknowledgement on the local stack (upper bound)"
    flows = _read(results / "flow_throughput.json")
    for flow, row in flows.get("flows", {}).items():
        if flow in FLOW_FUNCTIONS and row.get("records_per_second"):
            folder = FLOW_FUNCTIONS[flow]
            duration[folder], records[folder] = 1000 / row["records_per_second"], 1
            sources[folder] = "flow_throughput.json: 1 / records per second against Tryton (upper bound)"
    saga = _read(results / "saga_latency.json")
    for step, row in saga.get("step_ms", {}).items():
        duration[f"saga:{step}"] = row["median"]
        sources[f"saga:{step}"] = "saga_latency.json: median step against Tryton (includes invoke overhead)"
    return Measured(duration, writes, write_units_by_type(STAGE), records, sources)


def _read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}


# Canonical events delivered by webhook, each priced with everything the template routes it to.
FLOWS = (
    "AccountChanged",
    "OpportunityClosedWon",
    "TimeApproved",
    "InvoicePosted",
    "PaymentReceived",
    "StaffingChanged",
)
# The webhook paths issue 16 sets the $3 goal for: their floor is printed choice by choice.
GOAL_FLOWS = ("AccountChanged", "TimeApproved", "PaymentReceived")
# flow_throughput.json's flows -> their consumer function
FLOW_FUNCTIONS = {flow.label: flow.folder for flow in (BILLING, FINANCIAL_STATUS, CUSTOMER_MASTER, PROJECT_TERMS)}


def model_costs(
    template: dict[str, Any], topology: Topology, measured: Measured, batch_fill: int | None
) -> dict[str, Any]:
    flows = {}
    for event_type in FLOWS:
        model = Model(template, topology, measured, batch_fill)
        items = model.webhook(event_type)
        flow = f"{event_type}: webhook -> bus -> {' + '.join(model.consumers)}"
        one_by_one = Model(template, topology, measured, 1).webhook(event_type)
        archive_days = max((archive["retention_days"] for archive in topology.archives), default=0)
        flows[flow] = {
            "goal_flow": event_type in GOAL_FLOWS,
            "taken": taken(items, per_million(one_by_one)),
            "floor": ladder(items, archive_days) if archive_days else [],
            "design_minimum": design_minimum(items),
            "consumers_priced_by_assumption": sorted(model.assumed),
            "usd_per_million": per_million(items),
            "usd_per_million_batches_of_one": per_million(one_by_one),
            "by_service": by_service(items),
            "items": [asdict(item) | {"usd_per_million": item.usd * 1e6} for item in items],
        }
    return flows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--batch-fill",
        type=int,
        default=None,
        help="records per SQS batch (default: the mapping's batch size, i.e. full batches)",
    )
    parser.add_argument("--template", type=Path, default=None, help="an already synthesized prod template")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="concord-bench-") as outdir:
        template_path = args.template or synthesize_prod(Path(outdir))
        template = json.loads(template_path.read_text())
        topology = read_topology(template_path, STACK_NAME)
    measured = load_measured(RESULTS)
    flows = model_costs(template, topology, measured, args.batch_fill)

    # The floor: the same events published once on the bus and nothing else (no API, no λ, no queue).
    floor = PRICES["eventbridge_event"][0] * 1e6
    results = {
        **provenance(),
        "prices_as_of": PRICES_AS_OF,
        "prices_usd": {name: price for name, (price, _) in PRICES.items()},
        "durations_ms": measured.duration_ms,
        "measurement_sources": measured.sources,
        "flows": flows,
        "figures": [
            figure(
                f"cost per 1M: {flow.split(':')[0]}",
                row["usd_per_million"],
                "USD",
                floor,
                "1M PutEvents alone",
                note=f"batches of one: {row['usd_per_million_batches_of_one']:.2f} USD",
            )
            for flow, row in flows.items()
        ],
    }
    path = write_results("cost_model", results)

    print(f"modelled AWS cost, {STAGE} stage template, us-east-1 ({results['commit']})")
    print(f"price table ({PRICES_AS_OF}):")
    for name, (price, unit) in PRICES.items():
        print(f"  {name:32} {price:14.10f} USD {unit}")
    print("durations used:")
    for name, ms in measured.duration_ms.items():
        print(f"  {name:32} {ms:9.1f} ms  {measured.sources.get(name, '')}")
    for flow, row in flows.items():
        print(f"\n{flow}")
        for item in row["items"]:
            print(f"  {item['service']:15} {item['what'][:72]:72} {item['usd_per_million']:9.3f}")
        services = ", ".join(f"{s} {usd:.2f}" for s, usd in row["by_service"].items())
        if row["consumers_priced_by_assumption"]:
            print(
                f"  (not measured, priced as a generic consumer: {', '.join(row['consumers_priced_by_assumption'])}: "
                f"{ASSUMED_DURATION_MS['consumer']:.0f} ms and "
                f"{ASSUMED_WRITES_PER_RECORD['consumer']:.0f} WRU per record)"
            )
        print(
            f"  = {row['usd_per_million']:.2f} USD per 1M events ({services}); "
            f"{row['usd_per_million_batches_of_one']:.2f} with SQS batches of one; "
            f"x{row['usd_per_million'] / floor:.1f} the floor ({floor:.2f} USD: 1M PutEvents alone)"
        )
    for flow, row in flows.items():
        if row["goal_flow"]:
            print_floor(flow, row["taken"], row["floor"], row["usd_per_million"], row["design_minimum"])
    print(f"written to {path}")


if __name__ == "__main__":
    main()
