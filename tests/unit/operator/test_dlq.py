"""DLQ redrive bookkeeping (concord.operator.dlq, concord.operator.queues) against moto: what is
resent, deleted and recorded, dry runs, edits, refusals, peeks and whole-queue move tasks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from concord.operator import dlq as ops
from concord.operator.calls import OperationsError
from concord.operator.queues import DlqMessage, find_dlq_message, peek_messages
from concord.stores.audit_items import RedriveKey

from .helpers import NAMES, NOW, OPS, Refusing, Stage, account_changed, refuse, selector


def redrive(stage: Stage, **kwargs: Any) -> ops.RedriveRun:
    return ops.RedriveRun(stage.sqs, stage.stores, stage.dlq, stage.source, OPS, **kwargs)


def test_a_filtered_redrive_resends_deletes_and_records_each_message(stage: Stage) -> None:
    wanted = [account_changed("A-1"), account_changed("A-2")]
    other = account_changed("B-1")
    parked = {event["id"]: stage.park(event) for event in [*wanted, other]}

    outcomes = redrive(stage, filter_text="data.account_id=A-*").run(selector("data.account_id=A-*"), None)

    assert [o.status for o in outcomes] == ["redriven", "redriven"]
    assert {o.event_id for o in outcomes} == {e["id"] for e in wanted}
    assert stage.depth(stage.dlq) == 1 and stage.visible(stage.dlq) == 1  # the other one, visible again
    assert sorted(b["detail"]["id"] for b in stage.received(stage.source)) == sorted(e["id"] for e in wanted)
    records = stage.records()
    assert len(records) == 2
    for record in records:
        assert record.key == RedriveKey.message(record.run_id, record.dlq_message_id)
        assert record.key.pk == outcomes[0].record
        assert record.status == "completed"
        assert record.who == "arn:aws:iam::123456789012:user/ops" and record.os_user == "ops"
        assert record.dlq == NAMES.dlq("audit-trail") and record.target_queue == NAMES.queue("audit-trail")
        assert record.before == record.after and not record.edited
        assert record.filter == "data.account_id=A-*"
        assert record.dlq_message_id == parked[record.event_id]
        assert record.new_message_id in {o.new_message_id for o in outcomes}
        assert record.started_at <= record.sent_at <= record.finished_at


def test_a_dry_run_changes_nothing(stage: Stage) -> None:
    events = [account_changed("A-1"), account_changed("A-2", valid=False)]
    for event in events:
        stage.park(event)

    outcomes = redrive(stage).plan(selector(None), None)

    assert [o.status for o in outcomes] == ["would_redrive", "would_redrive"]
    assert [o.valid for o in outcomes] == [True, False]
    assert any("data.account_id: Field required" in e for e in outcomes[1].errors)
    assert stage.visible(stage.dlq) == 2 and stage.depth(stage.source) == 0
    assert stage.records() == []


def test_a_filter_matching_nothing_redrives_nothing(stage: Stage) -> None:
    stage.park(account_changed("A-1"))

    assert redrive(stage).run(selector("type=InvoicePosted"), None) == []
    assert stage.visible(stage.dlq) == 1 and stage.depth(stage.source) == 0 and stage.records() == []


def test_the_limit_caps_a_redrive(stage: Stage) -> None:
    for n in range(4):
        stage.park(account_changed(f"A-{n}"))

    outcomes = redrive(stage).run(selector(None), 3)

    assert len(outcomes) == 3 and stage.depth(stage.source) == 3
    assert stage.visible(stage.dlq) == 1 and len(stage.records()) == 3


def test_an_edit_is_validated_then_sent_and_recorded_with_before_and_after(stage: Stage) -> None:
    broken = account_changed("A-1", valid=False)
    message_id = stage.park(broken)

    def fix(message: DlqMessage) -> ops.EditOutcome:
        event = json.loads(ops.editable_text(message))
        event.update(
            version=1,
            source_system="crm",
            occurred_at="2026-03-01T10:00:00Z",
            correlation_id=event["id"],
            legal_entity="us-01",
        )
        event["data"]["account_id"] = "A-1"
        return ops.apply_edit(message, json.dumps(event))

    (outcome,) = redrive(stage).run(selector(f"id={broken['id']}"), None, fix)

    assert outcome.status == "redriven" and outcome.edited
    (resent,) = stage.received(stage.source)
    assert resent["detail"]["data"] == {"account_id": "A-1", "name": "no id"}
    assert resent["detail-type"] == "AccountChanged" and resent["source"] == "concord.crm"
    assert stage.depth(stage.dlq) == 0
    (record,) = stage.records()
    assert record.edited and record.dlq_message_id == message_id
    assert json.loads(record.before)["detail"] == broken
    assert json.loads(record.after)["detail"]["data"]["account_id"] == "A-1"


def test_an_invalid_edit_is_refused_and_the_message_stays_unrecorded(stage: Stage) -> None:
    broken = account_changed("A-1", valid=False)
    stage.park(broken)

    def still_broken(message: DlqMessage) -> ops.EditOutcome:
        event = json.loads(ops.editable_text(message))
        event["data"]["account_id"] = ""
        return ops.apply_edit(message, json.dumps(event))

    (outcome,) = redrive(stage).run(selector(None), None, still_broken)

    assert outcome.status == "refused"
    assert "data.account_id: String should have at least 1 character" in outcome.errors
    assert "occurred_at: Field required" in outcome.errors
    assert stage.visible(stage.dlq) == 1 and stage.depth(stage.source) == 0 and stage.records() == []
    # not JSON at all
    (outcome,) = redrive(stage).run(selector(None), None, lambda m: ops.apply_edit(m, "{nope"))
    assert outcome.status == "refused" and outcome.errors[0].startswith("not JSON")
    assert stage.visible(stage.dlq) == 1


def test_a_failed_resend_leaves_the_message_in_the_dlq_and_says_so_in_the_record(stage: Stage) -> None:
    stage.park(account_changed("A-1"))
    stage.sqs = Refusing(stage.sqs, "send_message")

    (outcome,) = redrive(stage).run(selector(None), None)

    assert outcome.status == "failed"
    assert "sqs:SendMessage" in outcome.detail and NAMES.queue("audit-trail") in outcome.detail
    assert stage.visible(stage.dlq) == 1
    (record,) = stage.records()
    assert record.status == "send_failed" and "access denied" in record.error


def test_no_redrive_without_its_record(stage: Stage) -> None:
    stage.park(account_changed("A-1"))
    refuse(stage.dynamodb, "PutItem")

    with pytest.raises(OperationsError) as raised:
        redrive(stage).run(selector(None), None)

    assert str(raised.value).startswith(
        f"access denied to table {NAMES.audit_table}: the caller lacks dynamodb:PutItem"
    )
    assert stage.visible(stage.dlq) == 1 and stage.depth(stage.source) == 0


def test_a_peek_sees_every_message_and_leaves_them_all_visible(stage: Stage) -> None:
    ids = {stage.park(account_changed(f"A-{n}")) for n in range(23)}

    peeked = peek_messages(stage.sqs, stage.dlq)

    assert {m.message_id for m in peeked} == ids
    assert stage.visible(stage.dlq) == 23
    assert find_dlq_message(stage.sqs, [stage.dlq], peeked[-1].event_id or "").message_id == peeked[-1].message_id


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
    record = ops.record_move_task(stage.stores, OPS, stage.dlq, stage.source, handle, 1, NOW)

    (started,) = sqs.started
    assert started["SourceArn"].endswith(":" + NAMES.dlq("audit-trail"))
    assert started["DestinationArn"].endswith(":" + NAMES.queue("audit-trail"))
    (item,) = stage.records()
    assert (
        item.key == RedriveKey.move_task(item.run_id)
        and item.key.pk == record
        and item.task_handle == "task-1"
        and item.status == "move_task_started"
    )
