"""`concord demo --systems crm=salesforce,psa=certinia`: Concord's main job with SaaS vendors
(their local sandboxes) as CRM and PSA, and Tryton as the ERP.

1. Quote-to-cash: a deal won in Salesforce -> polled -> ERP customer in Tryton, project and
   tasks in Certinia.
2. Billing: a week's timecard approved in Certinia -> polled -> lines on the Tryton draft
   invoice; finance posts it and the customer pays (Tryton) -> invoiced, then paid, on the
   Salesforce deal and the Certinia project.
3. Customer master: the Account renamed in Salesforce -> the ERP customer renamed.
The sandboxes push nothing locally, so the demo runs change capture (poll_changes, through
the local Lambda invoke API) itself rather than waiting for the minute's schedule.
Exit code 0 only when every check held.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from rich.console import Console
from rich.table import Table

from ...aws.xref import DynamoCrossReferences
from ..inspect import LocalView
from ..runtime import scheduled_event
from ..scenarios.tryton import FinanceClerk, random_ein, user_client
from ..scenarios.salesforce import Consultant, OrgSession, SalesRep, seed_service_product
from ..stack import LocalStack, LocalStackError, aws_client
from ...sync.ids import canonical_id
from .checks import Checks

T = TypeVar("T")
POLL_FUNCTION = "poll_changes"
WEEK = [8.0, 7.5, 6.0]  # Monday to Wednesday
LINES = [("Discovery", 8.0), ("Build", 40.0)]


def run_change_capture(view: LocalView) -> dict[str, Any]:
    """One run of the poller, as its schedule would trigger it."""
    function = next(f.name for f in view.topology.functions if f.source == f"functions/{POLL_FUNCTION}")
    schedule = next(s for s in view.topology.schedules if s.function_name == function)
    return dict(view.invoke(POLL_FUNCTION, scheduled_event(schedule.name)))


def poll_until(view: LocalView, probe: Callable[[], T | None], timeout: float = 90) -> T | None:
    """Run change capture, then give the flows a moment, until `probe` answers (or time is up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run_change_capture(view)
        found = view.wait_for(probe, timeout=3, interval=0.3)
        if found:
            return found
    return None


@dataclass
class SaasDemo:
    console: Console
    view: LocalView
    rep: SalesRep
    consultant: Consultant
    clerk: FinanceClerk
    xref: DynamoCrossReferences
    checks: Checks

    def quote_to_cash(self) -> tuple[str, str, str] | None:
        """A deal won in Salesforce; returns (account, opportunity, Certinia project)."""
        suffix = uuid.uuid4().hex[:4].upper()
        account = self.rep.create_account(f"Globex {suffix}", street="1 Main Street", city="Boston",
                                          country="US", tax_id=random_ein())
        opportunity = self.rep.win_opportunity(account, f"Globex rollout {suffix}", LINES)
        started = time.monotonic()
        self.console.print(f"\n[bold]Quote-to-cash[/]: deal {opportunity} won in Salesforce (account {account})")
        project_ref = canonical_id("project", "crm", opportunity)
        project = poll_until(self.view, lambda: self.xref.records_of("project", project_ref).get("psa"))
        customer = self.xref.records_of("customer", canonical_id("customer", "crm", account)).get("erp")
        if not self.checks.expect(bool(project and customer), "the won deal made no Certinia project or ERP customer"):
            return None
        tasks = sorted(t["Name"] for t in self.consultant.tasks_of(str(project)))
        self.checks.expect(tasks == sorted(d for d, _ in LINES), f"Certinia project tasks {tasks}")
        self.console.print(f"  ERP customer #{customer} in Tryton, Certinia project {project} with tasks "
                           f"{', '.join(tasks)}: {time.monotonic() - started:.1f} s")
        return account, opportunity, str(project)

    def billing(self, opportunity: str, project: str) -> None:
        project_ref = canonical_id("project", "crm", opportunity)
        timecard = self.consultant.fill_week(project, WEEK)
        self.consultant.approve([timecard])
        self.console.print(f"\n[bold]Billing[/]: timecard {timecard} ({sum(WEEK)} h) approved in Certinia")
        draft = poll_until(self.view, lambda: self._draft_with_hours(project_ref, Decimal(str(sum(WEEK)))))
        if not self.checks.expect(draft is not None, "approved time did not reach the ERP draft invoice"):
            return
        self.console.print(f"  on the Tryton draft invoice #{draft['id']}: {draft['total_amount']}")
        self.clerk.post(draft["id"])
        self._expect_status(opportunity, project, "invoiced")
        self.clerk.pay(draft["id"], Decimal(str(draft["total_amount"])))
        self.console.print(f"  finance posted it and the customer paid {draft['total_amount']} (Tryton)")
        self._expect_status(opportunity, project, "paid")

    def customer_master(self, account: str) -> None:
        name = f"Globex Holdings {uuid.uuid4().hex[:4].upper()}"
        self.rep.rename_account(account, name)
        self.console.print(f"\n[bold]Customer master[/]: account renamed to {name!r} in Salesforce")
        renamed = poll_until(self.view, lambda: self._erp_customer(account).get("name") == name)
        self.checks.expect(bool(renamed), "the ERP customer was not renamed")

    def consistency(self, account: str, opportunity: str, project: str) -> None:
        deal = self.rep.crm.get("Opportunity", opportunity, ["IsWon", "Amount", "Concord_Financial_Status__c"])
        name = self.rep.crm.get("Account", account, ["Name"])["Name"]
        erp_customer = self._erp_customer(account)
        tasks = sorted(t["Name"] for t in self.consultant.tasks_of(project))
        approved = sum(WEEK)
        billed = self._billed_hours(canonical_id("project", "crm", opportunity))
        status = (deal["Concord_Financial_Status__c"], self.consultant.billing_status(project))
        rows = [
            ("opportunity", f"{opportunity} {'won' if deal['IsWon'] else 'open'} {deal['Amount']}", "", "",
             bool(deal["IsWon"])),
            ("customer", name, f"#{erp_customer.get('id')} {erp_customer.get('name')}", "",
             erp_customer.get("name") == name),
            ("project + tasks", ", ".join(d for d, _ in LINES), "", f"{project} {', '.join(tasks)}",
             tasks == sorted(d for d, _ in LINES)),
            ("approved → billed hours", "", f"{billed} h billed", f"{approved} h approved", billed == Decimal(str(approved))),
            ("financial status", str(status[0]), "paid", str(status[1]), status == ("paid", "paid")),
        ]
        table = Table(title="Salesforce, Tryton ERP and Certinia after the demo")
        for column in ("", "CRM (Salesforce)", "ERP (Tryton)", "PSA (Certinia)", "agree"):
            table.add_column(column)
        for what, crm, erp, psa, agree in rows:
            table.add_row(what, crm, erp, psa, "[green]yes[/]" if agree else "[red]NO[/]")
            self.checks.expect(agree, f"the systems disagree on {what}")
        self.console.print(table)

    # -- reads -------------------------------------------------------------------------

    def _erp_customer(self, account: str) -> dict[str, Any]:
        party = self.xref.records_of("customer", canonical_id("customer", "crm", account)).get("erp")
        if party is None:
            return {}
        rows = self.clerk.erp.search_read("party.party", [["id", "=", int(party)]], ["id", "name"])
        return dict(rows[0]) if rows else {}

    def _invoice_lines(self, invoice_id: int) -> list[dict[str, Any]]:
        return list(self.clerk.erp.search_read("account.invoice.line", [["invoice", "=", invoice_id]], ["quantity"]))

    def _draft_with_hours(self, project_ref: str, hours: Decimal) -> dict[str, Any] | None:
        draft = self.clerk.draft_invoice(project_ref)
        if draft and sum(Decimal(str(line["quantity"])) for line in self._invoice_lines(draft["id"])) >= hours:
            return draft
        return None

    def _billed_hours(self, project_ref: str) -> Decimal:
        invoices = self.clerk.erp.search_read("account.invoice", [["reference", "=", project_ref]], ["id"])
        return sum((Decimal(str(line["quantity"])) for i in invoices for line in self._invoice_lines(i["id"])),
                   Decimal(0))

    def _expect_status(self, opportunity: str, project: str, status: str) -> None:
        started = time.monotonic()
        reached = self.view.wait_for(
            lambda: self.rep.financial_status(opportunity) == status == self.consultant.billing_status(project),
            timeout=60, interval=0.3)
        if self.checks.expect(bool(reached), f"the Salesforce deal and the Certinia project did not show {status}"):
            self.console.print(f"  Salesforce deal and Certinia project: [bold]{status}[/] "
                               f"({time.monotonic() - started:.1f} s after the ERP)")


def saas_demo(stack: LocalStack, console: Console, checks: Checks) -> SaasDemo | None:
    """The demo's users and views on a running stack with SaaS roles (None: it has none)."""
    vendors, systems = stack.vendors(), stack.systems()
    if not checks.expect(vendors is not None and systems is not None, "the stack runs no SaaS vendor or no Tryton"):
        return None
    assert vendors is not None and systems is not None
    view = LocalView(stack)
    xref = DynamoCrossReferences(aws_client(view.state, "dynamodb"), view.topology.setting("XREF_TABLE_NAME"))
    rep = SalesRep(OrgSession(f"{vendors.sandbox_url}/crm"), seed_service_product(vendors))
    return SaasDemo(console, view, rep, Consultant.signed_in(vendors), FinanceClerk(user_client(systems, "erp")),
                    xref, checks)


def run_saas_demo(stack: LocalStack, console: Console) -> int:
    try:
        with console.status("starting the local stack with the vendor sandboxes..."):
            stack.up()
    except LocalStackError as error:
        console.print(f"[red]the local stack did not start:[/] {error}")
        return 1
    checks = Checks()
    demo = saas_demo(stack, console, checks)
    if demo:
        run_change_capture(demo.view)  # a first run sets the watches' checkpoints at "now"
        deal = demo.quote_to_cash()
        if deal:
            account, opportunity, project = deal
            demo.billing(opportunity, project)
            demo.customer_master(account)
            demo.consistency(account, opportunity, project)
    if checks.failures:
        console.print("[red]demo failed:[/]")
        for failure in checks.failures:
            console.print(f"  - {failure}")
        return 1
    console.print("[green]all checks held.[/] The stack keeps running: `concord local status`, `make down` to stop.")
    return 0
