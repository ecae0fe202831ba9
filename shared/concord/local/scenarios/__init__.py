"""What people do in the business systems, scripted: the demo's, benchmarks' and e2e tests'
users. One driver module per system family (tryton.py today; a Salesforce + Certinia driver
sits beside it with the same roles), each playing the roles below against its systems.

Ids are the system's own record ids (Tryton's are integers).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Protocol

SystemId = int | str


class SalesRepRole(Protocol):
    """A sales rep wins a deal in the CRM."""

    def create_account(self, name: str, *, street: str | None, city: str, country: str,
                       tax_id: str | None) -> SystemId: ...

    def win_opportunity(self, account_id: SystemId, description: str,
                        hours: list[tuple[str, float]]) -> SystemId:
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
