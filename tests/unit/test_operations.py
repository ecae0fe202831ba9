"""Operator logic (concord.aws.operations, concord.cli.ops): the filter language, which sync
exceptions are open, and redrive bookkeeping, against moto (in-process, no network)."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError
from moto import mock_aws
from typer.testing import CliRunner

from concord.aws import operations as ops
from concord.cli.main import app
from concord.cli.ops.context import UsageError, parse_since
from concord.cli.ops.filters import FilterSyntaxError, combine, parse_filter
from concord.events import new_event
from concord.events.envelope import SyncExceptionRaisedEvent
from concord.events.types import Severity
from concord.stores.audit import AuditTrail
from concord.stores.audit_items import DeliveryTimings

from .tables import create_audit_table as create_stores_audit_table

STAGE = "t"
NAMES = ops.Names(STAGE)
NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)

EVENT = {
    "id": "e-1",
    "type": "OpportunityClosedWon",
    "version": 1,
    "source_system": "crm",
    "occurred_at": "2026-03-01T09:30:00+00:00",
    "correlation_id": "c-1",
    "legal_entity": "us-01",
    "data": {
        "opportunity_id": "31",
        "account_id": 42,
        "name": "Data platform rollout",
        "amount": {"amount": "120000.00", "currency": "USD"},
        "closed_on": "2026-03-01",
        "lines": [
            {"service_item": "CONSULT-HR", "description": "Discovery", "quantity": "8",
             "unit_price": {"amount": "150", "currency": "USD"}},
            {"service_item": "CONSULT-HR", "description": "Build", "quantity": "40",
             "unit_price": {"amount": "150", "currency": "USD"}},
        ],
        "payment_term": None,
        "won": True,
    },
}


# --------------------------------------------------------------------------- the filter language


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("type=OpportunityClosedWon", True),
        ("type==OpportunityClosedWon", True),
        ("type=AccountChanged", False),
        ("type=AccountChanged|OpportunityClosedWon", True),
        ("type=Opportunity*", True),
        ("type!=AccountChanged", True),
        ("data.account_id=42", True),  # a number in the payload, text in the filter
        ('data.opportunity_id="31"', True),
        ("data.opportunity_id=31", True),
        ("data.amount.amount=120000", True),  # numbers compare as numbers
        ("data.amount.amount>=100000.5", True),
        ("data.amount.amount<1000", False),
        ("data.lines.description=Build", True),  # any element of a list
        ("data.lines.0.description=Build", False),  # one element, by index
        ("data.lines.-1.description=Build", True),
        ("data.name~PLATFORM", True),  # contains, case-insensitive
        ('data.name="Data platform rollout"', True),
        ("data.name=Data*", True),
        ('data.name="Data*"', False),  # quoted: no wildcards
        ("data.won=true", True),
        ("data.payment_term=null", True),
        ("data.tax_id=*", False),  # missing field: equals nothing
        ("data.tax_id!=*", True),
        ("data.account_id=*", True),
        ("occurred_at>2026-02-28", True),
        ("occurred_at<2026-03-01T09:00:00Z", False),
        ("type=OpportunityClosedWon data.account_id=42", True),
        ("type=OpportunityClosedWon, data.account_id=43", False),
        ("type=OpportunityClosedWon and data.account_id=42", True),
        ("type=OpportunityClosedWon && legal_entity=us-01", True),
        ("data=x", False),  # an object never equals text
    ],
)
def test_filter_expressions_over_a_canonical_event(expression: str, expected: bool) -> None:
    assert parse_filter(expression).matches(EVENT) is expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("type", "expected an operator"),
        ("type=", "expected a value"),
        ("=Account", "expected a field name"),
        ('data.name="open', "unterminated quoted value"),
        ("type=A|", "empty alternative"),
        ("data..id=1", "empty field name"),
        ("type=A b", "expected an operator"),
        ("type=!A", "expected a value"),
    ],
)
def test_a_malformed_filter_is_refused_with_where_and_why(expression: str, message: str) -> None:
    with pytest.raises(FilterSyntaxError, match=message) as raised:
        parse_filter(expression)
    assert "position" in str(raised.value)


def test_no_filter_matches_everything_and_several_filters_must_all_hold() -> None:
    assert parse_filter(None).matches(EVENT) and parse_filter("  ").matches(None)
    both = combine(["type=OpportunityClosedWon", "data.account_id=42"])
    assert both.matches(EVENT) and len(both.clauses) == 2
    assert not combine(["type=OpportunityClosedWon", "data.account_id=1"]).matches(EVENT)
    # a body that is not an event is matched as an empty object
    assert not parse_filter("type=OpportunityClosedWon").matches(None)
    assert parse_filter("type!=OpportunityClosedWon").matches(None)


def test_ids_that_look_like_numbers_in_another_notation_compare_as_text() -> None:
    event = {"id": "1e5", "data": {"ref": "0x10"}}
    assert not parse_filter("id=100000").matches(event)
    assert parse_filter("id=1e5").matches(event)
    assert not parse_filter("data.ref=16").matches(event)


def test_since_takes_a_duration_or_a_moment() -> None:
    assert parse_since("2h", NOW) == NOW - dt.timedelta(hours=2)
    assert parse_since("90s", NOW) == NOW - dt.timedelta(seconds=90)
    assert parse_since("2026-03-01", NOW) == dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    assert parse_since("2026-03-01T10:00:00+01:00", NOW) == dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
    assert parse_since(None, NOW) is None
    with pytest.raises(UsageError):
        parse_since("yesterday", NOW)


# --------------------------------------------------------------------------- open exceptions


def exception(trigger: str | None, occurred_at: dt.datetime, *, severity: str = "warning") -> ops.SyncException:
    return ops.SyncException(
        event_id=f"x-{uuid.uuid4().hex[:6]}", flow="quote_to_cash", step="AssignBillingTerms",
        severity=Severity(severity), error_class="transient", reason="ERP down", caused_by_event_id=trigger,
        occurred_at=occurred_at, correlation_id="c", legal_entity="us-01",
    )


def run(trigger: str, stopped_at: dt.datetime, name: str | None = None) -> ops.SuccessfulRun:
    return ops.SuccessfulRun(trigger, name or f"{trigger}-redrive-1", f"arn:{trigger}", stopped_at)


def test_an_exception_is_closed_by_a_later_successful_run_of_its_trigger_only() -> None:
    closed_later = exception("t-1", NOW)
    success_before = exception("t-2", NOW)  # the only success for t-2 ended before it was raised
    other_trigger = exception("t-3", NOW)
    no_trigger = exception(None, NOW)
    older = exception("t-4", NOW - dt.timedelta(hours=1))

    still_open, closed = ops.split_open_exceptions(
        [closed_later, success_before, other_trigger, no_trigger, older],
        [run("t-1", NOW + dt.timedelta(minutes=5)), run("t-2", NOW - dt.timedelta(minutes=5)),
         run("t-9", NOW + dt.timedelta(minutes=5))],
    )

    assert [e.event_id for e in still_open] == [older.event_id, success_before.event_id, other_trigger.event_id,
                                                no_trigger.event_id]  # oldest first
    assert set(closed) == {closed_later.event_id}
    assert closed[closed_later.event_id].trigger_event_id == "t-1"


def test_two_failed_runs_of_one_trigger_are_both_closed_by_the_success_after_them() -> None:
    first, second = exception("t-1", NOW), exception("t-1", NOW + dt.timedelta(minutes=1))
    still_open, closed = ops.split_open_exceptions([first, second], [run("t-1", NOW + dt.timedelta(minutes=2))])
    assert still_open == [] and set(closed) == {first.event_id, second.event_id}


def test_execution_names_map_back_to_their_trigger() -> None:
    assert ops.trigger_of_execution("abc") == "abc"
    assert ops.trigger_of_execution("abc-redrive-3") == "abc"


PASS_OR_FAIL = json.dumps({
    "StartAt": "Decide",
    "States": {
        "Decide": {"Type": "Choice", "Choices": [{"Variable": "$.fail", "BooleanEquals": True, "Next": "Fail"}],
                   "Default": "Done"},
        "Done": {"Type": "Pass", "End": True},
        "Fail": {"Type": "Fail", "Error": "SagaTransientError"},
    },
})


def create_audit_table(dynamodb: Any, name: str = NAMES.audit_table) -> None:
    create_stores_audit_table(dynamodb, name)


def record_exception(trail: AuditTrail, trigger: str, occurred_at: dt.datetime, severity: str = "warning") -> str:
    event = new_event(
        SyncExceptionRaisedEvent,
        {"flow": "quote_to_cash", "step": "AssignBillingTerms", "severity": severity, "error_class": "transient",
         "reason": "ERP down", "caused_by_event_id": trigger,
         "records": [{"system": "psa", "record_type": "project", "record_id": "7"}]},
        legal_entity="us-01", occurred_at=occurred_at, correlation_id=f"corr-{trigger}", causation_id=trigger,
    )
    trail.record_event(event, DeliveryTimings(None, None))
    return event.id


def finished(sfn: Any, arn: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.02)
    raise TimeoutError(arn)


@mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
def test_open_exceptions_are_decided_by_the_saga_runs_in_step_functions() -> None:
    sfn, dynamodb = boto3.client("stepfunctions"), boto3.client("dynamodb")
    create_audit_table(dynamodb)
    trail = AuditTrail(dynamodb, NAMES.audit_table)
    machine = sfn.create_state_machine(
        name=NAMES.state_machine("quote_to_cash"), definition=PASS_OR_FAIL,
        roleArn="arn:aws:iam::123456789012:role/saga",
    )["stateMachineArn"]

    def start(name: str, trigger: str, fail: bool) -> dict[str, Any]:
        arn = sfn.start_execution(stateMachineArn=machine, name=name,
                                  input=json.dumps({"fail": fail, "event": {"id": trigger}}))["executionArn"]
        return finished(sfn, arn)

    past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
    # t-fixed failed, then its redrive succeeded: closed
    start("t-fixed", "t-fixed", fail=True)
    fixed = record_exception(trail, "t-fixed", past)
    start("t-fixed-redrive-1", "t-fixed", fail=False)
    # t-open failed and was never redriven
    start("t-open", "t-open", fail=True)
    still = record_exception(trail, "t-open", past, severity="high")
    # t-named: an execution with the trigger's name but another input does not count
    start("t-named", "someone-else", fail=False)
    named = record_exception(trail, "t-named", past)
    # t-again: succeeded once, then failed again later (a second exception after the success)
    start("t-again", "t-again", fail=False)
    again = record_exception(trail, "t-again", dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1))

    still_open, closed, notes = ops.open_sync_exceptions(dynamodb, sfn, NAMES)

    assert {e.event_id for e in still_open} == {still, named, again}
    assert set(closed) == {fixed} and closed[fixed].execution_name == "t-fixed-redrive-1"
    assert notes == []
    items = ops.group_items(ops.exception_items(still_open))
    # most severe group first
    assert [(flow, severity) for (flow, severity), _ in items] == [
        ("quote_to_cash", Severity.HIGH), ("quote_to_cash", Severity.WARNING)]


@mock_aws
def test_exceptions_of_a_flow_without_a_state_machine_stay_open_with_a_note() -> None:
    dynamodb = boto3.client("dynamodb")
    create_audit_table(dynamodb)
    trail = AuditTrail(dynamodb, NAMES.audit_table)
    record_exception(trail, "t-1", NOW)

    still_open, closed, notes = ops.open_sync_exceptions(dynamodb, boto3.client("stepfunctions"), NAMES)

    assert len(still_open) == 1 and closed == {}
    assert notes and "concord-t-quote-to-cash" in notes[0]


# --------------------------------------------------------------------------- redrive bookkeeping


def bus_body(event: dict[str, Any]) -> str:
    return json.dumps({
        "version": "0", "id": str(uuid.uuid4()), "detail-type": event.get("type", "?"), "source": "concord.crm",
        "account": "123456789012", "time": "2026-03-01T09:30:00Z", "region": "us-east-1", "resources": [],
        "detail": event,
    })


def account_changed(account_id: str, *, valid: bool = True) -> dict[str, Any]:
    event_id = str(uuid.uuid4())
    if not valid:
        return {"id": event_id, "type": "AccountChanged", "data": {"name": "no id"}}
    return {
        "id": event_id, "type": "AccountChanged", "version": 1, "source_system": "crm",
        "occurred_at": "2026-03-01T09:30:00Z", "correlation_id": event_id, "legal_entity": "us-01",
        "data": {"account_id": account_id, "name": "Acme"},
    }


class Stage:
    """A stage's audit trail DLQ and source queue in moto."""

    def __init__(self) -> None:
        self.sqs, self.dynamodb = boto3.client("sqs"), boto3.client("dynamodb")
        create_audit_table(self.dynamodb)
        dlq_url = self.sqs.create_queue(QueueName=NAMES.dlq("audit-trail"))["QueueUrl"]
        dlq_arn = self.sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        source_url = self.sqs.create_queue(
            QueueName=NAMES.queue("audit-trail"),
            Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3})},
        )["QueueUrl"]
        self.dlq = ops.QueueRef(NAMES.dlq("audit-trail"), dlq_url)
        self.source = ops.QueueRef(NAMES.queue("audit-trail"), source_url)

    def park(self, event: dict[str, Any]) -> str:
        return self.sqs.send_message(QueueUrl=self.dlq.url, MessageBody=bus_body(event))["MessageId"]

    def depth(self, queue: ops.QueueRef) -> int:
        attributes = self.sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["All"])["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def visible(self, queue: ops.QueueRef) -> int:
        time.sleep(0.002)  # moto: visible strictly after the instant it was released
        attributes = self.sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["All"])["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    def received(self, queue: ops.QueueRef) -> list[dict[str, Any]]:
        messages = self.sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=10, VisibilityTimeout=0,
                                            AttributeNames=["All"]).get("Messages", [])
        return [json.loads(m["Body"]) for m in messages]

    def records(self) -> list[dict[str, Any]]:
        return ops.redrive_records(self.dynamodb, NAMES.audit_table)

    def redrive(self, **kwargs: Any) -> ops.RedriveRun:
        return ops.RedriveRun(self.sqs, self.dynamodb, NAMES, self.dlq, self.source,
                              ops.Actor("arn:aws:iam::123456789012:user/ops", "ops"), **kwargs)


