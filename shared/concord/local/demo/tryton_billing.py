"""The demo's billing part: after quote-to-cash, a consultant's approved time becomes lines on
the project's ERP invoice; finance posts it and records the payment; the CRM deal and the PSA
project show invoiced, then paid. The lineage Concord kept of the project closes the part."""

from __future__ import annotations

import time
from decimal import Decimal

from rich.console import Console
from rich.table import Table

from ...stores.registry import Registry
from ...domain import FinancialStatus
from ..consistency import SystemsView
from ..inspect import LocalView
from ..scenarios.tryton import Consultant, FinanceClerk, user_client
from ..stack import aws_client
from ..systems import LocalSystems
from ...sync.ids import canonical_id
from .checks import Checks
from .tryton_saga import print_consistency


def run_billing(console: Console, view: LocalView, systems: LocalSystems, checks: Checks, opportunity: str) -> None:
    inspect = SystemsView.direct(systems)
    xref = Registry(aws_client(view.state, "dynamodb"), view.topology.setting("XREF_TABLE_NAME"))
    project_ref = canonical_id("project", "crm", opportunity)
    project = xref.records_of("project", project_ref).get("psa")
    if not checks.expect(project is not None, f"no PSA project linked to opportunity {opportunity}") or project is None:
        return
    consultant, clerk = Consultant(user_client(systems, "psa")), FinanceClerk(user_client(systems, "erp"))

    # 1. Time is logged and approved in the PSA.
    lines = [consultant.log_time(project, hours) for hours in (8, 7.5, 6)]
    started = time.monotonic()
    consultant.approve(lines)
    console.print(f"\n[bold]Billing[/]: 21.5 h approved in Tryton PSA on project #{project} "
                  f"(timesheet lines {', '.join(map(str, lines))}); Concord bills them in the ERP")
    with console.status("waiting for the lines on the project's ERP draft invoice"):
        draft = view.wait_for(lambda: _draft_with(clerk, project_ref, len(lines)), timeout=60, interval=0.3)
    if not checks.expect(draft is not None, "approved time did not reach the ERP invoice"):
        return
    console.print(f"approved → on the ERP draft invoice #{draft['id']}: {time.monotonic() - started:.1f} s")

    # 2. Finance posts the invoice; 3. the customer pays it.
    clerk.post(draft["id"])
    invoice = inspect.erp.get_invoice(str(draft["id"]))
    console.print(f"finance posts invoice {invoice.number}: {invoice.total.amount} {invoice.total.currency}, "
                  f"due {invoice.due_on}")
    _expect_status(console, view, inspect, checks, opportunity, project, FinancialStatus.INVOICED)
    clerk.pay(draft["id"], Decimal(str(invoice.total.amount)))
    console.print(f"the customer pays {invoice.total.amount} {invoice.total.currency} (pay wizard in Tryton ERP)")
    _expect_status(console, view, inspect, checks, opportunity, project, FinancialStatus.PAID)

    checks.expect(print_consistency(console, inspect.deal(opportunity), "The three systems after billing and payment"),
                  "the systems disagree after billing and payment")
    table = Table(title=f"Lineage of the project ({project_ref[:16]}…), as Concord recorded it")
    for column in ("system", "record", "event", "what"):
        table.add_column(column)
    for entry in xref.lineage("project", project_ref):
        table.add_row(entry.system.upper(), entry.record_id[:24], entry.event_type, entry.action)
    console.print(table)


def _draft_with(clerk: FinanceClerk, project_ref: str, count: int) -> dict | None:
    draft = clerk.draft_invoice(project_ref)
    return draft if draft and len(draft["lines"]) >= count else None


def _expect_status(console: Console, view: LocalView, inspect: SystemsView, checks: Checks, opportunity: str,
                   project: str, status: FinancialStatus) -> None:
    started = time.monotonic()
    reached = view.wait_for(
        lambda: inspect.crm.financial_status(opportunity) == status == inspect.psa.billing_status(project),
        timeout=60, interval=0.3,
    )
    if checks.expect(bool(reached), f"CRM and PSA did not show {status.value}"):
        console.print(f"  CRM deal #{opportunity} and PSA project #{project}: [bold]{status.value}[/] "
                      f"({time.monotonic() - started:.1f} s after the ERP)")
