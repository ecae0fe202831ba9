"""What people do in the business systems, scripted: the demo's, benchmarks' and e2e tests'
users. One driver module per system family (tryton.py; salesforce.py for Salesforce + Certinia;
hubspot.py; kantata.py), each playing the roles below against its systems. The SaaS drivers
share one shape per role (SaasSalesRep, SaasConsultant; tryton_saas.py gives Tryton's users the
same shapes), and every ERP's finance user has one (ErpFinanceUser, finance.py), so the demo and
the e2e tests run any mix of them; users.py picks the users of a stack's --systems choice.

Ids are the system's own record ids (Tryton's are integers).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, Protocol

import httpx

SystemId = int | str


def raise_with_body(response: httpx.Response, what: str | None = None) -> httpx.Response:
    """The response, unless the system refused it: then an HTTPStatusError naming the call (or
    `what`) and the start of the system's answer, so a scripted user's failure says why."""
    if response.is_error:
        call = what or f"{response.request.method} {response.request.url.path}"
        raise httpx.HTTPStatusError(
            f"{call}: {response.status_code} {response.text[:500]}", request=response.request, response=response
        )
    return response


class SalesRepRole(Protocol):
    """A sales rep wins a deal in the CRM."""

    def create_account(
        self, name: str, *, street: str | None, city: str, country: str, tax_id: str | None
    ) -> SystemId: ...

    def win_opportunity(self, account_id: SystemId, description: str, hours: list[tuple[str, float]]) -> SystemId:
        """A won opportunity with one line per (description, hours) of consulting."""
        ...


class ConsultantRole(Protocol):
    """A consultant logs time on a project in the PSA and approves it."""

    def log_time(self, project_id: str, hours: float, *, worked_on: dt.date | None = None) -> SystemId: ...

    def approve(self, line_ids: list[Any]) -> None: ...


class FinanceRole(Protocol):
    """Finance posts the invoice Concord drafted in the ERP and records the customer's payment."""

    def draft_invoice(self, project_ref: str) -> dict[str, Any] | None: ...

    def post(self, invoice_id: Any) -> None: ...

    def pay(self, invoice_id: Any, amount: Decimal) -> None:
        """The customer pays `amount` of the invoice (less than due: a partial payment)."""
        ...


@dataclass(frozen=True)
class DealState:
    """A deal as its rep sees it in the CRM."""

    won: bool
    amount: float | None


class SaasSalesRep(Protocol):
    """A sales rep in a SaaS CRM, as the demo and the e2e tests drive any of them."""

    vendor: ClassVar[str]  # how people name the CRM, e.g. "HubSpot"
    account_word: ClassVar[str]  # what the CRM calls a customer ("account", "company")

    def create_account(self, name: str, *, street: str | None, city: str, country: str, tax_id: str | None) -> str: ...

    def win_opportunity(self, account_id: str, description: str, hours: list[tuple[str, float]]) -> str: ...

    def rename_account(self, account_id: str, name: str) -> None: ...

    def account_name(self, account_id: str) -> str: ...

    def deal(self, opportunity_id: str) -> DealState: ...

    def financial_status(self, opportunity_id: str) -> str | None: ...


class SaasConsultant(Protocol):
    """A consultant in a SaaS PSA: fills a week on Concord's project and gets it approved."""

    vendor: ClassVar[str]  # e.g. "Kantata"
    project_word: ClassVar[str]  # "project", "workspace"
    timesheet_word: ClassVar[str]  # what approval is given on: "timecard", "timesheet submission"

    def task_names(self, project_id: str) -> list[str]:
        """The names of the project's tasks, sorted."""
        ...

    def fill_week(self, project_id: str, daily_hours: list[float], *, week_of: dt.date | None = None) -> str:
        """Hours for the week's days (Monday first), submitted for approval; returns what
        `approve` takes."""
        ...

    def approve(self, timesheet_ids: list[str]) -> None: ...

    def billing_status(self, project_id: str) -> str | None: ...


@dataclass(frozen=True)
class DraftInvoice:
    """A project's invoice still to post, as finance sees it in the ERP: `draft_id` is the ERP's
    own document (Tryton's draft invoice, NetSuite's sales order), not Concord's draft id."""

    draft_id: str
    total: Decimal
    hours: Decimal  # the quantities of its lines


class ErpFinanceUser(Protocol):
    """Finance in any ERP, as the demo and the e2e tests drive it: finds the invoice Concord
    drafted for a project, posts it, records the customer's payment, and reads what the ERP
    holds of a project and a customer. Ids in are the ERP's own (Concord's registry has them)."""

    vendor: ClassVar[str]  # how people name the ERP, e.g. "NetSuite"

    def draft(self, project_ref: str) -> DraftInvoice | None:
        """The project's open draft (Concord keeps the project's ref on it), if any."""
        ...

    def post_invoice(self, project_ref: str) -> str:
        """Post the project's open draft as finance does in this ERP; the posted invoice's id."""
        ...

    def record_payment(self, invoice_id: str, amount: Decimal) -> None:
        """The customer pays `amount` of the posted invoice (less than due: a partial payment)."""
        ...

    def billed_hours(self, project_ref: str) -> Decimal:
        """The hours on all of the project's invoices, posted or not."""
        ...

    def customer_name(self, customer_id: str) -> str | None:
        """The ERP customer's name (None: no such customer)."""
        ...