@pytest.fixture
def stage() -> Iterator[Stage]:
    with mock_aws():
        yield Stage()


def selector(expression: str | None) -> Callable[[ops.DlqMessage], bool]:
    parsed = parse_filter(expression)
    return lambda message: parsed.matches(message.event)


def test_a_filtered_redrive_resends_deletes_and_records_each_message(stage: Stage) -> None:
    wanted = [account_changed("A-1"), account_changed("A-2")]
    other = account_changed("B-1")
    parked = {event["id"]: stage.park(event) for event in [*wanted, other]}

    outcomes = stage.redrive(filter_text="data.account_id=A-*").run(selector("data.account_id=A-*"), None)

    assert [o.status for o in outcomes] == ["redriven", "redriven"]
    assert {o.event_id for o in outcomes} == {e["id"] for e in wanted}
    assert stage.depth(stage.dlq) == 1 and stage.visible(stage.dlq) == 1  # the other one, visible again
    assert sorted(b["detail"]["id"] for b in stage.received(stage.source)) == sorted(e["id"] for e in wanted)
    records = stage.records()
    assert len(records) == 2
    for record in records:
        assert record["pk"] == outcomes[0].record and record["sk"] == f"MESSAGE#{record['dlq_message_id']}"
        assert record["status"] == "completed"
        assert record["who"] == "arn:aws:iam::123456789012:user/ops" and record["os_user"] == "ops"
        assert record["dlq"] == NAMES.dlq("audit-trail") and record["target_queue"] == NAMES.queue("audit-trail")
        assert record["before"] == record["after"] and not record["edited"]
        assert record["filter"] == "data.account_id=A-*"
        assert record["dlq_message_id"] == parked[record["event_id"]]
        assert record["new_message_id"] in {o.new_message_id for o in outcomes}
        assert record["started_at"] <= record["sent_at"] <= record["finished_at"]


