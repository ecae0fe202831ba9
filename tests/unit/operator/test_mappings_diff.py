"""`concord mappings diff` against moto: what the current mappings render for the audit trail's
recent events against the rendering kept when each was recorded; Queries only, nothing sent."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.client import BaseClient
from typer.testing import CliRunner

from concord.cli.main import app
from concord.clock import utc_now
from concord.connectors.business_central import mappers as business_central_mappers
from concord.events import Envelope, new_event
from concord.events.envelope import AccountChangedEvent, InvoicePostedEvent
from concord.local.template import REPO_ROOT
from concord.mappings.inputs import MappingSettings
from concord.mappings.render import rendering
from concord.operator.mappings import Outcome, diff_event, stage_mapping_config
from concord.stores.audit_items import DeliveryTimings

from .helpers import STAGE, Stage

CONFIG = stage_mapping_config("local", REPO_ROOT)


def concord(*args: str) -> Any:
    return CliRunner().invoke(
        app,
        ["mappings", "diff", *args, "--stage", STAGE, "--config-stage", "local", "--region", "us-east-1"],
        env={"COLUMNS": "200"},
    )


def account(account_id: str, name: str, days_ago: float) -> Envelope:
    at = utc_now() - dt.timedelta(days=days_ago)
    data = {"account_id": account_id, "name": name, "currency": "USD"}
    return new_event(AccountChangedEvent, data, legal_entity="us-01", occurred_at=at, ingested_at=at)


def record(stage: Stage, event: Envelope, rendered: str | None) -> None:
    assert stage.stores.audit.record_event(event, DeliveryTimings(None, None), rendered)


@pytest.fixture
def dynamodb_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    calls: list[str] = []
    make_api_call = BaseClient._make_api_call

    def watched(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if client.meta.service_model.service_name == "dynamodb":
            calls.append(operation)
        return make_api_call(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", watched)
    yield calls


def renamed_display_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """A deliberate mapping change: Business Central customers' displayName sent as `name`."""
    original = business_central_mappers.to_bc_customer

    def renamed(*args: Any, **kwargs: Any) -> dict[str, Any]:
        body = original(*args, **kwargs)
        body["name"] = body.pop("displayName")
        return body

    monkeypatch.setattr(business_central_mappers, "to_bc_customer", renamed)


def test_a_changed_mapping_is_shown_as_a_diff_and_exits_1(
    stage: Stage, monkeypatch: pytest.MonkeyPatch, dynamodb_calls: list[str]
) -> None:
    unchanged, changed, old = account("A-1", "Acme", 1), account("A-2", "Globex", 2), account("A-3", "Initech", 9)
    for event in (changed, old):  # sent by the mappings deployed then
        record(stage, event, rendering(event, CONFIG))
    renamed_display_name(monkeypatch)  # the checkout's mappings from here on
    record(stage, unchanged, rendering(unchanged, CONFIG))  # sent after the change was deployed

    result = concord("--from", "7d")

    assert result.exit_code == 1, result.output
    assert f"unchanged AccountChanged {unchanged.id}" in result.output
    assert f"changed AccountChanged {changed.id}" in result.output
    assert old.id not in result.output  # published 9 days ago: outside the window
    assert '-          "displayName": "Globex",' in result.output
    assert '+          "name": "Globex",' in result.output
    assert "1 of 2 event(s) would be sent differently" in result.output
    assert "Scan" not in dynamodb_calls and "Query" in dynamodb_calls


def test_nothing_changed_exits_0_and_events_without_a_kept_rendering_are_named(stage: Stage) -> None:
    same, unknown = account("A-1", "Acme", 1), account("A-4", "Umbrella", 1)
    record(stage, same, rendering(same, CONFIG))
    record(stage, unknown, None)

    result = concord("--from", "2d", "--json")

    assert result.exit_code == 0, result.output
    outcomes = {e["event_id"]: e["outcome"] for e in json.loads(result.output)["events"]}
    assert outcomes == {same.id: "unchanged", unknown.id: "not recorded"}


def test_an_unknown_configuration_stage_is_a_usage_error(stage: Stage) -> None:
    result = CliRunner().invoke(app, ["mappings", "diff", "--stage", STAGE, "--region", "us-east-1"])
    assert result.exit_code == 2
    assert "no stage 't' in cdk.json" in result.output


def test_a_kept_rendering_unlike_the_current_one_shows_both_sides(stage: Stage) -> None:
    """Kept: Kantata alone, with no request; current: every CRM and PSA's status write."""
    posted = new_event(
        InvoicePostedEvent,
        {
            "invoice_id": "I-1",
            "number": "SI-1",
            "customer_id": "C-1",
            "invoiced_on": "2026-03-01",
            "due_on": "2026-03-31",
            "total": {"amount": "100", "currency": "USD"},
        },
        legal_entity="us-01",
        occurred_at=utc_now(),
    )
    stage.stores.audit.record_event(posted, DeliveryTimings(None, None), '{"kantata": {"requests": []}}\n')
    [recorded] = stage.stores.audit.events([posted.id])
    found = diff_event(recorded, CONFIG)
    assert found.outcome is Outcome.CHANGED
    assert '-{"kantata": {"requests": []}}' in found.diff
    added = [line for line in found.diff.splitlines() if line.startswith("+")]
    assert any('"Concord_Financial_Status__c": "overdue"' in line for line in added)  # due 2026-03-31


def test_the_audit_trail_consumer_keeps_the_rendering_of_each_event(
    stage: Stage, load_handler: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEGAL_ENTITIES", json.dumps({k: v.model_dump(mode="json") for k, v in CONFIG.rules.items()}))
    monkeypatch.setenv("SYSTEM_OF_RECORD", CONFIG.ownership.model_dump_json(by_alias=True))
    event = account("A-5", "Hooli", 0)
    body = json.dumps(
        {
            "version": "0",
            "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
            "detail-type": event.type,
            "source": event.bus_source,
            "account": "123456789012",
            "time": event.occurred_at.isoformat(),
            "region": "us-east-1",
            "resources": [],
            "detail": json.loads(event.model_dump_json()),
        }
    )
    message = {
        "messageId": "m-1",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0", "ApproximateFirstReceiveTimestamp": "0"},
    }
    handler = load_handler("audit_trail")

    config = MappingSettings.from_env().config()
    assert handler.record_event(SQSRecord(message), stage.stores.audit, config) is True

    recorded = stage.stores.audit.event(event.id)
    assert recorded is not None and recorded.rendered_requests == rendering(event, CONFIG)
    assert '"displayName": "Hooli"' in recorded.rendered_requests
