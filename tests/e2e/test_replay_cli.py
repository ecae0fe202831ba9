"""`concord replay` as an operator runs it (a subprocess) on the local stack with Tryton.

Two deals are won one after the other; the replay of a window holding only the second one
re-delivers exactly its events (each once, with the replay named in the envelope) and has no
second effect: one saga, one PSA project, one ERP customer, and the audit trail's records of
those events untouched. A window holding nothing replays nothing and says so.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from concord.local.consistency import SystemsView
from concord.local.inspect import LocalView
from concord.local.sagas import executions_for, wait_for_execution
from concord.local.scenarios.tryton import SalesRep, crm_client, random_ein
from concord.local.stack import LocalStack, aws_client
from concord.stores.audit_items import RecordedEvent, ReplayRecord
from concord.sync.ids import canonical_id

from .test_operator_cli import as_json, concord

pytestmark = pytest.mark.e2e

CONSUMER_QUEUES = ("concord-local-audit-trail", "concord-local-quote-to-cash")


@dataclass
class Deal:
    opportunity: str
    account: str
    won: str  # the OpportunityClosedWon event id
    account_changed: str  # the AccountChanged event id of its account


@dataclass
class History:
    first: Deal
    between: dt.datetime  # after every event of the first deal was recorded, before the second
    second: Deal


def settled(view: LocalView) -> bool:
    """The consumers have taken every message (none waiting, none in flight)."""
    for name in CONSUMER_QUEUES:
        attributes = view.sqs.get_queue_attributes(QueueUrl=view.queue_url(name), AttributeNames=["All"])["Attributes"]
        if int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"]):
            return False
    return True


def recorded(view: LocalView, event_type: str, field: str, value: str) -> RecordedEvent | None:
    found = [e for e in view.audit_events_of_type(event_type) if str(e.data.get(field)) == value]
    return found[0] if found else None


def win_a_deal(view: LocalView, rep: SalesRep, sfn: Any, name: str) -> Deal:
    account = str(rep.create_account(f"{name} {uuid.uuid4().hex[:6]}", street="1 Main Street", city="Boston",
                                     country="US", tax_id=random_ein()))
    opportunity = str(rep.win_opportunity(int(account), "Rollout", [("Build", 8)]))
    execution = wait_for_execution(sfn, opportunity, timeout=120)
    assert execution["status"] == "SUCCEEDED", f"the deal's saga must succeed for this test: {execution}"
    won = view.wait_for(lambda: recorded(view, "OpportunityClosedWon", "opportunity_id", opportunity), timeout=30)
    changed = view.wait_for(lambda: recorded(view, "AccountChanged", "account_id", account), timeout=30)
    assert won and changed, "the deal's events never reached the audit trail"
    assert view.wait_for(lambda: recorded(view, "ProjectActivated", "opportunity_id", opportunity), timeout=30)
    assert view.wait_for(lambda: settled(view), timeout=60, interval=0.2)
    return Deal(opportunity, account, won.event_id, changed.event_id)


@pytest.fixture(scope="module")
def history(local_stack: LocalStack, view: LocalView) -> History:
    systems = local_stack.systems()
    assert systems is not None, "the e2e stack must run with its business systems"
    rep, sfn = SalesRep(crm_client(systems)), aws_client(view.state, "stepfunctions")
    first = win_a_deal(view, rep, sfn, "Litware")
    between = dt.datetime.now(dt.UTC)
    second = win_a_deal(view, rep, sfn, "Adatum")
    return History(first, between, second)


def effects(view: LocalView, tryton: SystemsView, deal: Deal) -> dict[str, Any]:
    """What the deal made: its sagas, its PSA projects and ERP customers, its events' audit records."""
    sfn = aws_client(view.state, "stepfunctions")
    return {
        "executions": [e["name"] for e in executions_for(sfn, deal.opportunity)],
        "projects": tryton.psa.client.search_read(
            "project.work", [["concord_ref", "=", canonical_id("project", "crm", deal.opportunity)]], ["id"]),
        "customers": tryton.erp.client.search_read(
            "party.party", [["concord_ref", "=", canonical_id("customer", "crm", deal.account)],
                            ["active", "in", [True, False]]], ["id"]),
        "records": {event_id: view.audit.event(event_id) for event_id in (deal.won, deal.account_changed)},
    }


def replays(view: LocalView) -> list[ReplayRecord]:
    return view.audit.replays()


