"""`concord replay` (concord.operator.replay) against moto, in-process: which events a window and
filters select, what is put on the bus, what EventBridge's replay is asked for, the records,
and the exit codes. `concord saga` is in test_saga_redrive.py, on the same stage."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from typer.testing import CliRunner

from concord.cli.main import app
from concord.events import Envelope, new_event
from concord.events.envelope import AccountChangedEvent, OpportunityClosedWonEvent
from concord.naming import Names
from concord.operator import replay as rp
from concord.operator.actor import Actor
from concord.operator.calls import OperationsError
from concord.operator.stores import StageStores
from concord.operator.trace import parse_entity_reference
from concord.stores.audit_items import DeliveryTimings, ReplayRecord
from concord.sync.ids import canonical_id

from .tables import create_audit_table, create_registry_table

STAGE = "t"
NAMES = Names(STAGE)
ACTOR = Actor("arn:aws:iam::123456789012:user/ops", "ops")
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def hours_ago(hours: float) -> dt.datetime:
    return NOW - dt.timedelta(hours=hours)


def account_changed(account_id: str, occurred_at: dt.datetime) -> Envelope:
    return new_event(
        AccountChangedEvent,
        {"account_id": account_id, "name": f"Account {account_id}"},
        legal_entity="us-01",
        occurred_at=occurred_at,
    )


def closed_won(opportunity_id: str, account_id: str, occurred_at: dt.datetime) -> Envelope:
    return new_event(
        OpportunityClosedWonEvent,
        {
            "opportunity_id": opportunity_id,
            "account_id": account_id,
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


class Stage:
    """A stage's bus, archive, audit table and the audit-trail rule's queue, in moto."""

    def __init__(self) -> None:
        self.events, self.dynamodb, self.sqs = boto3.client("events"), boto3.client("dynamodb"), boto3.client("sqs")
        create_audit_table(self.dynamodb, NAMES.audit_table)
        create_registry_table(self.dynamodb, NAMES.xref_table)
        self.stores = StageStores.of(self.dynamodb, NAMES)
        self.trail = self.stores.audit
        self.bus_arn = self.events.create_event_bus(Name=NAMES.bus)["EventBusArn"]
        pattern = json.dumps({"source": [{"prefix": "concord."}]})
        self.archive_arn = self.events.create_archive(
            ArchiveName=NAMES.archive, EventSourceArn=self.bus_arn, EventPattern=pattern
        )["ArchiveArn"]
        self.queue_url = self.sqs.create_queue(QueueName=NAMES.queue("audit-trail"))["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self.events.put_rule(Name=NAMES.queue("audit-trail"), EventBusName=NAMES.bus, EventPattern=pattern)
        self.events.put_targets(
            Rule=NAMES.queue("audit-trail"), EventBusName=NAMES.bus, Targets=[{"Id": "q", "Arn": queue_arn}]
        )

    def record(self, event: Envelope, published: dt.datetime | None) -> Envelope:
        """As the audit-trail consumer records an event the bus delivered at `published`."""
        enqueued = int(published.timestamp() * 1000) if published else None
        self.trail.record_event(event, DeliveryTimings(enqueued, enqueued))
        return event

    def publish(self, event: Envelope) -> None:
        self.events.put_events(
            Entries=[
                {
                    "EventBusName": NAMES.bus,
                    "Source": event.bus_source,
                    "DetailType": event.type,
                    "Detail": event.model_dump_json(),
                }
            ]
        )

    def delivered(self) -> list[dict[str, Any]]:
        """Every envelope the audit-trail rule delivered since the last call."""
        seen = []
        while messages := self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages"):
            seen += [json.loads(m["Body"]) for m in messages]
            for message in messages:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return seen

    def replays(self) -> list[ReplayRecord]:
        return self.trail.replays()

    def run(self, selection: rp.ReplaySelection, **kwargs: Any) -> rp.ReplayRun:
        return rp.ReplayRun(
            kwargs.pop("events", self.events), kwargs.pop("stores", self.stores), ACTOR, selection, **kwargs
        )


@pytest.fixture
def stage() -> Iterator[Stage]:
    with mock_aws():
        yield Stage()


def window(
    start: dt.datetime, end: dt.datetime, types: tuple[str, ...] = (), entity: str | None = None
) -> rp.ReplaySelection:
    reference = parse_entity_reference(entity) if entity else None
    return rp.ReplaySelection(start, end, types, entity, reference)


@pytest.fixture
def history(stage: Stage) -> dict[str, Envelope]:
    """Four events, published 4, 3, 2 and 1 hours ago."""
    return {
        "old": stage.record(account_changed("A-1", hours_ago(5)), hours_ago(4)),
        "won": stage.record(closed_won("31", "A-1", hours_ago(3.5)), hours_ago(3)),
        "other": stage.record(account_changed("A-2", hours_ago(2.5)), hours_ago(2)),
        "recent": stage.record(account_changed("A-1", hours_ago(1.5)), hours_ago(1)),
    }


# --------------------------------------------------------------------------- selection


def ids(events: list[rp.ReplayEvent]) -> list[str]:
    return [e.event_id for e in events]


def test_the_window_selects_by_publication_time_inclusive_oldest_first(
    stage: Stage, history: dict[str, Envelope]
) -> None:
    chosen = rp.select_events(stage.stores, window(hours_ago(3), hours_ago(1.5)))
    assert ids(chosen) == [history["won"].id, history["other"].id]  # 3h ago is on the edge: inside

    everything = rp.select_events(stage.stores, window(hours_ago(10), NOW))
    assert ids(everything) == [history[k].id for k in ("old", "won", "other", "recent")]
    assert rp.select_events(stage.stores, window(hours_ago(0.5), NOW)) == []
    # occurred_at is not the window's clock: "recent" occurred 1.5 h ago but was published 1 h ago
    assert rp.select_events(stage.stores, window(hours_ago(1.6), hours_ago(1.4))) == []


def test_types_and_an_entity_narrow_the_window(stage: Stage, history: dict[str, Envelope]) -> None:
    every = window(hours_ago(10), NOW)
    by_type = rp.select_events(stage.stores, window(every.start, every.end, ("AccountChanged",)))
    assert ids(by_type) == [history[k].id for k in ("old", "other", "recent")]
    two = rp.select_events(stage.stores, window(every.start, every.end, ("OpportunityClosedWon", "AccountChanged")))
    assert len(two) == 4

    # crm:account:A-1 is named by two AccountChanged and the deal; A-2's change is not about it
    about = rp.select_events(stage.stores, window(every.start, every.end, entity="crm:account:A-1"))
    assert ids(about) == [history[k].id for k in ("old", "won", "recent")]
    both = rp.select_events(stage.stores, window(hours_ago(3.5), NOW, ("AccountChanged",), "crm:account:A-1"))
    assert ids(both) == [history["recent"].id]
    project = rp.select_events(stage.stores, window(every.start, every.end, entity="crm:opportunity:31"))
    assert ids(project) == [history["won"].id]
    # a canonical id the cross-reference registry does not know names no record: nothing
    unknown = canonical_id("project", "crm", "31")
    assert rp.select_events(stage.stores, window(every.start, every.end, entity=unknown)) == []
    assert rp.select_events(stage.stores, window(every.start, every.end, entity="crm:account:nobody")) == []


def test_eventbridge_replays_only_a_bare_window_on_aws() -> None:
    bare = window(hours_ago(2), NOW)
    assert rp.choose_method(local=False, selection=bare) == "archive"
    assert rp.choose_method(local=True, selection=bare) == "bus"  # moto ignores the window
    assert rp.choose_method(local=False, selection=window(bare.start, bare.end, ("AccountChanged",))) == "bus"
    assert rp.choose_method(local=False, selection=window(bare.start, bare.end, entity="crm:account:1")) == "bus"


# --------------------------------------------------------------------------- re-publication


def test_a_replay_puts_exactly_the_selected_events_on_the_bus_with_their_ids_and_records_it(
    stage: Stage, history: dict[str, Envelope]
) -> None:
    selection = window(hours_ago(3.5), NOW, ("AccountChanged",))
    chosen = rp.select_events(stage.stores, selection)
    run = stage.run(selection)
    seen: list[tuple[int, int]] = []

    outcome = run.republish(chosen, lambda done, total, _: seen.append((done, total)))

    assert (outcome.status, outcome.selected, outcome.sent, outcome.failed) == ("completed", 2, 2, [])
    delivered = stage.delivered()
    assert sorted(e["detail"]["id"] for e in delivered) == sorted([history["other"].id, history["recent"].id])
    for envelope in delivered:
        original = history["other"] if envelope["detail"]["id"] == history["other"].id else history["recent"]
        assert envelope["detail"] == json.loads(original.model_dump_json())  # the same canonical event
        assert (envelope["source"], envelope["detail-type"]) == ("concord.crm", "AccountChanged")
        assert envelope["resources"] == [f"arn:aws:events:us-east-1:123456789012:replay/{run.replay_name}"]
    assert seen[-1] == (2, 2)

    (record,) = stage.replays()
    assert record.key.pk == outcome.record == f"REPLAY#{run.run_id}"
    assert (record.who, record.os_user, record.method, record.status) == (ACTOR.who, "ops", "bus", "completed")
    assert (record.window_from, record.window_to) == (selection.start, selection.end)
    assert record.types == ["AccountChanged"] and record.entity is None
    assert (record.count, record.sent) == (2, 2)
    assert record.event_ids == [history["other"].id, history["recent"].id]
    assert record.finished_at is not None and record.started_at <= record.finished_at


def test_no_replay_without_its_record(stage: Stage, history: dict[str, Envelope]) -> None:
    selection = window(hours_ago(10), NOW)
    chosen = rp.select_events(stage.stores, selection)

    with pytest.raises(OperationsError, match=r"access denied to table concord-t-audit: .*dynamodb:PutItem"):
        stage.run(selection, stores=stores_refusing("PutItem")).republish(chosen)

    assert stage.delivered() == [] and stage.replays() == []


def test_events_the_bus_refuses_are_reported_and_recorded(stage: Stage, history: dict[str, Envelope]) -> None:
    selection = window(hours_ago(10), NOW)
    chosen = rp.select_events(stage.stores, selection)
    refused = history["won"].id

    outcome = stage.run(selection, events=RefusingEntries(stage.events, refused)).republish(chosen)

    assert (outcome.status, outcome.sent) == ("partial", 3)
    assert outcome.failed == [{"event_id": refused, "error": "ThrottlingException: Rate exceeded"}]
    assert refused not in {e["detail"]["id"] for e in stage.delivered()}
    (record,) = stage.replays()
    assert (record.status, record.sent, record.failed_event_ids) == ("partial", 3, [refused])


# --------------------------------------------------------------------------- EventBridge's replay


def test_eventbridge_is_asked_for_the_window_from_the_archive_to_the_bus_and_polled_until_done(
    stage: Stage, history: dict[str, Envelope]
) -> None:
    selection = window(hours_ago(3.5), hours_ago(1.5))
    expected = rp.select_events(stage.stores, selection)
    events = SlowReplays(stage.events, running_polls=2)
    naps: list[float] = []
    states: list[str] = []
    run = stage.run(selection, events=events, sleep=naps.append)

    outcome = run.from_archive(expected, lambda done, total, note: states.append(note), poll_seconds=7)

    (started,) = events.started
    assert started["EventSourceArn"] == stage.archive_arn
    assert started["Destination"] == {"Arn": stage.bus_arn}  # no FilterArns: every consumer
    assert (started["EventStartTime"], started["EventEndTime"]) == (selection.start, selection.end)
    assert started["ReplayName"] == run.replay_name and len(run.replay_name) <= 64
    assert naps == [7, 7] and states[-1] == "EventBridge replay completed"
    assert (outcome.method, outcome.status, outcome.state, outcome.selected) == ("archive", "completed", "COMPLETED", 2)
    (record,) = stage.replays()
    assert (record.method, record.status, record.state, record.count) == ("archive", "completed", "COMPLETED", 2)
    assert record.replay_arn == outcome.replay_arn and record.replay_arn.endswith(f":replay/{run.replay_name}")
    assert record.archive == NAMES.archive


def test_a_window_reaching_into_the_future_ends_now_for_eventbridge(stage: Stage, history: dict[str, Envelope]) -> None:
    events = SlowReplays(stage.events, running_polls=0)
    selection = window(hours_ago(2), NOW + dt.timedelta(days=1))
    stage.run(selection, events=events, clock=lambda: NOW).from_archive([])
    assert events.started[0]["EventEndTime"] == NOW


def test_a_failed_eventbridge_replay_is_recorded_as_failed(stage: Stage, history: dict[str, Envelope]) -> None:
    events = SlowReplays(stage.events, running_polls=0, final="FAILED")
    outcome = stage.run(window(hours_ago(10), NOW), events=events, sleep=lambda _: None).from_archive([])
    assert (outcome.status, outcome.state) == ("failed", "FAILED")
    assert stage.replays()[0].status == "failed"


def test_the_emulator_replays_its_whole_archive_whatever_the_window(stage: Stage) -> None:
    """Why the local stack re-publishes instead (moto 5.2.5's StartReplay; AWS honours the window)."""
    published = account_changed("A-1", NOW)
    stage.publish(published)
    assert [e["detail"]["id"] for e in stage.delivered()] == [published.id]
    long_ago = dt.datetime(2001, 1, 1, tzinfo=dt.UTC)

    stage.events.start_replay(
        ReplayName="r",
        EventSourceArn=stage.archive_arn,
        EventStartTime=long_ago,
        EventEndTime=long_ago + dt.timedelta(hours=1),
        Destination={"Arn": stage.bus_arn},
    )

    assert [e["detail"]["id"] for e in stage.delivered()] == [published.id]  # outside the window, replayed anyway


# --------------------------------------------------------------------------- the command


def concord(*args: str) -> Any:
    return CliRunner().invoke(app, [*args, "--stage", STAGE, "--region", "us-east-1"], env={"COLUMNS": "200"})


def iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def test_replay_command_exit_codes_and_output(stage: Stage, history: dict[str, Envelope]) -> None:
    typed = concord(
        "replay", "--from", iso(hours_ago(3.5)), "--to", iso(hours_ago(1.5)), "--type", "AccountChanged", "--json"
    )
    assert typed.exit_code == 0, typed.output
    shown = json.loads(typed.stdout)
    assert (shown["method"], shown["matched"], shown["outcome"]["status"]) == ("bus", 1, "completed")
    assert [e["event_id"] for e in shown["events"]] == [history["other"].id]
    assert [e["detail"]["id"] for e in stage.delivered()] == [history["other"].id]

    empty = concord("replay", "--from", "2001-01-01", "--to", "2001-01-02")
    assert empty.exit_code == 1 and "nothing replayed" in empty.stdout
    empty_json = concord("replay", "--from", "30m", "--type", "InvoicePosted", "--json")
    assert empty_json.exit_code == 1 and json.loads(empty_json.stdout)["matched"] == 0

    dry = concord("replay", "--from", "10h", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "4 event(s) would be replayed" in dry.stdout and "EventBridge replay from the archive" in dry.stdout
    assert history["old"].id in dry.stdout
    assert stage.delivered() == [] and len(stage.replays()) == 1  # only the first, real, replay

    whole = concord("replay", "--from", "10h", "--to", "now")
    assert whole.exit_code == 0, whole.output
    assert "completed" in whole.stdout and "EventBridge replay" in whole.stdout
    assert [r.method for r in stage.replays()] == ["bus", "archive"]

    for bad, message in [
        (["--from", "1h", "--to", "2h"], "is not before"),
        (["--from", "1h", "--type", "Bogus"], "unknown event type Bogus"),
        (["--from", "yesterday"], "--from 'yesterday'"),
        (["--from", "1h", "--entity", "nonsense"], "--entity"),
    ]:
        refused = concord("replay", *bad)
        assert refused.exit_code == 2, refused.output
        assert message in " ".join(refused.output.split())


def test_a_failed_replay_exits_1(stage: Stage, history: dict[str, Envelope], monkeypatch: pytest.MonkeyPatch) -> None:
    real = boto3.session.Session.client

    def client(self: Any, service: str, *args: Any, **kwargs: Any) -> Any:
        made = real(self, service, *args, **kwargs)
        return Refusing(made, "put_events") if service == "events" else made

    monkeypatch.setattr(boto3.session.Session, "client", client)
    result = concord("replay", "--from", "10h", "--type", "AccountChanged")

    assert result.exit_code == 1
    assert "failed" in result.stdout and "events:PutEvents" in " ".join(result.stdout.split())
    assert stage.replays()[0].status == "failed"


# --------------------------------------------------------------------------- test doubles


def stores_refusing(operation: str) -> StageStores:
    """The stage's stores over a DynamoDB client that refuses `operation` as IAM would."""
    dynamodb = boto3.client("dynamodb")

    def denied(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}}, operation)

    dynamodb.meta.events.register(f"before-call.dynamodb.{operation}", denied)
    return StageStores.of(dynamodb, NAMES)