def test_a_dry_run_changes_nothing(stage: Stage) -> None:
    events = [account_changed("A-1"), account_changed("A-2", valid=False)]
    for event in events:
        stage.park(event)

    outcomes = stage.redrive().plan(selector(None), None)

    assert [o.status for o in outcomes] == ["would_redrive", "would_redrive"]
    assert [o.valid for o in outcomes] == [True, False]
    assert any("data.account_id: Field required" in e for e in outcomes[1].errors)
    assert stage.visible(stage.dlq) == 2 and stage.depth(stage.source) == 0
    assert stage.records() == []


def test_a_filter_matching_nothing_redrives_nothing(stage: Stage) -> None:
    stage.park(account_changed("A-1"))

    assert stage.redrive().run(selector("type=InvoicePosted"), None) == []
    assert stage.visible(stage.dlq) == 1 and stage.depth(stage.source) == 0 and stage.records() == []


def test_the_limit_caps_a_redrive(stage: Stage) -> None:
    for n in range(4):
        stage.park(account_changed(f"A-{n}"))

    outcomes = stage.redrive().run(selector(None), 3)

    assert len(outcomes) == 3 and stage.depth(stage.source) == 3
    assert stage.visible(stage.dlq) == 1 and len(stage.records()) == 3


def test_an_edit_is_validated_then_sent_and_recorded_with_before_and_after(stage: Stage) -> None:
    broken = account_changed("A-1", valid=False)
    message_id = stage.park(broken)

    def fix(message: ops.DlqMessage) -> ops.EditOutcome:
        event = json.loads(ops.editable_text(message))
        event.update(version=1, source_system="crm", occurred_at="2026-03-01T10:00:00Z",
                     correlation_id=event["id"], legal_entity="us-01")
        event["data"]["account_id"] = "A-1"
        return ops.apply_edit(message, json.dumps(event))

    (outcome,) = stage.redrive().run(selector(f"id={broken['id']}"), None, fix)

    assert outcome.status == "redriven" and outcome.edited
    (resent,) = stage.received(stage.source)
    assert resent["detail"]["data"] == {"account_id": "A-1", "name": "no id"}
    assert resent["detail-type"] == "AccountChanged" and resent["source"] == "concord.crm"
    assert stage.depth(stage.dlq) == 0
    (record,) = stage.records()
    assert record["edited"] and record["dlq_message_id"] == message_id
    assert json.loads(record["before"])["detail"] == broken
    assert json.loads(record["after"])["detail"]["data"]["account_id"] == "A-1"


