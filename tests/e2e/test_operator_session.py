"""An operator's session at quarter close, each step the CLI as a subprocess (issue #7's story).

The ERP goes down while approved time is billed and a deal is won: the billing batch is
parked in its DLQ (and an expense with an unmapped category with it), the saga fails. The
ERP comes back. The operator lists the exceptions, shows one, fixes the expense by --edit,
redrives the rest after a dry run, redrives the saga, finds the time entry whose webhook was
lost with `concord reconcile`, repairs it, and reconcile then reports no drift.
The tests run in file order on one module-scoped incident set.
"""

from __future__ import annotations

import datetime as dt
import json
import textwrap
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from concord.local.consistency import SystemsView
from concord.local.demo_secrets import demo_signing_secret
from concord.local.faults import FaultController
from concord.local.inspect import LocalView
from concord.local.sagas import wait_for_execution
from concord.local.scenarios.tryton import Consultant, SalesRep, random_ein, user_client
from concord.local.sender import canonical_delivery, post
from concord.local.stack import LocalStack, aws_client
from concord.sync.ids import canonical_id

from .test_operator_cli import as_json, concord, editor

pytestmark = pytest.mark.e2e

BILLING_DLQ = "concord-local-billing-dlq"
FIX_CATEGORY = textwrap.dedent("""
    import json, sys
    path = sys.argv[1]
    event = json.load(open(path))
    event["data"]["category"] = "travel"
    json.dump(event, open(path, "w"))
""")


@dataclass
class Quarter:
    state_dir: Path
    billed_deal: str  # opportunity whose project gets time billed
    project_ref: str
    project_id: str
    failed_deal: str
    failed_trigger: str
    time_lines: list[int]
    expense_event: str
    parked: dict[str, str]  # event id -> DLQ message id


def billing_dlq(view: LocalView, project_id: str) -> dict[str, str]:
    """Event id -> message id of the project's records parked in the billing DLQ (the queue may
    hold other tests' records too)."""
    parked = {}
    for message in view.dlq_messages(BILLING_DLQ):
        detail = json.loads(message["Body"])["detail"]
        if str(detail.get("data", {}).get("project_id")) == project_id:
            parked[detail["id"]] = message["MessageId"]
    return parked


def erp_refs(tryton: SystemsView, project_ref: str) -> set[str]:
    invoices = [
        i["id"] for i in tryton.erp.client.search_read("account.invoice", [["reference", "=", project_ref]], ["id"])
    ]
    return {
        line["concord_ref"]
        for line in tryton.erp.client.search_read(
            "account.invoice.line", [["invoice", "in", invoices]], ["concord_ref"]
        )
    }


def won(view: LocalView, rep: SalesRep, name: str) -> str:
    account = rep.create_account(
        f"{name} {uuid.uuid4().hex[:6]}", street="5 Quay St", city="Portland", country="US", tax_id=random_ein()
    )
    return str(rep.win_opportunity(account, f"{name} programme", [("Phase 1", 24)]))


@pytest.fixture(scope="module")
def tryton(local_stack: LocalStack) -> SystemsView:
    systems = local_stack.systems()
    assert systems is not None
    return SystemsView.direct(systems)


@pytest.fixture(scope="module")
def quarter(local_stack: LocalStack, view: LocalView) -> Quarter:
    systems = local_stack.systems()
    assert systems is not None, "the e2e stack must run with its business systems"
    sfn = aws_client(view.state, "stepfunctions")
    rep = SalesRep(user_client(systems, "crm"))
    billed = won(view, rep, "Woodgrove")
    assert wait_for_execution(sfn, billed)["status"] == "SUCCEEDED"
    project_ref = canonical_id("project", "crm", billed)
    (project,) = SystemsView.direct(systems).psa.client.search_read(
        "project.work", [["concord_ref", "=", project_ref]], ["id"]
    )

    faults = FaultController(systems.faults_url)
    faults.set("erp", "outage")
    try:
        # approved time is billed while the ERP is down; an expense comes in with a category
        # no service item is mapped to
        consultant = Consultant(user_client(systems, "psa"))
        lines = [consultant.log_time(str(project["id"]), hours) for hours in (4, 6)]
        consultant.approve(lines)
        expense_id = f"EX-{uuid.uuid4().hex[:6]}"
        delivery = canonical_delivery(
            demo_signing_secret("psa"),
            "ExpenseApproved",
            {
                "expense_id": expense_id,
                "project_id": str(project["id"]),
                "employee_id": "1",
                "incurred_on": dt.date.today().isoformat(),
                "amount": {"amount": "180.00", "currency": "USD"},
                "category": "Client gifts",
                "billable": True,
                "approved_at": dt.datetime.now(dt.UTC).isoformat(),
            },
        )
        with httpx.Client(timeout=30) as client:
            response = post(client, f"{view.state.webhook_url}/psa", delivery)
        assert response.status_code == 202, response.text
        expense_event = response.json()["event_id"]
        # and a deal is won: its saga cannot reach the ERP
        failed_deal = won(view, rep, "Litware")
        failed = wait_for_execution(sfn, failed_deal, timeout=120)
        parked = view.wait_for(
            lambda: (found := billing_dlq(view, str(project["id"]))) and len(found) >= 3 and found,
            timeout=120,
            interval=0.5,
        )
    finally:
        faults.clear("erp")
    assert failed["status"] == "FAILED", failed
    assert parked and expense_event in parked, parked
    return Quarter(
        local_stack.state_dir,
        billed,
        project_ref,
        str(project["id"]),
        failed_deal,
        json.loads(failed["input"])["event"]["id"],
        lines,
        expense_event,
        parked,
    )


