"""The typed stores on moto: keys built and parsed in one place, item models round-tripped and
validated on read, and the index queries that list and trace without scanning."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pydantic import ValidationError

from concord.domain import LineageEntry
from concord.events import Envelope, new_event
from concord.events.envelope import (
    AccountChangedEvent,
    DriftDetectedEvent,
    OpportunityClosedWonEvent,
    SyncExceptionRaisedEvent,
)
from concord.events.types import ErrorClass
from concord.stores.audit import AuditTrail
from concord.stores.audit_items import (
    DeliveryTimings,
    EventKey,
    FailedAttempt,
    MentionKey,
    RedriveKey,
    RedriveRecord,
    ReplayKey,
    ReplayRecord,
    UnprocessedEntry,
)
from concord.stores.checkpoints import Checkpoints
from concord.stores.entities import EntityRef, entity_refs
from concord.stores.registry import CanonKey, Registry

from .tables import create_audit_table, create_checkpoints_table, create_registry_table

AUDIT, XREF, CHECKPOINTS = "t-audit", "t-xref", "t-checkpoints"
T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


class ScanRefused(AssertionError):
    pass


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb")
        create_audit_table(client, AUDIT)
        create_registry_table(client, XREF)
        create_checkpoints_table(client, CHECKPOINTS)
        yield client


@pytest.fixture
def no_scans(dynamodb: Any) -> list[str]:
    """Refuses any Scan made through the client; lists the operations made."""
    calls: list[str] = []

    def watch(model: Any, **_: Any) -> None:
        calls.append(model.name)
        if model.name == "Scan":
            raise ScanRefused("a store scanned the table")

    dynamodb.meta.events.register("before-call.dynamodb.*", watch)
    return calls


def at(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def won(opportunity: str, account: str, occurred_at: dt.datetime) -> Envelope:
    return new_event(
        OpportunityClosedWonEvent,
        {
            "opportunity_id": opportunity,
            "account_id": account,
            "name": "Rollout",
            "amount": {"amount": "1200.00", "currency": "USD"},
            "closed_on": occurred_at.date().isoformat(),
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
        occurred_at=occurred_at,
    )


def account_changed(account: str, occurred_at: dt.datetime) -> Envelope:
    return new_event(
        AccountChangedEvent,
        {"account_id": account, "name": f"Account {account}"},
        legal_entity="us-01",
        occurred_at=occurred_at,
    )


def exception(caused_by: str | None, occurred_at: dt.datetime, records: list[dict[str, str]]) -> Envelope:
    return new_event(
        SyncExceptionRaisedEvent,
        {
            "flow": "quote_to_cash",
            "step": "CreateProject",
            "severity": "high",
            "error_class": "transient",
            "reason": "PSA down",
            "caused_by_event_id": caused_by,
            "records": records,
        },
        legal_entity="us-01",
        occurred_at=occurred_at,
    )


def published(hours: float) -> DeliveryTimings:
    ms = int(at(hours).timestamp() * 1000)
    return DeliveryTimings(ms, ms)


# --------------------------------------------------------------------------- keys


def test_keys_parse_what_they_build() -> None:
    assert EventKey.parse(EventKey.of("e-1").pk) == EventKey("e-1")
    assert EventKey.of("e-1").key() == {"pk": "EVENT#e-1", "sk": "EVENT"}
    redrive = RedriveKey.message("run", "m-1")
    assert (redrive.pk, redrive.target) == ("REDRIVE#run", "MESSAGE#m-1")
    assert RedriveKey.parse(redrive.pk, redrive.target) == redrive
    assert (
        RedriveKey.execution("run", "x").target == "EXECUTION#x" and RedriveKey.move_task("run").target == "MOVE_TASK"
    )
    assert ReplayKey.parse(ReplayKey("r").pk) == ReplayKey("r")
    mention = MentionKey(EntityRef.record("project", "crm", "006#A"), "2026-03-01T09:00:00.000000+00:00", "e-9")
    assert MentionKey.parse(mention.pk, mention.sk) == mention  # a '#' inside a record id survives
    assert CanonKey.parse(CanonKey("customer", "customer-1").pk) == CanonKey("customer", "customer-1")
    with pytest.raises(ValueError, match="EVENT#"):
        EventKey.parse("REPLAY#r")


def test_an_event_names_the_entities_its_payload_means() -> None:
    assert entity_refs("OpportunityClosedWon", {"opportunity_id": "31", "account_id": "A-1"}) == [
        EntityRef("customer", "crm:A-1"),
        EntityRef("project", "crm:31"),
    ]
    assert entity_refs(
        "SyncExceptionRaised",
        {
            "records": [
                {"system": "psa", "record_type": "work", "record_id": "7"},
                {"system": "erp", "record_type": "invoice_line", "record_id": "9"},
            ]
        },
    ) == [EntityRef("project", "psa:7")]
    assert entity_refs("DriftDetected", {"object_type": "customer", "canonical_id": "customer-1"}) == [
        EntityRef("customer", "customer-1")
    ]
    assert entity_refs("AccountChanged", {"name": "no id"}) == []


# --------------------------------------------------------------------------- events


def test_an_event_round_trips_once(dynamodb: Any) -> None:
    trail = AuditTrail(dynamodb, AUDIT)
    event = won("31", "A-1", at(0))

    assert trail.record_event(event, published(0.5)) is True
    assert trail.record_event(event, published(0.7)) is False

    recorded = trail.event(event.id)
    assert recorded is not None
    assert (recorded.event_id, recorded.event_type, recorded.source_system) == (event.id, "OpportunityClosedWon", "crm")
    assert recorded.detail == event.model_dump(mode="json")
    assert recorded.occurred_at == at(0) and recorded.published_at == at(0.5)
    assert trail.event("nope") is None
    # the duplicate wrote nothing: still one index item per entity
    index = dynamodb.query(
        TableName=AUDIT,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "ENTITY#project#crm:31"}},
    )["Items"]
    assert len(index) == 1


def test_an_item_that_breaks_its_model_is_refused_on_read(dynamodb: Any) -> None:
    dynamodb.put_item(
        TableName=AUDIT, Item={"pk": {"S": "EVENT#bad"}, "sk": {"S": "EVENT"}, "event_type": {"S": "AccountChanged"}}
    )
    with pytest.raises(ValidationError):
        AuditTrail(dynamodb, AUDIT).event("bad")


def test_events_of_a_type_and_window_are_a_query(dynamodb: Any, no_scans: list[str]) -> None:
    trail = AuditTrail(dynamodb, AUDIT)
    early, edge, late = (account_changed(f"A-{n}", at(n)) for n in range(3))
    for n, event in enumerate((early, edge, late)):
        trail.record_event(event, published(n))
    trail.record_event(won("31", "A-1", at(1)), published(1))

    assert [e.event_id for e in trail.events_of_type("AccountChanged")] == [early.id, edge.id, late.id]
    window = trail.events_of_type("AccountChanged", published_from=at(1), published_to=at(2))
    assert [e.event_id for e in window] == [edge.id, late.id]  # both ends inclusive
    assert sorted(e.event_type for e in trail.events_published(at(1), at(1))) == [
        "AccountChanged",
        "OpportunityClosedWon",
    ]
    assert trail.events_published(at(5), at(6)) == []
    assert "Scan" not in no_scans and "Query" in no_scans


def test_an_entity_is_traced_by_queries_alone(dynamodb: Any, no_scans: list[str]) -> None:
    trail = AuditTrail(dynamodb, AUDIT)
    deal = won("31", "A-1", at(0))
    other = won("32", "A-2", at(0.5))
    raised = exception(deal.id, at(1), [])  # names no record: found through its trigger
    named = exception(None, at(2), [{"system": "crm", "record_type": "project", "record_id": "31"}])
    drift = new_event(
        DriftDetectedEvent,
        {
            "object_type": "project",
            "canonical_id": "project-31",
            "field": "name",
            "authority": "crm",
            "values": [{"system": "crm", "value": "a"}, {"system": "psa", "value": "b"}],
            "severity": "warning",
        },
        legal_entity="us-01",
        occurred_at=at(3),
    )
    for n, event in enumerate((deal, other, raised, named, drift)):
        trail.record_event(event, published(n))

    about = trail.events_mentioning(
        [EntityRef.record("project", "crm", "31"), EntityRef.canonical("project", "project-31")]
    )
    assert [e.event_id for e in about] == [deal.id, named.id, drift.id]  # oldest first
    assert [e.event_id for e in trail.exceptions_caused_by([e.event_id for e in about])] == [raised.id]
    assert [e.event_id for e in trail.sync_exceptions()] == [raised.id, named.id]
    assert [e.event_id for e in trail.events([other.id, "missing", deal.id])] == [deal.id, other.id]
    assert "Scan" not in no_scans


# --------------------------------------------------------------------------- failures and deliveries


def test_failures_round_trip_per_message_and_by_time(dynamodb: Any) -> None:
    trail = AuditTrail(dynamodb, AUDIT)
    for count, failed_at in ((2, at(1)), (1, at(0))):
        trail.record_failure(
            FailedAttempt(
                message_id="m-1",
                consumer="billing",
                receive_count=count,
                error_class=ErrorClass.TRANSIENT,
                reason="ERP down",
                failed_at=failed_at,
            )
        )
    trail.record_failure(
        FailedAttempt(
            message_id="m-2",
            consumer="billing",
            receive_count=1,
            error_class=ErrorClass.VALIDATION,
            reason="bad",
            event_id="e-2",
            failed_at=at(3),
        )
    )

    assert [(f.receive_count, f.failed_at) for f in trail.failures_of("m-1")] == [(1, at(0)), (2, at(1))]
    assert [(f.message_id, f.event_id) for f in trail.failures_since(at(2))] == [("m-2", "e-2")]
    assert trail.failures_of("m-3") == []


def test_an_unprocessed_delivery_round_trips(dynamodb: Any) -> None:
    trail = AuditTrail(dynamodb, AUDIT)
    items = [
        UnprocessedEntry(
            vendor_event_type="Invoice.Create",
            reason="needs_enrichment",
            detail="ids only",
            reference="realm/1/invoice/2",
            canonical_types=["InvoicePosted"],
        ),
        UnprocessedEntry(vendor_event_type="Bill.Delete", reason="not_mapped"),
    ]
    trail.record_unprocessed_delivery("quickbooks", "d-1", items, body_sha256="ab", scheme="intuit", received_at=at(1))

    stored = trail.unprocessed_delivery("quickbooks", "d-1")
    assert stored is not None and stored.items == items and stored.item_count == 2 and not stored.truncated
    assert (stored.reasons, stored.vendor_event_types) == (
        ["needs_enrichment", "not_mapped"],
        ["Bill.Delete", "Invoice.Create"],
    )
    assert [d.delivery_id for d in trail.unprocessed_deliveries(since=at(0))] == ["d-1"]
    assert trail.unprocessed_deliveries(since=at(2)) == [] and trail.unprocessed_delivery("quickbooks", "d-2") is None


# --------------------------------------------------------------------------- operators' records


def test_a_redrive_is_recorded_once_then_updated(dynamodb: Any) -> None:
    trail = AuditTrail(dynamodb, AUDIT)
    record = RedriveRecord(
        run_id="r-1",
        target=RedriveKey.message("r-1", "m-1").target,
        record_type="redrive",
        stage="t",
        who="arn:aws:iam::1:user/ops",
        os_user="ops",
        started_at=at(0),
        status="sending",
        dlq="q-dlq",
        target_queue="q",
        dlq_message_id="m-1",
        event_id="e-1",
        edited=False,
        before="{}",
        after="{}",
        receive_count=3,
    )
    saga = RedriveRecord(
        run_id="r-2",
        target=RedriveKey.execution("r-2", "e-9").target,
        record_type="saga_redrive",
        stage="t",
        who="w",
        os_user="ops",
        started_at=at(1),
        status="starting",
        event_id="e-9",
    )

    assert trail.start_redrive(record) and trail.start_redrive(saga)
    assert trail.start_redrive(record) is False
    trail.update_redrive(record.key, status="completed", new_message_id="m-9", finished_at=at(0.1), error=None)

    done = trail.redrive(record.key)
    assert done is not None and (done.status, done.new_message_id, done.finished_at) == ("completed", "m-9", at(0.1))
    assert done.receive_count == 3 and done.before == "{}"
    assert [r.run_id for r in trail.redrives()] == ["r-1", "r-2"]
    assert [r.run_id for r in trail.redrives(event_id="e-9")] == ["r-2"]
    assert [r.run_id for r in trail.redrives(message_id="m-1", event_id="nope")] == ["r-1"]


def test_a_replay_is_recorded_once_then_updated(dynamodb: Any) -> None:
    trail = AuditTrail(dynamodb, AUDIT)
    record = ReplayRecord(
        run_id="p-1",
        replay_name="concord-t-replay-p-1",
        stage="t",
        who="w",
        os_user="ops",
        started_at=at(0),
        status="sending",
        method="bus",
        window_from=at(-2),
        window_to=at(-1),
        types=["AccountChanged"],
        count=2,
        event_ids=["e-1", "e-2"],
        event_types=["AccountChanged"],
    )
    assert trail.start_replay(record) is True and trail.start_replay(record) is False
    trail.update_replay("p-1", status="completed", sent=2, finished_at=at(0.2))

    (stored,) = trail.replays()
    assert stored == record.model_copy(update={"status": "completed", "sent": 2, "finished_at": at(0.2)})
    assert trail.replay("p-1") == stored and stored.key.pk == "REPLAY#p-1"


# --------------------------------------------------------------------------- registry and checkpoints


def test_the_registry_links_both_ways_and_lists_entities_by_index(dynamodb: Any, no_scans: list[str]) -> None:
    registry = Registry(dynamodb, XREF)
    registry.link("customer", "customer-1", "crm", "A-1", "e-1")
    registry.link("customer", "customer-1", "erp", "9", "e-2")
    registry.link("customer", "customer-2", "crm", "A-2", "e-3")
    registry.link("project", "project-1", "crm", "31", "e-4")

    assert registry.canonical_of("erp", "customer", "9") == "customer-1"
    assert registry.canonical_of("erp", "customer", "10") is None
    assert registry.records_of("customer", "customer-1") == {"crm": "A-1", "erp": "9"}
    links = registry.links_of("customer", "customer-1")
    assert [(link.system, link.linked_by) for link in links] == [("crm", "e-1"), ("erp", "e-2")]
    assert all(link.linked_at is not None for link in links)
    assert registry.canonical_ids("customer") == ["customer-1", "customer-2"]
    assert "Scan" not in no_scans


def test_registry_lineage_relations_and_versions_round_trip(dynamodb: Any) -> None:
    registry = Registry(dynamodb, XREF)
    later = LineageEntry(
        at=at(1), system="erp", record_id="9", event_id="e-2", event_type="AccountChanged", action="updated"
    )
    first = LineageEntry(
        at=at(0), system="erp", record_id="9", event_id="e-1", event_type="OpportunityClosedWon", action="created"
    )
    for entry in (later, first, later):
        registry.record_change("customer", "customer-1", entry)
    registry.relate("project", "project-1", "customer", "customer-1")

    assert registry.lineage("customer", "customer-1") == [first, later]
    assert registry.related("project", "project-1", "customer") == "customer-1"
    assert registry.related("project", "project-1", "invoice") is None
    assert registry.advance_version("customer", "customer-1", at(1), "e-2") is True
    assert registry.advance_version("customer", "customer-1", at(0), "e-1") is False
    assert registry.applied_version("customer", "customer-1") == at(1)


def test_lineage_of_a_batch_is_written_25_entries_a_call(dynamodb: Any, no_scans: list[str]) -> None:
    registry = Registry(dynamodb, XREF)
    entries = [
        LineageEntry(
            at=at(k), system="erp", record_id="9", event_id=f"e-{k}", event_type="PaymentReceived", action="paid"
        )
        for k in range(60)
    ]
    registry.record_changes("project", [("project-1", entry) for entry in entries])

    assert no_scans == ["BatchWriteItem"] * 3
    assert registry.lineage("project", "project-1") == entries


def test_links_of_a_batch_are_written_reverse_first_25_items_a_call_and_read_100_a_call(
    dynamodb: Any, no_scans: list[str]
) -> None:
    registry = Registry(dynamodb, XREF)
    links = [(f"time-{k}", system, f"{system}-{k}", f"e-{k}") for k in range(60) for system in ("psa", "erp")]
    kinds: list[set[str]] = []  # the sort keys each call wrote: reverse look-ups are "CANON"
    dynamodb.meta.events.register(
        "provide-client-params.dynamodb.BatchWriteItem",
        lambda params, **_: kinds.append(
            {r["PutRequest"]["Item"]["sk"]["S"][:4] for r in params["RequestItems"][XREF]}
        ),
    )
    registry.link_many("time_entry", links)
    assert kinds == [{"CANO"}] * 5 + [{"SYS#"}] * 5
    assert no_scans == ["BatchWriteItem"] * 10  # 120 links: 5 calls of reverse look-ups, then 5 of links

    no_scans.clear()
    found = registry.linked_records("time_entry", [f"time-{k}" for k in range(0, 120, 2)], "erp")
    assert found == {f"time-{k}": f"erp-{k}" for k in range(0, 60, 2)}
    assert no_scans == ["BatchGetItem"]
    assert registry.canonical_of("psa", "time_entry", "psa-7") == "time-7"
    assert registry.records_of("time_entry", "time-7") == {"erp": "erp-7", "psa": "psa-7"}


def test_a_record_delivered_twice_in_a_batch_is_linked_once_not_refused(dynamodb: Any) -> None:
    # BatchWriteItem refuses a request naming one key twice; a batch holding a record's push and
    # its poll links it twice: the registry must write it once (else the retry bills it again).
    registry = Registry(dynamodb, XREF)
    link = [("time-7", "psa", "psa-7", "e-1"), ("time-7", "erp", "erp-7", "e-1")]
    registry.link_many("time_entry", [*link, *link, *link])
    assert registry.records_of("time_entry", "time-7") == {"erp": "erp-7", "psa": "psa-7"}


def test_checkpoints_round_trip(dynamodb: Any) -> None:
    checkpoints = Checkpoints(dynamodb, CHECKPOINTS)
    assert checkpoints.load("psa:time_entry") is None
    checkpoints.save("psa:time_entry", "cursor-1")
    checkpoints.save("crm:opportunity", "cursor-2")
    checkpoints.save("psa:time_entry", "cursor-3")

    assert checkpoints.load("psa:time_entry") == "cursor-3"
    assert [(c.watch, c.cursor) for c in checkpoints.all()] == [
        ("crm:opportunity", "cursor-2"),
        ("psa:time_entry", "cursor-3"),
    ]
    assert all(c.saved_at is not None for c in checkpoints.all())