def test_an_invalid_edit_is_refused_and_the_message_stays_unrecorded(stage: Stage) -> None:
    broken = account_changed("A-1", valid=False)
    stage.park(broken)

    def still_broken(message: ops.DlqMessage) -> ops.EditOutcome:
        event = json.loads(ops.editable_text(message))
        event["data"]["account_id"] = ""
        return ops.apply_edit(message, json.dumps(event))

    (outcome,) = stage.redrive().run(selector(None), None, still_broken)

    assert outcome.status == "refused"
    assert "data.account_id: String should have at least 1 character" in outcome.errors
    assert "occurred_at: Field required" in outcome.errors
    assert stage.visible(stage.dlq) == 1 and stage.depth(stage.source) == 0 and stage.records() == []
    # not JSON at all
    (outcome,) = stage.redrive().run(selector(None), None, lambda m: ops.apply_edit(m, "{nope"))
    assert outcome.status == "refused" and outcome.errors[0].startswith("not JSON")
    assert stage.visible(stage.dlq) == 1


class Refusing:
    """A client that refuses one operation the way AWS does, and passes the rest to moto."""

    def __init__(self, client: Any, operation: str, code: str = "AccessDenied") -> None:
        self._client, self._operation, self._code = client, operation, code

    def __getattr__(self, name: str) -> Any:
        if name == self._operation:
            def refuse(**_: Any) -> Any:
                raise ClientError({"Error": {"Code": self._code, "Message": "User: arn:aws:iam::1:user/ops is not "
                                             "authorized to perform this action"}}, name)
            return refuse
        return getattr(self._client, name)


