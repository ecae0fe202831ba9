"""`concord demo --systems crm=hubspot,psa=kantata` (or erp=netsuite, or
crm=salesforce,psa=certinia,erp=netsuite, any mix with a SaaS vendor in it): Concord's main job
with the chosen vendors (their local sandboxes), Tryton playing the roles not named.

1. Quote-to-cash: a deal won in the CRM -> ERP customer, project (Kantata: workspace) and tasks
   in the PSA.
2. Billing: a week's time approved in the PSA (Certinia: a timecard; Kantata: a timesheet
   submission) -> lines on the ERP's draft (NetSuite: a sales order); finance posts it and the
   customer pays -> invoiced, then paid, on the CRM deal and the PSA project.
3. Customer master: the customer renamed in the CRM -> the ERP customer renamed.
The users are the scenario drivers of the chosen vendors (scenarios/users.py: Tryton's in the
same shapes, and the ERP's finance user), named in the output. The sandboxes push nothing
locally, so the demo runs change capture (functions/change_capture, through the local Lambda invoke API)
itself rather than waiting for the minute's schedule. Exit code 0 only when every check held.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

from ...catalog import CHANGE_CAPTURE
from ...stores.registry import Registry
from ...sync.ids import canonical_id
from ..inspect import LocalView
from ..runtime.schedules import scheduled_event
from ..scenarios import DraftInvoice, ErpFinanceUser, SaasConsultant, SaasSalesRep
from ..scenarios.saas import NoScenarioUser
from ..scenarios.tryton import random_ein
from ..scenarios.users import stack_users
from ..stack import LocalStack, LocalStackError, aws_client
from .checks import Checks

POLL_FUNCTION = CHANGE_CAPTURE.folder
WEEK = [8.0, 7.5, 6.0]  # Monday to Wednesday
LINES = [("Discovery", 8.0), ("Build", 40.0)]


def run_change_capture(view: LocalView) -> dict[str, Any]:
    """One run of the poller, as its schedule would trigger it."""
    function = next(f.name for f in view.topology.functions if f.source == f"functions/{POLL_FUNCTION}")
    schedule = next(s for s in view.topology.schedules if s.function_name == function)
    return dict(view.invoke(POLL_FUNCTION, scheduled_event(schedule.name)))


def poll_until[T](view: LocalView, probe: Callable[[], T | None], timeout: float = 90) -> T | None:
    """Run change capture, then give the flows a moment, until `probe` answers (or time is up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run_change_capture(view)
        found: T | None = view.wait_for(probe, timeout=3, interval=0.3)
        if found:
            return found
    return None


@dataclass
class SaasDemo:
    console: Console
    view: LocalView
    rep: SaasSalesRep
    consultant: SaasConsultant
    finance: ErpFinanceUser
    xref: Registry
    checks: Checks

    @property
    def crm(self) -> str:
        return self.rep.vendor

    @property
    def psa(self) -> str:
        return self.consultant.vendor

    @property
    def erp(self) -> str:
        return self.finance.vendor

    def quote_to_cash(self) -> tuple[str, str, str] | None:
        """A deal won in the CRM; returns (account, opportunity, PSA project)."""
        suffix = uuid.uuid4().hex[:4].upper()
        account = self.rep.create_account(
            f"Globex {suffix}", street="1 Main Street", city="Boston", country="US", tax_id=random_ein()
        )
        opportunity = self.rep.win_opportunity(account, f"Globex rollout {suffix}", LINES)
        started = time.monotonic()
        self.console.print(
            f"\n[bold]Quote-to-cash[/]: deal {opportunity} won in {self.crm} ({self.rep.account_word} {account})"
        )
        project_ref = canonical_id("project", "crm", opportunity)
        project = poll_until(self.view, lambda: self.xref.records_of("project", project_ref).get("psa"))
        customer = self.xref.records_of("customer", canonical_id("customer", "crm", account)).get("erp")
        project_word = self.consultant.project_word
        if not self.checks.expect(
            bool(project and customer), f"the won deal made no {self.psa} {project_word} or ERP customer"
        ):
            return None
        tasks = self.consultant.task_names(str(project))
        self.checks.expect(tasks == sorted(d for d, _ in LINES), f"{self.psa} {project_word} tasks {tasks}")
        self.console.print(
            f"  ERP customer #{customer} in {self.erp}, {self.psa} {project_word} {project} with tasks "
            f"{', '.join(tasks)}: {time.monotonic() - started:.1f} s"
        )
        return account, opportunity, str(project)

    def billing(self, opportunity: str, project: str) -> None:
        project_ref = canonical_id("project", "crm", opportunity)
        timecard = self.consultant.fill_week(project, WEEK)
        self.consultant.approve([timecard])
        self.console.print(
            f"\n[bold]Billing[/]: {self.consultant.timesheet_word} {timecard} ({sum(WEEK)} h) approved in {self.psa}"
        )
        draft = poll_until(self.view, lambda: self._draft_with_hours(project_ref, Decimal(str(sum(WEEK)))))
        if draft is None:
            self.checks.expect(False, "approved time did not reach the ERP draft invoice")
            return
        self.console.print(f"  on the {self.erp} draft #{draft.draft_id}: {draft.total}")
        invoice = self.finance.post_invoice(project_ref)
        self._expect_status(opportunity, project, "invoiced")
        self.finance.record_payment(invoice, draft.total)
        self.console.print(f"  finance posted it (invoice #{invoice}) and the customer paid {draft.total} ({self.erp})")
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
        billed = self.finance.billed_hours(canonical_id("project", "crm", opportunity))
        status = (self.rep.financial_status(opportunity), self.consultant.billing_status(project))
        rows = [
            ("opportunity", f"{opportunity} {'won' if deal.won else 'open'} {deal.amount}", "", "", deal.won),
            (
                "customer",
                name,
                f"#{erp_customer.get('id')} {erp_customer.get('name')}",
                "",
                erp_customer.get("name") == name,
            ),
            (
                "project + tasks",
                ", ".join(d for d, _ in LINES),
                "",
                f"{project} {', '.join(tasks)}",
                tasks == sorted(d for d, _ in LINES),
            ),
            (
                "approved → billed hours",
                "",
                f"{billed} h billed",
                f"{approved} h approved",
                billed == Decimal(str(approved)),
            ),
            ("financial status", str(status[0]), "paid", str(status[1]), status == ("paid", "paid")),
        ]
        table = Table(title=f"{self.crm} CRM, {self.erp} ERP and {self.psa} PSA after the demo")
        for column in ("", f"CRM ({self.crm})", f"ERP ({self.erp})", f"PSA ({self.psa})", "agree"):
            table.add_column(column)
        for what, crm, erp, psa, agree in rows:
            table.add_row(what, crm, erp, psa, "[green]yes[/]" if agree else "[red]NO[/]")
            self.checks.expect(agree, f"the systems disagree on {what}")
        self.console.print(table)

    # -- reads -------------------------------------------------------------------------

    def _erp_customer(self, account: str) -> dict[str, Any]:
        """The ERP customer Concord linked to the CRM account: {"id", "name"} ({}: none yet)."""
        customer = self.xref.records_of("customer", canonical_id("customer", "crm", account)).get("erp")
        name = self.finance.customer_name(customer) if customer is not None else None
        return {"id": customer, "name": name} if name is not None else {}

    def _draft_with_hours(self, project_ref: str, hours: Decimal) -> DraftInvoice | None:
        draft = self.finance.draft(project_ref)
        return draft if draft and draft.hours >= hours else None

    def _expect_status(self, opportunity: str, project: str, status: str) -> None:
        """Until the CRM deal and the PSA project show `status`, running change capture: an ERP
        that pushes nothing (NetSuite) is heard of by polling."""
        started = time.monotonic()
        reached = poll_until(
            self.view,
            lambda: self.rep.financial_status(opportunity) == status == self.consultant.billing_status(project),
            timeout=60,
        )
        where = f"the {self.crm} deal and the {self.psa} {self.consultant.project_word}"
        if self.checks.expect(bool(reached), f"{where} did not show {status}"):
            self.console.print(
                f"  {where[0].upper()}{where[1:]}: [bold]{status}[/] ({time.monotonic() - started:.1f} s after the ERP)"
            )


def saas_demo(stack: LocalStack, console: Console, checks: Checks) -> SaasDemo | None:
    """The demo's users and views on a running stack (None: a role has no scripted user)."""
    view = LocalView(stack)
    xref = Registry(aws_client(view.state, "dynamodb"), view.topology.setting("XREF_TABLE_NAME"))
    try:
        users = stack_users(stack)
    except NoScenarioUser as missing:
        checks.expect(False, f"the demo has no user for a role: {missing}")
        return None
    return SaasDemo(console, view, users.rep, users.consultant, users.finance, xref, checks)


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
