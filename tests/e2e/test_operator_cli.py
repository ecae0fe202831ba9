"""The operator's commands as an operator runs them (a subprocess) on the local stack with Tryton.

One module-scoped incident set, made once: the ERP is down while a deal is won (its saga
fails and raises SyncExceptionRaised), and two malformed events are parked in the audit-trail
DLQ. The tests then list, show, dry-run, fix by --edit, refuse a bad edit, read the status,
and see the exception close once the saga is redriven. They run in file order.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import textwrap
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from concord.local.faults import FaultController
from concord.local.inspect import LocalView
from concord.local.sagas import executions_for, wait_for_execution
from concord.local.scenarios.tryton import SalesRep, crm_client, random_ein
from concord.local.stack import LocalStack, aws_client

pytestmark = pytest.mark.e2e

AUDIT_DLQ = "concord-local-audit-trail-dlq"

FIX = textwrap.dedent("""
    import json, sys
    path = sys.argv[1]
    event = json.load(open(path))
    event.update(version=1, source_system="crm", occurred_at="2026-11-26T09:00:00Z",
                 correlation_id=event["id"], legal_entity="us-01")
    event["data"]["account_id"] = "A-fixed-by-edit"
    json.dump(event, open(path, "w"))
""")
BREAK = textwrap.dedent("""
    import json, sys
    path = sys.argv[1]
    event = json.load(open(path))
    event["version"] = 1
    event["data"]["account_id"] = ""
    json.dump(event, open(path, "w"))