class Refusing:
    """A client that refuses one operation the way AWS does, and passes the rest to moto."""

    def __init__(self, client: Any, operation: str) -> None:
        self._client, self._operation = client, operation

    def __getattr__(self, name: str) -> Any:
        if name == self._operation:

            def refuse(**_: Any) -> Any:
                raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not authorized"}}, name)

            return refuse
        return getattr(self._client, name)


class RefusingEntries:
    """PutEvents as AWS answers when it throttles some entries of a batch."""

    def __init__(self, client: Any, refused_event_id: str) -> None:
        self._client, self._refused = client, refused_event_id

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        results = []
        for entry in Entries:
            if json.loads(entry["Detail"])["id"] == self._refused:
                results.append({"ErrorCode": "ThrottlingException", "ErrorMessage": "Rate exceeded"})
            else:
                results.append(self._client.put_events(Entries=[entry])["Entries"][0])
        return {"FailedEntryCount": sum("ErrorCode" in r for r in results), "Entries": results}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


class SlowReplays:
    """EventBridge's replay as on AWS: it runs for a while (`running_polls` DescribeReplay answers), then ends.

    StartReplay is moto's (which checks the archive, the bus and the window); its arguments are kept.
    """

    def __init__(self, client: Any, running_polls: int, final: str = "COMPLETED") -> None:
        self._client, self._running, self._final = client, running_polls, final
        self.started: list[dict[str, Any]] = []

    def start_replay(self, **kwargs: Any) -> dict[str, Any]:
        self.started.append(kwargs)
        return self._client.start_replay(**kwargs)

    def describe_replay(self, ReplayName: str) -> dict[str, Any]:
        described = self._client.describe_replay(ReplayName=ReplayName)
        if self._running:
            self._running -= 1
            return {**described, "State": "RUNNING"}
        return {
            **described,
            "State": self._final,
            **({"StateReason": "the archive is gone"} if self._final == "FAILED" else {}),
        }

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)
