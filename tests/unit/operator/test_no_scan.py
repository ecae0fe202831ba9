"""The operator commands list and trace by Query (the audit trail's `by_kind` index, its entity
and cause partitions, the registry's entity partition): with every DynamoDB Scan refused, the
exceptions listing, a trace and a parked message's redrive history still come out whole."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.client import BaseClient
from typer.testing import CliRunner

from concord.cli.main import app
from concord.events import Envelope, new_event
from concord.events.envelope import OpportunityClosedWonEvent, SyncExceptionRaisedEvent
from concord.operator.dlq import RedriveRun
from concord.stores.audit_items import DeliveryTimings
from concord.sync.ids import canonical_id

from ..tables import create_registry_table
from .helpers import NAMES, OPS, STAGE, Stage, account_changed, selector

WON_AT = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


class ScanRefused(AssertionError):
    pass


@pytest.fixture
def dynamodb_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every DynamoDB operation any client makes (the CLI's own included); a Scan fails the test."""
    calls: list[str] = []
    make_api_call = BaseClient._make_api_call

    def watched(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if client.meta.service_model.service_name == "dynamodb":
            calls.append(operation)
            if operation == "Scan":
                raise ScanRefused(f"scanned {params.get('TableName')}")
        return make_api_call(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", watched)
    yield calls


def concord(*args: str) -> Any:
    return CliRunner().invoke(app, [*args, "--stage", STAGE, "--region", "us-east-1"], env={"COLUMNS": "200"})


def recorded_history(stage: Stage) -> tuple[Envelope, Envelope]:
    """A won deal linked in the registry, and the sync exception its saga raised."""
    create_registry_table(stage.dynamodb, NAMES.xref_table)
    won = new_event(
        OpportunityClosedWonEvent,
        {
            "opportunity_id": "31",
            "account_id": "A-1",
            "name": "Acme rollout",
            "amount": {"amount": "1200.00", "currency": "USD"},
            "closed_on": "2026-03-01",
            "lines": [
                {
                    "service_item": "CONSULT-HR",
                    "description": "Build",
                    "quantity": "8",
                    "unit_price": {"amount": "150", "currency": "USD"},
                }
            ],
            "contract_type": "time_and_materials",
        },
        legal_entity="us-01",
        occurred_at=WON_AT,
    )
    raised = new_event(
        SyncExceptionRaisedEvent,
        {
            "flow": "quote_to_cash",
            "step": "AssignBillingTerms",
            "severity": "high",
            "error_class": "transient",
            "reason": "ERP down",
            "caused_by_event_id": won.id,
            "records": [],
        },
        legal_entity="us-01",
        occurred_at=WON_AT + dt.timedelta(minutes=1),
        correlation_id=won.correlation_id,
    )
    for event in (won, raised):
        stage.stores.audit.record_event(event, DeliveryTimings(None, None))
    stage.stores.registry.link("project", canonical_id("project", "crm", "31"), "crm", "31", won.id)
    return won, raised


def test_exceptions_trace_and_redrive_history_query_and_never_scan(stage: Stage, dynamodb_calls: list[str]) -> None:
    won, raised = recorded_history(stage)
    parked = account_changed("A-1")
    stage.park(parked)
    (first,) = RedriveRun(stage.sqs, stage.stores, stage.dlq, stage.source, OPS).run(selector(None), None)
    stage.park(parked)  # it failed again and is parked again
    dynamodb_calls.clear()

    listed = concord("exceptions", "--json")
    assert listed.exit_code == 1, listed.output
    open_items = {item["id"]: item for item in json.loads(listed.stdout)["open"]}
    assert open_items[raised.id]["caused_by_event_id"] == won.id and open_items[raised.id]["severity"] == "high"
    assert {item["event_id"] for item in open_items.values() if item["kind"] == "dlq_message"} == {parked["id"]}

    traced = concord("trace", "crm:opportunity:31", "--json")
    assert traced.exit_code == 0, traced.output
    found = json.loads(traced.stdout)
    assert found["records"]["crm"]["linked_by"] == won.id
    roles = {event["event_id"]: event["role"] for event in found["events"]}
    assert roles == {won.id: "created · linked crm:31", raised.id: "exception"}

    shown = concord("dlq", "show", parked["id"], "--json")
    assert shown.exit_code == 0, shown.output
    (earlier,) = json.loads(shown.stdout)["redrives"]
    assert (earlier["record"], earlier["status"], earlier["who"]) == (first.record, "completed", OPS.who)

    assert "Query" in dynamodb_calls and "Scan" not in dynamodb_calls
