"""Hybrid change capture: a deal whose webhook was lost is found by polling and synced; a deal
announced by both push and polling is one event and one saga."""

from __future__ import annotations

import json
import os
import signal
import uuid
from typing import Any

import pytest

from concord.local.inspect import LocalView
from concord.local.runtime.schedules import scheduled_event
from concord.local.sagas import executions_for, wait_for_execution
from concord.local.scenarios.tryton import SalesRep, crm_client, random_ein
from concord.local.stack import LocalStack, aws_client
from concord.local.state import StackState

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def rep(local_stack: LocalStack) -> SalesRep:
    return SalesRep(crm_client(local_stack.systems()))


@pytest.fixture(scope="module")
def sfn(view: LocalView) -> Any:
    return aws_client(view.state, "stepfunctions")


def poll(view: LocalView, watch: str = "crm:opportunity") -> dict[str, Any]:
    """Run the poller now; the report of one of its watches."""
    reports = view.invoke("change_capture", scheduled_event("concord-local-change-capture"))["watches"]
    return next(r for r in reports if r["watch"] == watch)


def win(rep: SalesRep, name: str) -> str:
    account = rep.create_account(
        f"{name} {uuid.uuid4().hex[:6]}", street="2 Side St", city="Austin", country="US", tax_id=random_ein()
    )
    return str(rep.win_opportunity(account, f"{name} deal", [("Advisory", 12)]))


def test_a_won_deal_whose_webhook_was_lost_is_found_by_polling_and_synced(
    local_stack: LocalStack, view: LocalView, rep: SalesRep, sfn: Any
) -> None:
    poll(view)  # the watch has a checkpoint from here on

    # Given Concord's runtime is down when the deal is won: Tryton's push finds nobody
    os.killpg(StackState.load(local_stack.state_dir).runtime_pid, signal.SIGKILL)
    opportunity = win(rep, "Lost Webhook")

    # When the runtime is back (its scheduled poller runs as it starts) and polls
    local_stack.up()
    report = poll(view)

    # Then the won deal is announced (again within the overlap, with the same id), and the
    # saga runs as if the webhook had arrived
    assert report["events"] >= 1
    assert wait_for_execution(sfn, opportunity)["status"] == "SUCCEEDED"


def test_a_deal_announced_by_push_and_by_polling_is_one_event_and_one_saga(
    view: LocalView, rep: SalesRep, sfn: Any
) -> None:
    poll(view)
    opportunity = win(rep, "Both Ways")
    pushed = wait_for_execution(sfn, opportunity)
    assert pushed["status"] == "SUCCEEDED"

    report = poll(view)

    assert report["events"] >= 1, report
    polled = [e for e in view.audit_events_of_type("OpportunityClosedWon") if e.data["opportunity_id"] == opportunity]
    assert {e.event_id for e in polled} == {json.loads(pushed["input"])["event"]["id"]}
    view.wait_for(
        lambda: (
            view.sqs.get_queue_attributes(
                QueueUrl=view.queue_url("concord-local-quote-to-cash"), AttributeNames=["All"]
            )["Attributes"]["ApproximateNumberOfMessages"]
            == "0"
        ),
        timeout=20,
    )
    assert len(executions_for(sfn, opportunity)) == 1
