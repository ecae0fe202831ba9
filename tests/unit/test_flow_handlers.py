"""The flow functions against moto: partial batch failures with reasons, idempotent delivery,
and the cross-reference registry (relations, lineage, versions) on a real DynamoDB API."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from concord.aws import systems as aws_systems
from concord.domain import Customer, FinancialStatus, InvoiceState, LineageEntry
from concord.events import Envelope, new_event
from concord.events.envelope import ChangeNotifiedEvent
from concord.events.types import Money, System
from concord.stores.registry import Registry
from concord.sync.ids import canonical_id

from . import sync_world as flows
from .fakes import FakeCrm, FakeErp, FakePsa, system_of_record, us_rules
from .tables import create_audit_table, create_registry_table

XREF, IDEMPOTENCY, AUDIT, BUS = "concord-test-xref", "concord-test-idempotency", "concord-test-audit", "concord-test"


def _table(dynamodb: Any, name: str, keys: tuple[str, ...]) -> None:
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": k, "KeyType": t} for k, t in zip(keys, ("HASH", "RANGE"), strict=False)],
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in keys],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture()
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        create_registry_table(dynamodb, XREF)
        create_audit_table(dynamodb, AUDIT)
        _table(dynamodb, IDEMPOTENCY, ("id",))
        boto3.client("events").create_event_bus(Name=BUS)
        for name, value in {
            "IDEMPOTENCY_TABLE_NAME": IDEMPOTENCY,
            "XREF_TABLE_NAME": XREF,
            "AUDIT_TABLE_NAME": AUDIT,
            "EVENT_BUS_NAME": BUS,
            "SYSTEMS_SECRET_PREFIX": "concord/test/systems",
            "RETRY_BASE_SECONDS": "0",
            "LEGAL_ENTITIES": json.dumps({"us-01": us_rules().model_dump(mode="json")}),
            "SYSTEM_OF_RECORD": system_of_record().model_dump_json(by_alias=True, exclude_none=True),
        }.items():
            monkeypatch.setenv(name, value)
        aws_systems._shared_parts.cache_clear()
        yield dynamodb
        aws_systems._shared_parts.cache_clear()


@pytest.fixture()
def fakes(monkeypatch: pytest.MonkeyPatch, aws: Any) -> tuple[FakeCrm, FakePsa, FakeErp]:
    """The three systems as fakes; the registry is the real one (moto), seeded as quote-to-cash leaves it."""
    crm, psa, erp = FakeCrm(), FakePsa(), FakeErp()
    monkeypatch.setattr(aws_systems, "connectors_for", lambda settings: (crm, psa, erp))
    xref = Registry(aws, XREF)
    for object_type, ref, system, record in (
        ("customer", flows.CUSTOMER_REF, System.CRM, flows.ACCOUNT),
        ("customer", flows.CUSTOMER_REF, System.ERP, flows.ERP_CUSTOMER),
        ("project", flows.PROJECT_REF, System.CRM, flows.OPPORTUNITY),
        ("project", flows.PROJECT_REF, System.PSA, flows.PSA_PROJECT),
    ):
        xref.link(object_type, ref, system, record, "q2c")
    xref.relate("project", flows.PROJECT_REF, "customer", flows.CUSTOMER_REF)
    return crm, psa, erp


def sqs_event(events: list[tuple[str, Envelope | str]]) -> dict[str, Any]:
    """An SQS batch as an EventBridge rule delivers it; a str body is sent as it is."""
    return {
        "Records": [
            {
                "messageId": message_id,
                "receiptHandle": f"handle-{message_id}",
                "body": event
                if isinstance(event, str)
                else json.dumps(
                    {
                        "id": f"bus-{message_id}",
                        "source": event.bus_source,
                        "detail-type": event.type,
                        "detail": event.model_dump(mode="json"),
                    }
                ),
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1700000000000"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:concord-test-flow",
                "awsRegion": "us-east-1",
            }
            for message_id, event in events
        ]
    }


def _failed(response: dict[str, Any]) -> list[str]:
    return [f["itemIdentifier"] for f in response["batchItemFailures"]]


def test_one_poison_record_in_ten_fails_alone_with_its_reason_recorded(
    fakes: tuple[FakeCrm, FakePsa, FakeErp],
    load_handler: Callable[[str], ModuleType],
    lambda_context: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, _, erp = fakes
    monkeypatch.setattr("concord.aws.consumer.client", lambda name: _NoSqs())
    batch: list[tuple[str, Envelope | str]] = [(f"m{i}", flows.time_event(str(i))) for i in range(9)]
    batch.append(("poison", '{"not": "an event"}'))
    response = load_handler("billing").handler(sqs_event(batch), lambda_context)

    assert _failed(response) == ["poison"]
    assert len(erp.lines) == 9 and erp.line_calls == [9]
    failure = boto3.resource("dynamodb").Table(AUDIT).scan()["Items"]
    assert [item["consumer"] for item in failure if item["sk"].startswith("FAILURE#")] == ["billing"]
    xref = Registry(boto3.client("dynamodb"), XREF)
    lineage = xref.lineage("time_entry", canonical_id("time_entry", System.PSA, "3"))
    assert [(e.system, e.event_type) for e in lineage] == [("erp", "TimeApproved")]


def test_three_deliveries_of_a_payment_make_one_status_change(
    fakes: tuple[FakeCrm, FakePsa, FakeErp],
    load_handler: Callable[[str], ModuleType],
    lambda_context: Any,
) -> None:
    crm, psa, _ = fakes
    xref = Registry(boto3.client("dynamodb"), XREF)
    invoice_ref = canonical_id("invoice", System.ERP, "500")
    xref.link("invoice", invoice_ref, System.ERP, "500", "bill")
    xref.relate("invoice", invoice_ref, "project", flows.PROJECT_REF)
    handler = load_handler("financial_status").handler
    assert _failed(handler(sqs_event([("p", flows.posted())]), lambda_context)) == []
    payment = flows.paid("p1", "1125", "0")
    for attempt in range(3):
        assert _failed(handler(sqs_event([(f"d{attempt}", payment)]), lambda_context)) == []
    assert crm.statuses[flows.OPPORTUNITY] == [FinancialStatus.INVOICED, FinancialStatus.PAID]
    assert psa.billing_statuses[flows.PSA_PROJECT] == [FinancialStatus.INVOICED, FinancialStatus.PAID]


def test_a_payment_before_its_invoice_goes_back_to_the_queue(
    fakes: tuple[FakeCrm, FakePsa, FakeErp],
    load_handler: Callable[[str], ModuleType],
    lambda_context: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("concord.aws.consumer.client", lambda name: _NoSqs())
    xref = Registry(boto3.client("dynamodb"), XREF)
    invoice_ref = canonical_id("invoice", System.ERP, "500")
    xref.link("invoice", invoice_ref, System.ERP, "500", "bill")
    xref.relate("invoice", invoice_ref, "project", flows.PROJECT_REF)
    response = load_handler("financial_status").handler(
        sqs_event([("early", flows.paid("p1", "1", "0"))]), lambda_context
    )
    assert _failed(response) == ["early"]
    reasons = [i["reason"] for i in boto3.resource("dynamodb").Table(AUDIT).scan()["Items"] if "reason" in i]
    assert reasons and "InvoicePosted" in reasons[0] and reasons[0].startswith("PrerequisiteMissing")


RELAY_BUS = "aws.partner/salesforce.com/00DRM000000Fxts2AC/0YLRM0000004Dfg4AE"


def test_enrichment_takes_notices_and_relayed_change_events_and_parks_what_is_malformed(
    fakes: tuple[FakeCrm, FakePsa, FakeErp],
    load_handler: Callable[[str], ModuleType],
    lambda_context: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    crm, _, _ = fakes
    monkeypatch.setattr("concord.aws.consumer.client", lambda name: _NoSqs())
    monkeypatch.setenv("SALESFORCE_EVENT_RELAYS", json.dumps([{"event_bus_name": RELAY_BUS, "system": "crm"}]))
    now = dt.datetime(2026, 11, 26, 9, tzinfo=dt.UTC)
    crm.customers["001RM000005a9tGYAQ"] = Customer(account_id="001RM000005a9tGYAQ", name="Acme", legal_entity="us-01")
    crm.customers["0015e00000ZkM3hAAF"] = Customer(account_id="0015e00000ZkM3hAAF", name="Beta", legal_entity="us-01")
    for account in crm.customers:
        crm.touch("customer", account, now)
    notice = new_event(
        ChangeNotifiedEvent,
        {
            "system": "crm",
            "record_type": "customer",
            "record_ids": ["0015e00000ZkM3hAAF"],
            "vendor_source": "salesforce",
        },
        legal_entity="us-01",
        occurred_at=now,
    )
    relayed = json.loads(
        (Path(__file__).parent / "fixtures" / "salesforce_cdc" / "event_relay_account_update.json").read_text()
    )["event"]
    foreign = {**relayed, "source": "aws.partner/salesforce.com/00D000000000001AAA/0YL000000000001AAA"}
    batch: list[tuple[str, Envelope | str]] = [
        ("notice", notice),
        ("relayed", json.dumps(relayed)),
        ("foreign", json.dumps(foreign)),
        ("wrong-type", flows.posted()),
    ]

    tap = _tap_bus("concord.crm")
    response = load_handler("enrichment").handler(sqs_event(batch), lambda_context)

    assert sorted(_failed(response)) == ["foreign", "wrong-type"]
    announced = _tapped(tap)
    assert sorted(e["detail"]["data"]["account_id"] for e in announced if e["detail-type"] == "AccountChanged") == [
        "0015e00000ZkM3hAAF",
        "001RM000005a9tGYAQ",
    ]
    reasons = sorted(i["reason"] for i in boto3.resource("dynamodb").Table(AUDIT).scan()["Items"] if "reason" in i)
    assert reasons[0].startswith("ValidationError") and "InvoicePosted" in reasons[1]


def _tap_bus(source: str) -> str:
    """A rule sending the bus's events from `source` to a queue (moto delivers them); its URL."""
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="bus-tap")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = boto3.client("events")
    events.put_rule(Name="tap", EventBusName=BUS, EventPattern=json.dumps({"source": [source]}))
    events.put_targets(Rule="tap", EventBusName=BUS, Targets=[{"Id": "tap", "Arn": arn}])
    return url