def test_a_failed_resend_leaves_the_message_in_the_dlq_and_says_so_in_the_record(stage: Stage) -> None:
    stage.park(account_changed("A-1"))
    stage.sqs = Refusing(stage.sqs, "send_message")

    (outcome,) = stage.redrive().run(selector(None), None)

    assert outcome.status == "failed"
    assert "sqs:SendMessage" in outcome.detail and NAMES.queue("audit-trail") in outcome.detail
    assert stage.visible(stage.dlq) == 1
    (record,) = stage.records()
    assert record["status"] == "send_failed" and "access denied" in record["error"]


def test_no_redrive_without_its_record(stage: Stage) -> None:
    stage.park(account_changed("A-1"))
    stage.dynamodb = Refusing(stage.dynamodb, "put_item", "AccessDeniedException")

    with pytest.raises(ops.OperationsError) as raised:
        stage.redrive().run(selector(None), None)

    assert str(raised.value).startswith(f"access denied to table {NAMES.audit_table}: the caller lacks dynamodb:PutItem")
    assert stage.visible(stage.dlq) == 1 and stage.depth(stage.source) == 0


def test_a_peek_sees_every_message_and_leaves_them_all_visible(stage: Stage) -> None:
    ids = {stage.park(account_changed(f"A-{n}")) for n in range(23)}

    peeked = ops.peek_messages(stage.sqs, stage.dlq)

    assert {m.message_id for m in peeked} == ids
    assert stage.visible(stage.dlq) == 23
    assert ops.find_dlq_message(stage.sqs, [stage.dlq], peeked[-1].event_id or "").message_id == peeked[-1].message_id


