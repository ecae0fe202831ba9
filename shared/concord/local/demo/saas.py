"""`concord demo --systems crm=hubspot,psa=kantata` (or crm=salesforce,psa=certinia, or any mix):
Concord's main job with SaaS vendors (their local sandboxes) as CRM and PSA, and Tryton as the ERP.

1. Quote-to-cash: a deal won in the CRM -> polled -> ERP customer in Tryton, project (Kantata:
   workspace) and tasks in the PSA.
2. Billing: a week's time approved in the PSA (Certinia: a timecard; Kantata: a timesheet
   submission) -> polled -> lines on the Tryton draft invoice; finance posts it and the customer
   pays (Tryton) -> invoiced, then paid, on the CRM deal and the PSA project.
3. Customer master: the customer renamed in the CRM -> the ERP customer renamed.
The users are the scenario drivers of the chosen vendors (scenarios/saas.py), named in the output.
The sandboxes push nothing locally, so the demo runs change capture (functions/change_capture, through
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

from ...catalog import CHANGE_CAPTURE
from ...stores.registry import Registry
from ...sync.ids import canonical_id
from ..inspect import LocalView
from ..runtime.schedules import scheduled_event
from ..scenarios import SaasConsultant, SaasSalesRep
from ..scenarios.saas import NoScenarioUser, consultant, sales_rep
from ..scenarios.tryton import FinanceClerk, random_ein, user_client
from ..stack import LocalStack, LocalStackError, aws_client
from .checks import Checks

T = TypeVar("T")
POLL_FUNCTION = CHANGE_CAPTURE.folder
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
    rep: SaasSalesRep
    consultant: SaasConsultant
    clerk: FinanceClerk
    xref: Registry
    checks: Checks

    @property
    def crm(self) -> str:
        return self.rep.vendor

    @property
    def psa(self) -> str:
        return self.consultant.vendor

    def quote_to_cash(self) -> tuple[str, str, str] | None:
        """A deal won in the CRM; returns (account, opportunity, PSA project)."""
        suffix = uuid.uuid4().hex[:4].upper()
        account = self.rep.create_account(f"Globex {suffix}", street="1 Main Street", city="Boston",
                                          country="US", tax_id=random_ein())
        opportunity = self.rep.win_opportunity(account, f"Globex rollout {suffix}", LINES)
        started = time.monotonic()
        self.console.print(f"\n[bold]Quote-to-cash[/]: deal {opportunity} won in {self.crm} "
                           f"({self.rep.account_word} {account})")
        project_ref = canonical_id("project", "crm", opportunity)
        project = poll_until(self.view, lambda: self.xref.records_of("project", project_ref).get("psa"))
        customer = self.xref.records_of("customer", canonical_id("customer", "crm", account)).get("erp")
        project_word = self.consultant.project_word
        if not self.checks.expect(bool(project and customer),
                                  f"the won deal made no {self.psa} {project_word} or ERP customer"):
            return None
        tasks = self.consultant.task_names(str(project))
        self.checks.expect(tasks == sorted(d for d, _ in LINES), f"{self.psa} {project_word} tasks {tasks}")
        self.console.print(f"  ERP customer #{customer} in Tryton, {self.psa} {project_word} {project} with tasks "
                           f"{', '.join(tasks)}: {time.monotonic() - started:.1f} s")
        return account, opportunity, str(project)

    def billing(self, opportunity: str, project: str) -> None:
        project_ref = canonical_id("project", "crm", opportunity)
        timecard = self.consultant.fill_week(project, WEEK)
        self.consultant.approve([timecard])
        self.console.print(f"\n[bold]Billing[/]: {self.consultant.timesheet_word} {timecard} ({sum(WEEK)} h) "
                           f"approved in {self.psa}")
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
        self.console.print(f"\n[bold]Customer master[/]: {self.rep.account_word} renamed to {name!r} in {self.crm}")
        renamed = poll_until(self.view, lambda: self._erp_customer(account).get("name") == name)
        self.checks.expect(bool(renamed), "the ERP customer was not renamed")

    def consistency(self, account: str, opportunity: str, project: str) -> None:
        deal = self.rep.deal(opportunity)
        name = self.rep.account_name(account)
        erp_customer = self._erp_customer(account)
        tasks = self.consultant.task_names(project)
        approved = sum(WEEK)
        billed = self._billed_hours(canonical_id("project", "crm", opportunity))
        status = (self.rep.financial_status(opportunity), self.consultant.billing_status(project))
        rows = [
            ("opportunity", f"{opportunity} {'won' if deal.won else 'open'} {deal.amount}", "", "", deal.won),
            ("customer", name, f"#{erp_customer.get('id')} {erp_customer.get('name')}", "",
             erp_customer.get("name") == name),
            ("project + tasks", ", ".join(d for d, _ in LINES), "", f"{project} {', '.join(tasks)}",
             tasks == sorted(d for d, _ in LINES)),
            ("approved → billed hours", "", f"{billed} h billed", f"{approved} h approved", billed == Decimal(str(approved))),
            ("financial status", str(status[0]), "paid", str(status[1]), status == ("paid", "paid")),
        ]
        table = Table(title=f"{self.crm}, Tryton ERP and {self.psa} after the demo")
        for column in ("", f"CRM ({self.crm})", "ERP (Tryton)", f"PSA ({self.psa})", "agree"):
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
        where = f"the {self.crm} deal and the {self.psa} {self.consultant.project_word}"
        if self.checks.expect(bool(reached), f"{where} did not show {status}"):
            self.console.print(f"  {where[0].upper()}{where[1:]}: [bold]{status}[/] "
                               f"({time.monotonic() - started:.1f} s after the ERP)")


def saas_demo(stack: LocalStack, console: Console, checks: Checks) -> SaasDemo | None:
    """The demo's users and views on a running stack with SaaS roles (None: it has none)."""
    vendors, systems = stack.vendors(), stack.systems()
    if not checks.expect(vendors is not None and systems is not None, "the stack runs no SaaS vendor or no Tryton"):
        return None
    assert vendors is not None and systems is not None
    view = LocalView(stack)
    xref = Registry(aws_client(view.state, "dynamodb"), view.topology.setting("XREF_TABLE_NAME"))
    try:
        rep, person = sales_rep(vendors), consultant(vendors)
    except NoScenarioUser as missing:
        checks.expect(False, f"the demo needs a SaaS CRM and PSA: {missing}")
        return None
    return SaasDemo(console, view, rep, person, FinanceClerk(user_client(systems, "erp")), xref, checks)


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