""")


def concord(state_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "concord.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "CONCORD_LOCAL_DIR": str(state_dir), "COLUMNS": "200", **env},
    )


def as_json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.stdout, result.stderr
    return json.loads(result.stdout)


@dataclass
class Incidents:
    opportunity: str
    trigger: str  # the OpportunityClosedWon event id the failed saga ran for
    failed_execution: dict[str, Any]
    fixable: str  # event ids of the two malformed events parked in the DLQ
    hopeless: str
    parked: dict[str, str]  # event id -> DLQ message id


def parked_in_dlq(view: LocalView, event_ids: list[str]) -> dict[str, str]:
    found = {}
    for message in view.dlq_messages(AUDIT_DLQ):
        event_id = json.loads(message["Body"]).get("detail", {}).get("id")
        if event_id in event_ids:
            found[event_id] = message["MessageId"]
    return found if len(found) == len(event_ids) else {}


@pytest.fixture(scope="module")
def incidents(local_stack: LocalStack, view: LocalView) -> Incidents:
    systems = local_stack.systems()
    assert systems is not None, "the e2e stack must run with its business systems"
    sfn = aws_client(view.state, "stepfunctions")

    # Two events no consumer can process (a producer bug), on their way to the DLQ ...
    poison = [str(uuid.uuid4()), str(uuid.uuid4())]
    view.events.put_events(
        Entries=[
            {
                "EventBusName": view.topology.setting("EVENT_BUS_NAME"),
                "Source": "concord.crm",
                "DetailType": "AccountChanged",
                "Detail": json.dumps({"id": event_id, "type": "AccountChanged", "data": {"name": "no id"}}),
            }
            for event_id in poison
        ]
    )

    # ... while a deal is won with the ERP down: the saga cannot validate the customer.
    rep = SalesRep(crm_client(systems))
    account = rep.create_account(
        f"Northwind {uuid.uuid4().hex[:6]}", street="1 Main Street", city="Boston", country="US", tax_id=random_ein()
    )
    faults = FaultController(systems.faults_url)
    try:
        faults.set("erp", "outage")
        opportunity = str(rep.win_opportunity(account, "Quarter close", [("Assessment", 8)]))
        failed = wait_for_execution(sfn, opportunity, timeout=120)
    finally:
        faults.clear("erp")
    assert failed["status"] == "FAILED", failed
    trigger = json.loads(failed["input"])["event"]["id"]
    raised = view.wait_for(
        lambda: [
            e for e in view.audit_events_of_type("SyncExceptionRaised") if e.data["caused_by_event_id"] == trigger
        ],
        timeout=30,
    )
    assert raised, "the failed saga's SyncExceptionRaised never reached the audit trail"
    parked = view.wait_for(lambda: parked_in_dlq(view, poison), timeout=60, interval=0.5)
    assert parked, "the malformed events never reached the DLQ"
    return Incidents(opportunity, trigger, failed, poison[0], poison[1], parked)


def editor(tmp_path: Path, name: str, script: str) -> str:
    path = tmp_path / f"{name}.py"
    path.write_text(script)
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(path))}"


def redrive_records(view: LocalView, event_id: str) -> list[dict[str, Any]]:
    # A scan: what the redrive wrote, whatever it indexed.
    return (
        aws_client(view.state, "dynamodb", resource=True)
        .Table(view.audit.table_name)
        .scan(
            FilterExpression="begins_with(pk, :r) AND event_id = :e",
            ExpressionAttributeValues={":r": "REDRIVE#", ":e": event_id},
        )["Items"]
    )


def test_exceptions_lists_the_failed_saga_and_the_parked_events(local_stack: LocalStack, incidents: Incidents) -> None:
    result = concord(local_stack.state_dir, "exceptions", "--local", "--json")

    assert result.returncode == 1, result.stderr  # something is open
    listing = as_json(result)
    (saga,) = [i for i in listing["open"] if i.get("caused_by_event_id") == incidents.trigger]
    assert (saga["kind"], saga["flow"], saga["severity"], saga["what"], saga["error_class"]) == (
        "sync_exception",
        "quote_to_cash",
        "warning",
        "ValidateCustomer",
        "transient",
    )
    assert "cannot reach Tryton" in saga["reason"]
    # a malformed AccountChanged is parked by each of its consumers: the audit trail's is checked here
    parked = {i["event_id"]: i for i in listing["open"] if i["kind"] == "dlq_message" and i["flow"] == "audit_trail"}
    for event_id, message_id in incidents.parked.items():
        assert parked[event_id]["id"] == message_id
        assert (parked[event_id]["flow"], parked[event_id]["error_class"]) == ("audit_trail", "validation")
    # grouped by flow and severity, oldest first within a group
    for group in listing["groups"]:
        ages = [i["since"] for i in listing["open"] if (i["flow"], i["severity"]) == (group["flow"], group["severity"])]
        assert ages == sorted(ages)

    only_sagas = as_json(concord(local_stack.state_dir, "exceptions", "--local", "--json", "--flow", "quote_to_cash"))
    assert {i["flow"] for i in only_sagas["open"]} == {"quote_to_cash"}
    severe = as_json(concord(local_stack.state_dir, "exceptions", "--local", "--json", "--severity", "high"))
    assert [i["id"] for i in severe["open"]] == [
        i["id"] for i in listing["open"] if i["severity"] in ("critical", "high")
    ]

    table = concord(local_stack.state_dir, "exceptions", "--local")
    assert table.returncode == 1
    assert "quote_to_cash" in table.stdout and "ValidateCustomer" in table.stdout and incidents.trigger in table.stdout


def test_dlq_show_gives_the_reasons_of_each_failed_attempt(
    local_stack: LocalStack, view: LocalView, incidents: Incidents
) -> None:
    message_id = incidents.parked[incidents.fixable]

    result = concord(local_stack.state_dir, "dlq", "show", message_id, "--local", "--json")

    assert result.returncode == 0, result.stderr
    shown = as_json(result)
    max_receive = next(q.max_receive_count for q in view.topology.queues if q.name == "concord-local-audit-trail")
    assert shown["queue"] == AUDIT_DLQ and shown["source_queue"] == "concord-local-audit-trail"
    assert shown["payload"]["detail"]["id"] == incidents.fixable
    assert shown["failed_attempts"] == len(shown["failures"]) == max_receive
    assert shown["first_failure"] <= shown["last_failure"]
    assert shown["last_error"]["error_class"] == "validation"
    assert "data.account_id: Field required" in shown["last_error"]["reason"]
    assert "data.account_id: Field required" in shown["validation_errors"]
    assert shown["receive_count"] >= max_receive and "SentTimestamp" in shown["attributes"]

    # by the event's id too, as a table
    table = concord(local_stack.state_dir, "dlq", "show", incidents.fixable, "--local")
    assert table.returncode == 0 and message_id in table.stdout and "validation" in table.stdout
    missing = concord(local_stack.state_dir, "dlq", "show", "no-such-message", "--local")
    assert missing.returncode == 1 and "no message no-such-message" in missing.stderr


def test_a_dry_run_changes_nothing_and_a_filter_matching_nothing_redrives_nothing(
    local_stack: LocalStack, view: LocalView, incidents: Incidents
) -> None:
    before = {m["MessageId"] for m in view.dlq_messages(AUDIT_DLQ)}

    result = concord(
        local_stack.state_dir,
        "dlq",
        "redrive",
        "--local",
        "--dry-run",
        "--json",
        "--queue",
        "audit-trail",
        "--filter",
        f"id={incidents.fixable}",
    )

    assert result.returncode == 0, result.stderr
    (outcome,) = as_json(result)["outcomes"]
    assert (outcome["status"], outcome["valid"], outcome["message_id"]) == (
        "would_redrive",
        False,
        incidents.parked[incidents.fixable],
    )
    nothing = concord(local_stack.state_dir, "dlq", "redrive", "--local", "--filter", "type=NoSuchEvent")
    assert nothing.returncode == 1 and "nothing redriven" in nothing.stdout
    assert {m["MessageId"] for m in view.dlq_messages(AUDIT_DLQ)} == before
    assert redrive_records(view, incidents.fixable) == []
    assert view.audit.event(incidents.fixable) is None


def test_an_edit_that_fails_the_schema_is_refused_and_the_message_stays(
    local_stack: LocalStack, view: LocalView, incidents: Incidents, tmp_path: Path
) -> None:
    result = concord(
        local_stack.state_dir,
        "dlq",
        "redrive",
        "--local",
        "--edit",
        "--queue",
        "audit-trail",
        "--filter",
        f"id={incidents.hopeless}",
        EDITOR=editor(tmp_path, "break", BREAK),
    )

    assert result.returncode == 1
    assert "refused" in result.stdout
    assert "data.account_id: String should have at least 1 character" in result.stdout
    assert "occurred_at: Field required" in result.stdout
    assert incidents.parked[incidents.hopeless] in {m["MessageId"] for m in view.dlq_messages(AUDIT_DLQ)}
    assert redrive_records(view, incidents.hopeless) == []


def test_an_edit_that_fixes_the_event_redrives_it_and_records_the_redrive(
    local_stack: LocalStack, view: LocalView, incidents: Incidents, tmp_path: Path
) -> None:
    result = concord(
        local_stack.state_dir,
        "dlq",
        "redrive",
        "--local",
        "--edit",
        "--json",
        "--queue",
        "audit-trail",
        "--filter",
        f"id={incidents.fixable}",
        EDITOR=editor(tmp_path, "fix", FIX),
    )

    assert result.returncode == 0, result.stdout + result.stderr
    (outcome,) = as_json(result)["outcomes"]
    assert (outcome["status"], outcome["edited"]) == ("redriven", True)
    # the audit-trail consumer now takes it: applied once
    recorded = view.wait_for(lambda: view.audit.event(incidents.fixable), timeout=30, interval=0.2)
    assert recorded is not None and recorded.data["account_id"] == "A-fixed-by-edit"
    assert incidents.parked[incidents.fixable] not in {m["MessageId"] for m in view.dlq_messages(AUDIT_DLQ)}
    (record,) = redrive_records(view, incidents.fixable)
    assert record["pk"] == outcome["record"] and record["status"] == "completed" and record["edited"]
    assert record["dlq_message_id"] == incidents.parked[incidents.fixable]
    assert record["who"].endswith("(local stack)") and record["started_at"] <= record["finished_at"]
    assert json.loads(record["before"])["detail"]["data"] == {"name": "no id"}
    assert json.loads(record["after"])["detail"]["data"]["account_id"] == "A-fixed-by-edit"


def test_status_shows_the_dlq_depth_and_the_failed_saga(local_stack: LocalStack, incidents: Incidents) -> None:
    result = concord(local_stack.state_dir, "status", "--local", "--json")

    assert result.returncode == 1  # a DLQ holds a message: its alarm's severity colours the screen
    screen = as_json(result)
    queues = {q["name"]: q for q in screen["queues"]}
    dlq = queues[AUDIT_DLQ]
    assert dlq["visible"] >= 1 and dlq["alarm"] and dlq["severity"] == "warning"
    assert dlq["oldest_age_seconds"] is not None and dlq["oldest_age_seconds"] >= 0
    assert not queues["concord-local-quote-to-cash"]["alarm"]
    (saga,) = [s for s in screen["sagas"] if s["state_machine"] == "concord-local-quote-to-cash"]
    assert incidents.failed_execution["name"] in {u["execution"] for u in saga["unresolved_failures"]}
    assert screen["open_exceptions"]["total"] >= 1 and screen["severity"] in ("warning", "high", "critical")

    table = concord(local_stack.state_dir, "status", "--local")
    assert "audit-trail-dlq" in table.stdout and "ALARM (warning)" in table.stdout


def test_a_redriven_saga_closes_its_exception_and_trace_shows_the_lineage(
    local_stack: LocalStack, view: LocalView, incidents: Incidents
) -> None:
    sfn = aws_client(view.state, "stepfunctions")
    state_dir, trigger = local_stack.state_dir, incidents.trigger
    failed = as_json(concord(state_dir, "saga", "list", "--local", "--status", "FAILED", "--json"))
    assert trigger in {s["trigger_event_id"] for s in failed["sagas"]}
    dry = concord(state_dir, "saga", "redrive", trigger, "--local", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert (as_json(dry)["status"], as_json(dry)["new_execution"]) == ("would_redrive", f"{trigger}-redrive-1")
    assert len(executions_for(sfn, incidents.opportunity)) == 1

    # the ERP is back: redrive the failed execution, by its name
    redriven = concord(state_dir, "saga", "redrive", incidents.failed_execution["name"], "--local", "--json")

    assert redriven.returncode == 0, redriven.stdout + redriven.stderr
    assert as_json(redriven)["new_execution"] == f"{trigger}-redrive-1"
    completed = wait_for_execution(sfn, incidents.opportunity, count=2, timeout=120)
    assert (completed["name"], completed["status"]) == (f"{trigger}-redrive-1", "SUCCEEDED")
    assert completed["input"] == incidents.failed_execution["input"]
    (record,) = [r for r in redrive_records(view, trigger) if r["record_type"] == "saga_redrive"]
    assert (record["failed_execution"], record["new_execution"], record["status"]) == (
        trigger,
        f"{trigger}-redrive-1",
        "started",
    )
    assert record["who"].endswith("(local stack)")
    again = concord(state_dir, "saga", "redrive", trigger, "--local")
    assert again.returncode == 1 and "already succeeded" in again.stderr
    assert len(executions_for(sfn, incidents.opportunity)) == 2

    listing = as_json(concord(local_stack.state_dir, "exceptions", "--local", "--json"))
    assert incidents.trigger not in {i.get("caused_by_event_id") for i in listing["open"]}
    closing = {c["closed_by_execution"] for c in listing["closed_exceptions"]}
    assert f"{incidents.trigger}-redrive-1" in closing

    result = concord(local_stack.state_dir, "trace", f"crm:opportunity:{incidents.opportunity}", "--local", "--json")
    assert result.returncode == 0, result.stderr
    traced = as_json(result)
    assert traced["object_type"] == "project" and traced["canonical_id"].startswith("project-")
    assert traced["records"]["crm"]["record_id"] == incidents.opportunity and "psa" in traced["records"]
    kinds = [e["type"] for e in traced["events"]]
    assert kinds[0] == "OpportunityClosedWon" and "SyncExceptionRaised" in kinds and "ProjectActivated" in kinds
    (customer,) = traced["related"]
    by_id = as_json(concord(local_stack.state_dir, "trace", customer, "--local", "--json"))
    assert set(by_id["records"]) == {"crm", "erp", "psa"}  # the PSA client quote-to-cash linked