def test_a_window_is_replayed_exactly_once_each_and_has_no_second_effect(
    local_stack: LocalStack, quiet_bus: LocalView, history: History
) -> None:
    view, state_dir = quiet_bus, local_stack.state_dir
    tryton = SystemsView.direct(local_stack.systems())  # type: ignore[arg-type]
    window = ["--from", history.between.isoformat(), "--to", "now"]
    wanted = ["--type", "OpportunityClosedWon", "--type", "AccountChanged"]

    # a dry run lists the second deal's events, not the first's, and sends nothing
    dry = concord(state_dir, "replay", "--local", *window, *wanted, "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    listed = [e["event_id"] for e in as_json(dry)["events"]]
    assert {history.second.won, history.second.account_changed} <= set(listed)
    assert history.first.won not in listed and history.first.account_changed not in listed
    assert {e["type"] for e in as_json(dry)["events"]} <= {"OpportunityClosedWon", "AccountChanged"}
    assert as_json(dry)["method"] == "bus" and as_json(dry)["outcome"] is None
    assert not [e for e in view.drain_tap() if e.get("resources")] and replays(view) == []

    before = effects(view, tryton, history.second)
    assert len(before["executions"]) == len(before["projects"]) == len(before["customers"]) == 1

    result = concord(state_dir, "replay", "--local", *window, *wanted, "--json")

    assert result.returncode == 0, result.stdout + result.stderr
    replayed = as_json(result)
    chosen = [e["event_id"] for e in replayed["events"]]
    assert {history.second.won, history.second.account_changed} <= set(chosen)
    assert history.first.won not in chosen and history.first.account_changed not in chosen
    outcome = replayed["outcome"]
    assert (outcome["status"], outcome["sent"]) == ("completed", len(chosen))
    # each chosen event went over the bus once more, as itself, naming the replay
    on_bus = [e for e in view.drain_tap() if any(r.endswith(f":replay/{outcome['replay_name']}")
                                                 for r in e.get("resources", []))]
    assert sorted(e["detail"]["id"] for e in on_bus) == sorted(chosen)
    second_won = next(e for e in on_bus if e["detail"]["id"] == history.second.won)
    assert second_won["detail"] == before["records"][history.second.won].detail
    # the consumers took them, and nothing happened twice
    assert view.wait_for(lambda: settled(view), timeout=60, interval=0.2)
    assert effects(view, tryton, history.second) == before
    (record,) = replays(view)
    assert record.key.pk == outcome["record"] and record.status == "completed"
    assert record.who.endswith("(local stack)") and record.method == "bus"
    assert record.window_from == history.between and record.types == ["OpportunityClosedWon", "AccountChanged"]
    assert record.count == record.sent == len(chosen) and record.event_ids == chosen


def test_an_entity_picks_its_own_events_from_a_wide_window(
    local_stack: LocalStack, quiet_bus: LocalView, history: History
) -> None:
    view = quiet_bus
    result = concord(local_stack.state_dir, "replay", "--local", "--from", "1h", "--type", "OpportunityClosedWon",
                     "--entity", f"crm:opportunity:{history.first.opportunity}")

    assert result.returncode == 0, result.stdout + result.stderr
    assert history.first.won in result.stdout and history.second.won not in result.stdout
    assert "replayed 1 of 1 event(s)" in result.stdout
    assert [e["detail"]["id"] for e in view.drain_tap() if e.get("resources")] == [history.first.won]
    assert view.wait_for(lambda: settled(view), timeout=60, interval=0.2)
    assert [e["name"] for e in executions_for(aws_client(view.state, "stepfunctions"), history.first.opportunity)] == [
        history.first.won]


def test_a_window_holding_nothing_replays_nothing_and_says_so(
    local_stack: LocalStack, quiet_bus: LocalView, history: History, tmp_path: Path
) -> None:
    view = quiet_bus
    before = len(replays(view))

    result = concord(local_stack.state_dir, "replay", "--local", "--from", "2001-01-01", "--to", "2001-01-02")

    assert result.returncode == 1
    assert "nothing replayed" in result.stdout
    assert not [e for e in view.drain_tap() if e.get("resources")] and len(replays(view)) == before
    unknown = concord(local_stack.state_dir, "replay", "--local", "--from", "1h", "--type", "NoSuchEvent")
    assert unknown.returncode == 2 and "unknown event type NoSuchEvent" in unknown.stderr