def test_1_exceptions_list_the_failed_saga_and_the_unbilled_work(quarter: Quarter) -> None:
    result = concord(quarter.state_dir, "exceptions", "--local", "--json")
    assert result.returncode == 1, result.stderr
    listing = as_json(result)
    assert quarter.failed_trigger in {i.get("caused_by_event_id") for i in listing["open"]}
    billing = {i["event_id"]: i for i in listing["open"] if i["kind"] == "dlq_message" and i["flow"] == "billing"}
    assert set(quarter.parked) <= set(billing)
    assert {billing[e]["severity"] for e in quarter.parked} == {"high"}
    only = as_json(concord(quarter.state_dir, "exceptions", "--local", "--json", "--flow", "billing"))
    assert {i["flow"] for i in only["open"]} == {"billing"}


def test_2_dlq_show_gives_the_reason_and_its_class(quarter: Quarter) -> None:
    shown = as_json(
        concord(quarter.state_dir, "dlq", "show", quarter.parked[quarter.expense_event], "--local", "--json")
    )
    text = json.dumps(shown)
    assert "validation" in text and "Client gifts" in text
    time_event = next(e for e in quarter.parked if e != quarter.expense_event)
    shown = concord(quarter.state_dir, "dlq", "show", quarter.parked[time_event], "--local")
    assert shown.returncode == 0, shown.stderr
    assert "transient" in shown.stdout and "cannot reach Tryton" in shown.stdout


def test_3_the_expense_is_fixed_by_edit_and_billed(
    quarter: Quarter, tryton: SystemsView, view: LocalView, tmp_path: Path
) -> None:
    result = concord(
        quarter.state_dir,
        "dlq",
        "redrive",
        "--local",
        "--json",
        "--edit",
        "--queue",
        "billing",
        "--filter",
        f"id={quarter.expense_event}",
        EDITOR=editor(tmp_path, "fix", FIX_CATEGORY),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (outcome,) = as_json(result)["outcomes"]
    assert (outcome["status"], outcome["edited"]) == ("redriven", True)
    assert view.wait_for(
        lambda: any(r.startswith("expense:") for r in erp_refs(tryton, quarter.project_ref)), timeout=60, interval=0.5
    )


def test_4_the_rest_is_redriven_after_a_dry_run(quarter: Quarter, tryton: SystemsView, view: LocalView) -> None:
    rest = sorted(set(quarter.parked) - {quarter.expense_event})
    # this project's parked work (the queue may hold other tests' records)
    select = ["--queue", "billing", "--filter", f"data.project_id={quarter.project_id}"]
    dry = concord(quarter.state_dir, "dlq", "redrive", "--local", "--json", "--dry-run", *select)
    assert dry.returncode == 0, dry.stderr
    assert sorted(o["event_id"] for o in as_json(dry)["outcomes"]) == rest
    assert set(billing_dlq(view, quarter.project_id)) == set(rest)  # a dry run moves nothing

    done = concord(quarter.state_dir, "dlq", "redrive", "--local", "--json", *select)
    assert done.returncode == 0, done.stdout + done.stderr
    assert {o["status"] for o in as_json(done)["outcomes"]} == {"redriven"}
    wanted = {f"time:{line}" for line in quarter.time_lines}
    assert view.wait_for(lambda: wanted <= erp_refs(tryton, quarter.project_ref), timeout=60, interval=0.5)
    assert billing_dlq(view, quarter.project_id) == {}


def test_5_the_failed_saga_is_redriven(quarter: Quarter, view: LocalView) -> None:
    result = concord(quarter.state_dir, "saga", "redrive", quarter.failed_trigger, "--local", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    completed = wait_for_execution(aws_client(view.state, "stepfunctions"), quarter.failed_deal, count=2, timeout=120)
    assert completed["status"] == "SUCCEEDED"


def test_6_reconcile_finds_time_never_announced_and_repairs_it(
    quarter: Quarter, local_stack: LocalStack, tryton: SystemsView, view: LocalView
) -> None:
    # time approved while the PSA's webhook was lost (and before any poll): the ERP never heard of it
    systems = local_stack.systems()
    assert systems is not None
    quiet = user_client(systems, "psa", announce=False)
    lost = Consultant(quiet).log_time(quarter.project_id, 3)
    Consultant(quiet).approve([lost])
    scope = ["--entity", f"crm:opportunity:{quarter.billed_deal}", "--entity", f"crm:opportunity:{quarter.failed_deal}"]

    found = concord(quarter.state_dir, "reconcile", "--local", "--json", *scope)
    assert found.returncode == 1, found.stdout + found.stderr
    (drift,) = [d for d in as_json(found)["drift"] if d["field"] == "billed_hours"]
    assert drift["authority"] == "psa" and drift["canonical_id"] == quarter.project_ref

    repaired = concord(quarter.state_dir, "reconcile", "--local", "--json", "--repair", *scope)
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    report: dict[str, Any] = as_json(repaired)
    assert report["remaining"] == [] and "billed 1 entries" in json.dumps(report["drift"])
    assert f"time:{lost}" in erp_refs(tryton, quarter.project_ref)


def test_7_reconcile_reports_no_drift_afterwards(quarter: Quarter) -> None:
    scope = ["--entity", f"crm:opportunity:{quarter.billed_deal}", "--entity", f"crm:opportunity:{quarter.failed_deal}"]
    result = concord(quarter.state_dir, "reconcile", "--local", *scope)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no drift" in result.stdout
    traced = as_json(concord(quarter.state_dir, "trace", f"crm:opportunity:{quarter.billed_deal}", "--local", "--json"))
    assert any(entry["action"].startswith("draft invoice") for entry in traced["lineage"])