def _tapped(url: str) -> list[dict[str, Any]]:
    messages = boto3.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_the_registry_keeps_versions_relations_lineage_and_invoice_states(aws: Any) -> None:
    xref = Registry(aws, XREF)
    now = dt.datetime(2026, 11, 26, 9, tzinfo=dt.UTC)
    assert xref.applied_version("customer", "c1") is None
    assert xref.advance_version("customer", "c1", now, "e2")
    assert not xref.advance_version("customer", "c1", now - dt.timedelta(seconds=1), "e1")
    assert xref.advance_version("customer", "c1", now + dt.timedelta(hours=1), "e3")
    assert xref.applied_version("customer", "c1") == now + dt.timedelta(hours=1)

    xref.relate("invoice", "i1", "project", "p1")
    assert xref.related("invoice", "i1", "project") == "p1" and xref.related("invoice", "i2", "project") is None

    entry = LineageEntry(
        at=now, system="erp", record_id="9", event_id="e1", event_type="AccountChanged", action="updated name"
    )
    xref.record_change("customer", "c1", entry)
    xref.record_change("customer", "c1", entry)  # a redelivery is one entry
    assert xref.lineage("customer", "c1") == [entry]

    usd = Money(amount=100, currency="USD")
    state = InvoiceState(invoice_id="500", total=usd, amount_due=usd, due_on=now.date(), payments=frozenset({"p1"}))
    assert xref.update_invoice_state("p1", "500", lambda known: state) == state
    assert xref.update_invoice_state("p1", "500", lambda known: known) is None  # unchanged: no write
    assert xref.invoice_states("p1") == [state]


class _NoSqs:
    """The back-off call of a failed record (change_message_visibility) has no queue here."""

    def change_message_visibility(self, **_: Any) -> None:
        return None

    def get_queue_url(self, **_: Any) -> dict[str, str]:
        return {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/concord-test-flow"}