# --------------------------------------------------------------------------- errors name the resource


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "ReceiveMessage"),
         "access denied to queue q: the caller lacks sqs:ReceiveMessage"),
        (ClientError({"Error": {"Code": "ExpiredToken", "Message": "old"}}, "ReceiveMessage"),
         "AWS refused the credentials for sqs:ReceiveMessage on queue q"),
        (ClientError({"Error": {"Code": "AWS.SimpleQueueService.NonExistentQueue", "Message": "?"}}, "GetQueueUrl"),
         "queue q does not exist"),
        (NoCredentialsError(), "no AWS credentials for sqs:ReceiveMessage on queue q"),
        (EndpointConnectionError(endpoint_url="https://sqs.eu-west-1.amazonaws.com"),
         "cannot reach https://sqs.eu-west-1.amazonaws.com for sqs:ReceiveMessage on queue q"),
    ],
)
def test_aws_errors_name_the_resource_and_the_permission(error: Exception, expected: str) -> None:
    with pytest.raises(ops.OperationsError, match="^" + expected.replace(".", r"\.")):
        with ops.aws_call("queue q", "sqs:ReceiveMessage"):
            raise error


def test_entity_references() -> None:
    assert ops.parse_entity_reference("crm:opportunity:31") == ops.EntityReference("project", None, "crm", "31")
    assert ops.parse_entity_reference("ERP:customer:5").object_type == "customer"
    assert ops.parse_entity_reference("project-1234").canonical_id == "project-1234"
    for bad in ("crm:invoice:1", "nothing", "crm:opportunity:"):
        with pytest.raises(ValueError):
            ops.parse_entity_reference(bad)


# --------------------------------------------------------------------------- the commands, on a "deployed" stage


def concord(*args: str) -> Any:
    return CliRunner().invoke(app, [*args, "--stage", STAGE, "--region", "us-east-1"], env={"COLUMNS": "200"})


