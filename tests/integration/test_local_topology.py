"""The local stack reads its resources from the CDK app's synthesized template."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from concord.local.template import Topology, read_topology, synthesize
from concord.stores.audit import BY_KIND_INDEX
from concord.stores.registry import BY_OBJECT_TYPE_INDEX

from ..conftest import REPO_ROOT


@pytest.fixture(scope="module")
def template(local_synth_cache: Path) -> Path:
    return synthesize(local_synth_cache)


@pytest.fixture(scope="module")
def topology(template: Path) -> Topology:
    return read_topology(template, "concord-local")


def test_routes_mappings_and_queues_come_from_the_template(template: Path, topology: Topology) -> None:
    raw = json.loads(template.read_text())["Resources"]
    kinds = [r["Type"] for r in raw.values()]
    assert len(topology.event_sources) == kinds.count("AWS::Lambda::EventSourceMapping")
    assert len(topology.queues) == kinds.count("AWS::SQS::Queue")
    assert len(topology.functions) == kinds.count("AWS::Lambda::Function")
    sources = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]["concord:stages"]["local"]["webhook_sources"]
    expected = {("POST", f"/webhooks/{source}") for source in sources} | {("POST", "/webhooks/{source}")}
    assert {(r.method, r.path) for r in topology.routes} == expected


def test_every_polled_queue_has_its_dlq_and_receive_count(topology: Topology) -> None:
    queues = {q.name: q for q in topology.queues}
    for mapping in topology.event_sources:
        queue = queues[mapping.queue_name]
        assert queue.dlq_name in queues
        assert queue.max_receive_count == 3  # the local stage's setting in cdk.json
        assert mapping.report_batch_item_failures


def test_function_environment_is_resolved_to_local_names(topology: Topology) -> None:
    names = {t.name for t in topology.tables} | set(topology.buses)
    for function in topology.functions:
        for key in ("AUDIT_TABLE_NAME", "IDEMPOTENCY_TABLE_NAME", "EVENT_BUS_NAME"):
            if key in function.environment:
                assert function.environment[key] in names
        assert not any("Fn::" in v or "Ref" in v for v in function.environment.values())


def test_the_stores_indexes_come_from_the_template(topology: Topology) -> None:
    tables = {t.name: t for t in topology.tables}
    indexes = {
        name: {i["IndexName"]: [k["AttributeName"] for k in i["KeySchema"]] for i in tables[name].global_secondary_indexes}
        for name in ("concord-local-audit", "concord-local-xref")
    }
    assert indexes == {"concord-local-audit": {BY_KIND_INDEX: ["kind", "at"]},
                       "concord-local-xref": {BY_OBJECT_TYPE_INDEX: ["object_type", "canonical_id"]}}


def test_rules_target_queues_that_exist(topology: Topology) -> None:
    queue_names = {q.name for q in topology.queues}
    for rule in topology.rules:
        assert rule.bus_name in topology.buses
        assert {arn.rsplit(":", 1)[-1] for arn in rule.target_queue_arns} <= queue_names


def test_topology_round_trips_through_json(topology: Topology) -> None:
    assert Topology.from_json(topology.to_json()) == topology


def test_synthesis_is_cached_by_its_inputs(tmp_path: Path, template: Path) -> None:
    assert synthesize(template.parent.parent) == template
