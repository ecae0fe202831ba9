"""The scenario roles (see concord.local.scenarios) played in the local Tryton systems.

A sales rep creates an account and wins an opportunity in the CRM (Tryton `crm`); a consultant
logs time on the project in the PSA and approves it; a finance clerk posts the invoice Concord
drafted in the ERP and records the customer's payment. Concord hears of each through
concord_sync's push and does the rest.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ...connectors.tryton import TrytonRpcClient
from ...connectors.tryton.rpc import DEFAULT_TIMEOUT
from .. import tryton
from ..systems import LocalSystems
from .tryton_books import InvoiceDesk

SERVICE_CODE = "CONSULT-HR"
PAYMENT_METHOD = "Bank transfer"  # seeded in the ERP (tryton/seed_script.py)
# Prefixes the IRS assigns (Tryton validates EINs with python-stdnum).
_EIN_PREFIXES = ("04", "05", "10", "12", "20", "27", "46", "94")


def random_ein() -> str:
    """A valid, random U.S. Employer Identification Number for a new demo account."""
    number = uuid.uuid4().int
    return f"{_EIN_PREFIXES[number % len(_EIN_PREFIXES)]}-{number % 10**7:07d}"


def user_client(
    systems: LocalSystems, database: str, *, announce: bool = True, timeout: float | None = None
) -> TrytonRpcClient:
    """A user's session in one system, straight to Tryton (users do not go through the fault
    proxy); what a user does is announced by the system's push, unless `announce` is False
    (a webhook that never arrives). `timeout` in seconds (None: the client's default), for
    what a user waits long for (posting an invoice of hundreds of lines)."""
    return TrytonRpcClient(
        systems.tryton_url,
        database,
        tryton.ADMIN_LOGIN,
        tryton.admin_password(systems.cache),
        announce_changes=announce,
        timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
    )


def crm_client(systems: LocalSystems) -> TrytonRpcClient:
    return user_client(systems, "crm")


def _one(client: TrytonRpcClient, model: str, domain: list[Any], fields: list[str]) -> dict[str, Any]:
    (record,) = client.search_read(model, domain, fields, limit=1)
    return record


@dataclass
class SalesRep:
    crm: TrytonRpcClient

    def create_account(self, name: str, *, street: str | None, city: str, country: str, tax_id: str | None) -> int:
        country_id = _one(self.crm, "country.country", [["code", "=", country]], ["id"])["id"]
        values: dict[str, Any] = {"name": name}
        if street is not None:
            values["addresses"] = [
                ["create", [{"street": street, "city": city, "country": country_id, "invoice": True}]]
            ]
        if tax_id is not None:
            values["identifiers"] = [["create", [{"type": "us_ein", "code": tax_id}]]]
        (party_id,) = self.crm.create("party.party", [values])
        return party_id

    def win_opportunity(self, account_id: int, description: str, hours: list[tuple[str, float]]) -> int:
        """An opportunity with one consulting line per (description, hours), won: in Tryton
        that is converting it to a sale and confirming the sale."""
        product = _one(self.crm, "product.product", [["code", "=", SERVICE_CODE]], ["id", "default_uom"])
        (opportunity_id,) = self.crm.create(
            "sale.opportunity",
            [
                {
                    "party": account_id,
                    "description": description,
                    "lines": [
                        [
                            "create",
                            [
                                {"product": product["id"], "quantity": quantity, "unit": product["default_uom"]}
                                for _, quantity in hours
                            ],
                        ]
                    ],
                }
            ],
        )
        self.crm.button("sale.opportunity", "opportunity", [opportunity_id])
        self.crm.button("sale.opportunity", "convert", [opportunity_id])
        sale = _one(self.crm, "sale.sale", [["origin", "=", f"sale.opportunity,{opportunity_id}"]], ["id", "lines"])
        # Invoices are the ERP's business, not the CRM's.
        self.crm.write("sale.sale", [sale["id"]], {"invoice_method": "manual"})
        for line_id, (line_description, _) in zip(sorted(sale["lines"]), hours, strict=True):
            self.crm.write("sale.line", [line_id], {"description": line_description})
        self.crm.button("sale.sale", "quote", [sale["id"]])
        self.crm.button("sale.sale", "confirm", [sale["id"]])
        return opportunity_id


@dataclass
class Consultant:
    psa: TrytonRpcClient

    def log_time(self, project_id: str, hours: float, *, worked_on: dt.date | None = None) -> int:
        """A timesheet line on the project's first task (as the session's employee)."""
        task = _one(self.psa, "project.work", [["parent", "=", int(project_id)]], ["timesheet_works"])
        (line_id,) = self.psa.create(
            "timesheet.line",
            [
                {
                    "work": task["timesheet_works"][0],
                    "employee": self.psa.context["employee"],
                    "date": worked_on or dt.date.today(),
                    "duration": dt.timedelta(hours=hours),
                    "description": "Delivery work",
                }
            ],
        )
        return int(line_id)

    def approve(self, line_ids: list[int]) -> None:
        self.psa.button("timesheet.line", "approve", line_ids)


@dataclass
class FinanceClerk:
    erp: TrytonRpcClient

    @property
    def books(self) -> InvoiceDesk:
        """Whole invoices and payments by hand (create, post, list) on the same session."""
        return InvoiceDesk(self.erp)

    def draft_invoice(self, project_ref: str) -> dict[str, Any] | None:
        """The project's open draft (Concord keeps the project's ref in the invoice's reference)."""
        rows = self.erp.search_read(
            "account.invoice",
            [["reference", "=", project_ref], ["state", "=", "draft"]],
            ["id", "lines", "total_amount"],
            limit=1,
        )
        return rows[0] if rows else None

    def post(self, invoice_id: int) -> None:
        self.erp.button("account.invoice", "post", [invoice_id])

    def pay(self, invoice_id: int, amount: Decimal) -> None:
        """The pay wizard (account.invoice.pay) over JSON-RPC: create, execute, delete; less
        than what is due is a partial payment."""
        context = {"active_model": "account.invoice", "active_id": invoice_id, "active_ids": [invoice_id]}
        method = _one(self.erp, "account.invoice.payment.method", [["name", "=", PAYMENT_METHOD]], ["id"])
        session, _, _ = self.erp.call("wizard.account.invoice.pay.create")
        try:
            start = self.erp.call("wizard.account.invoice.pay.execute", session, {}, "start", context=context)
            form = {
                **_values(start["view"]["defaults"]),
                "amount": amount,
                "payment_method": method["id"],
                "date": dt.date.today(),
                "description": "Wire",
            }
            result = self.erp.call(
                "wizard.account.invoice.pay.execute", session, {"start": form}, "choice", context=context
            )
            if result.get("view", {}).get("state") == "ask":
                ask = {**_values(result["view"]["defaults"]), "type": "partial"}
                self.erp.call(
                    "wizard.account.invoice.pay.execute", session, {"start": form, "ask": ask}, "pay", context=context
                )
        finally:
            self.erp.call("wizard.account.invoice.pay.delete", session, context=context)


def _values(defaults: dict[str, Any]) -> dict[str, Any]:
    # A view's defaults also carry "<field>." entries (the target's rec_name): not values.
    return {k: v for k, v in defaults.items() if not k.endswith(".")}