def test_commands_against_a_deployed_stage(stage: Stage) -> None:
    # (stage: moto is active, so the commands' own boto3 session talks to it)
    poison = account_changed("A-1", valid=False)
    stage.park(poison)

    listed = concord("exceptions", "--json")
    assert listed.exit_code == 1, listed.output
    (item,) = json.loads(listed.stdout)["open"]
    assert (item["kind"], item["flow"], item["severity"], item["event_id"]) == (
        "dlq_message", "audit_trail", "warning", poison["id"])

    shown = concord("dlq", "show", poison["id"], "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["source_queue"] == NAMES.queue("audit-trail")

    nothing = concord("dlq", "redrive", "--filter", "type=InvoicePosted")
    assert nothing.exit_code == 1 and "nothing redriven" in nothing.stdout

    bad = concord("dlq", "redrive", "--filter", "type")
    assert bad.exit_code == 2 and "expected an operator" in bad.output

    redriven = concord("dlq", "redrive", "--json")
    assert redriven.exit_code == 0, redriven.output
    (outcome,) = json.loads(redriven.stdout)["outcomes"]
    assert outcome["status"] == "redriven"
    (record,) = stage.records()
    assert record["who"].startswith("arn:aws:")  # the caller identity (moto's STS)

    stage.dynamodb.create_table(
        TableName=NAMES.checkpoints_table, KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
    )
    saved = dt.datetime.now(dt.UTC).isoformat()
    stage.dynamodb.put_item(TableName=NAMES.checkpoints_table, Item={
        "key": {"S": "crm:opportunity"}, "cursor": {"S": "opaque-31"}, "saved_at": {"S": saved}})
    status = concord("status", "--json")
    assert status.exit_code == 0, status.output
    screen = json.loads(status.stdout)
    assert {(q["name"], q["visible"], q["alarm"]) for q in screen["queues"]} == {
        (NAMES.queue("audit-trail"), 1, False), (NAMES.dlq("audit-trail"), 0, False)}
    (checkpoint,) = screen["checkpoints"]
    assert (checkpoint["watch"], checkpoint["cursor"], checkpoint["severity"]) == ("crm:opportunity", "opaque-31", "ok")
    assert screen["severity"] == "ok"
    assert concord("trace", "not-an-entity").exit_code == 2


def test_a_local_command_without_a_running_stack_says_so(tmp_path: Any) -> None:
    result = CliRunner().invoke(app, ["status", "--local", "--state-dir", str(tmp_path)])
    assert result.exit_code == 1 and "concord local up" in result.output
    assert CliRunner().invoke(app, ["status", "--local", "--stage", "prod"]).exit_code == 2


def test_a_denied_call_names_the_resource_and_the_permission(stage: Stage, monkeypatch: pytest.MonkeyPatch) -> None:
    real = boto3.session.Session.client

    def client(self: Any, service: str, *args: Any, **kwargs: Any) -> Any:
        made = real(self, service, *args, **kwargs)
        return Refusing(made, "get_queue_attributes") if service == "sqs" else made

    monkeypatch.setattr(boto3.session.Session, "client", client)
    result = concord("status")

    assert result.exit_code == 1
    assert "access denied to queue concord-t-audit-trail" in " ".join(result.output.split())
    assert "sqs:GetQueueAttributes" in result.output


class MoveTasks:
    """moto has no StartMessageMoveTask: the call as AWS answers it, over moto's SQS."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.started: list[dict[str, str]] = []

    def start_message_move_task(self, **kwargs: str) -> dict[str, str]:
        self.started.append(kwargs)
        return {"TaskHandle": "task-1"}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_a_whole_queue_move_task_is_started_and_recorded(stage: Stage) -> None:
    stage.park(account_changed("A-1"))
    sqs = MoveTasks(stage.sqs)

    handle = ops.start_message_move_task(sqs, stage.dlq, stage.source)
    record = ops.record_move_task(stage.dynamodb, NAMES, ops.Actor("arn:aws:iam::1:user/ops", "ops"), stage.dlq,
                                  stage.source, handle, 1, NOW)

    (started,) = sqs.started
    assert started["SourceArn"].endswith(":" + NAMES.dlq("audit-trail"))
    assert started["DestinationArn"].endswith(":" + NAMES.queue("audit-trail"))
    (item,) = stage.records()
    assert item["pk"] == record and item["task_handle"] == "task-1" and item["status"] == "move_task_started"


def test_status_shows_a_failed_scheduled_run_parked_by_its_on_failure_destination() -> None:
    """Lambda's on-failure destination of change_capture is `<stage>-change-capture-dlq` (infra
    ScheduledRuns): a failed run parked there alarms in `concord status` with its flow."""
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName=NAMES.dlq("change-capture"))["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({
            "version": "1.0", "requestContext": {"condition": "RetriesExhausted", "approximateInvokeCount": 3},
            "requestPayload": {"source": "aws.events"}, "responsePayload": {"errorType": "TransientError"},
        }))

        (status,) = ops.queue_statuses(sqs, NAMES, NOW)

    assert (status.kind, status.flow, status.severity, status.visible, status.alarming) == (
        "dlq", "change_capture", Severity.WARNING, 1, True)
