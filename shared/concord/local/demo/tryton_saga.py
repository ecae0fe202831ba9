"""The demo's quote-to-cash part: a deal won in the CRM becomes an ERP customer and a PSA
project; then a deal whose saga meets an ERP outage is compensated, reported, and completed
by a redrive once the ERP is back."""

from __future__ import annotations

import time
import uuid
from typing import Any

from rich.console import Console
from rich.table import Table

from ...aws.sagas import redrive_saga
from ..consistency import Row, SystemsView
from ..faults import FaultController
from ..inspect import LocalView
from ..sagas import steps, wait_for_execution, when_state_entered
from ..scenarios.tryton import SalesRep, crm_client, random_ein
from ..stack import aws_client
from ..systems import LocalSystems
from .checks import Checks

# Which system each step works in, for the timeline.
STEP_SYSTEMS = {
    "ValidateCustomer": "CRM (+ERP lookup)",
    "UpsertErpCustomer": "ERP",
    "CreatePsaProject": "PSA",
    "AssignBillingTerms": "ERP",
    "MapRevenueSchedule": "ERP",
    "PublishProjectActivated": "bus",
    "Compensate": "PSA, ERP",
    "RaiseSyncException": "bus",
}


def _record_of(state: str, output: dict[str, Any]) -> str:
    match state:
        case "ValidateCustomer":
            return f"account {output['validation']['customer']['account_id']}"
        case "UpsertErpCustomer":
            return f"customer {output['erp_customer']['erp_customer_id']}"
        case "CreatePsaProject":
            return f"project {output['project']['project']['project_id']}"
        case "AssignBillingTerms" | "MapRevenueSchedule":
            key = "billing_terms" if state == "AssignBillingTerms" else "revenue_schedule"
            return str(output.get(key, {}).get("detail", ""))[:48]
        case "PublishProjectActivated":
            return f"ProjectActivated {output['activated']['event_id'][:8]}…"
    return ""


def print_timeline(console: Console, sfn: Any, execution: dict[str, Any], title: str) -> None:
    import json

    output = json.loads(execution.get("output") or "{}")
    table = Table(title=title)
    for column in ("step", "system", "record", "attempts", "latency"):
        table.add_column(column, justify="right" if column in ("attempts", "latency") else "left")
    for run in steps(sfn, execution["executionArn"]):
        if run.kind != "Task":
            continue
        record = _record_of(run.state, output) if run.state in output or execution["status"] == "SUCCEEDED" else ""
        attempts = f"{run.attempts}" + (f" ({run.failed_attempts} failed)" if run.failed_attempts else "")
        latency = f"{run.duration_ms:.0f} ms" if run.duration_ms is not None else "-"
        table.add_row(run.state, STEP_SYSTEMS.get(run.state, ""), record, attempts, latency)
    total = (execution["stopDate"] - execution["startDate"]).total_seconds() * 1000
    table.caption = f"{execution['name']}: {execution['status']} in {total:.0f} ms"
    console.print(table)


def print_consistency(console: Console, rows: list[Row], title: str) -> bool:
    table = Table(title=title)
    for column in ("", "CRM", "ERP", "PSA", "agree"):
        table.add_column(column)
    for row in rows:
        table.add_row(row.what, row.crm, row.erp, row.psa, "[green]yes[/]" if row.agree else "[red]NO[/]")
    console.print(table)
    return all(row.agree for row in rows)


def run_quote_to_cash(console: Console, view: LocalView, systems: LocalSystems, checks: Checks) -> str:
    """Returns the opportunity whose saga succeeded at once (the billing part continues it)."""
    sfn = aws_client(view.state, "stepfunctions")
    rep = SalesRep(crm_client(systems))
    inspect = SystemsView.direct(systems)
    suffix = uuid.uuid4().hex[:4].upper()

    # 1. A deal is won in the CRM.
    account = rep.create_account(f"Contoso Partners {suffix}", street="1 Main Street", city="Boston",
                                 country="US", tax_id=random_ein())
    started = time.monotonic()
    opportunity = str(rep.win_opportunity(account, f"Data platform rollout {suffix}",
                                          [("Discovery workshop", 16), ("Build and migrate", 80)]))
    console.print(f"\n[bold]Quote-to-cash[/]: opportunity #{opportunity} won in Tryton CRM "
                  f"(account #{account}); Concord hears of it by webhook")
    execution = wait_for_execution(sfn, opportunity)
    console.print(f"won → project active: {time.monotonic() - started:.1f} s")
    print_timeline(console, sfn, execution, "quote-to-cash saga")
    checks.expect(execution["status"] == "SUCCEEDED", f"saga of opportunity {opportunity} ended {execution['status']}")
    checks.expect(print_consistency(console, inspect.deal(opportunity), "The three systems after the saga"),
                  "the systems disagree after the saga")
    won = opportunity

    # 2. The ERP goes down while the next saga runs.
    account = rep.create_account(f"Fabrikam Consulting {suffix}", street="9 Harbor Way", city="Seattle",
                                 country="US", tax_id=random_ein())
    faults = FaultController(systems.faults_url)
    opportunity = str(rep.win_opportunity(account, f"ERP migration {suffix}", [("Assessment", 24), ("Cutover", 40)]))
    console.print(f"\n[bold]Failure[/]: opportunity #{opportunity} won; the ERP goes down as the saga creates "
                  "the PSA project")
    when_state_entered(sfn, opportunity, "CreatePsaProject", lambda: faults.set("erp", "outage"))
    failed = wait_for_execution(sfn, opportunity)
    print_timeline(console, sfn, failed, "quote-to-cash saga with the ERP down")
    checks.expect(failed["status"] == "FAILED", f"saga with the ERP down ended {failed['status']}")
    exception = view.wait_for(lambda: _exception_for(view, failed), timeout=30)
    if checks.expect(exception is not None, "no SyncExceptionRaised recorded for the failed saga"):
        data = exception["data"]
        console.print(f"SyncExceptionRaised: step [bold]{data['step']}[/], {data['error_class']}, "
                      f"severity [bold]{data['severity']}[/]\n  reason: [yellow]{data['reason'][:400]}[/]")
    print_consistency(console, inspect.deal(opportunity), "The systems after compensation (ERP still down)")

    # 3. The ERP is back; an operator redrives the saga.
    faults.clear("erp")
    redriven = redrive_saga(sfn, failed["executionArn"])
    console.print(f"ERP back; redrive: {redriven.rsplit(':', 1)[-1]}")
    completed = wait_for_execution(sfn, opportunity, count=2)
    print_timeline(console, sfn, completed, "the redriven saga")
    checks.expect(completed["status"] == "SUCCEEDED", f"redriven saga ended {completed['status']}")
    checks.expect(print_consistency(console, inspect.deal(opportunity), "The three systems after the redrive"),
                  "the systems disagree after the redrive")
    return won


def _exception_for(view: LocalView, execution: dict[str, Any]) -> dict[str, Any] | None:
    """The SyncExceptionRaised the audit trail recorded for this execution's trigger."""
    import json

    trigger_id = json.loads(execution["input"])["event"]["id"]
    items = view.audit_events_of_type("SyncExceptionRaised")
    return next((i.detail for i in items if i.data.get("caused_by_event_id") == trigger_id), None)
