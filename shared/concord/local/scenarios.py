"""What people do in the local business systems, scripted: the demo's and the e2e tests' users.

A sales rep creates an account and wins an opportunity in the CRM (Tryton `crm`); Concord
hears of it through concord_sync's push and does the rest.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from ..connectors.tryton import TrytonRpcClient
from . import tryton
from .systems import LocalSystems

SERVICE_CODE = "CONSULT-HR"
# Prefixes the IRS assigns (Tryton validates EINs with python-stdnum).
_EIN_PREFIXES = ("04", "05", "10", "12", "20", "27", "46", "94")


def random_ein() -> str:
    """A valid, random U.S. Employer Identification Number for a new demo account."""
    number = uuid.uuid4().int
    return f"{_EIN_PREFIXES[number % len(_EIN_PREFIXES)]}-{number % 10**7:07d}"


def crm_client(systems: LocalSystems) -> TrytonRpcClient:
    """A CRM user's session, straight to Tryton (users do not go through the fault proxy)."""
    return TrytonRpcClient(
        systems.tryton_url, "crm", tryton.ADMIN_LOGIN, tryton.admin_password(systems.cache), announce_changes=True
    )


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
            values["addresses"] = [["create", [{"street": street, "city": city, "country": country_id, "invoice": True}]]]
        if tax_id is not None:
            values["identifiers"] = [["create", [{"type": "us_ein", "code": tax_id}]]]
        (party_id,) = self.crm.create("party.party", [values])
        return party_id

    def win_opportunity(self, account_id: int, description: str, hours: list[tuple[str, float]]) -> int:
        """An opportunity with one consulting line per (description, hours), won: in Tryton
        that is converting it to a sale and confirming the sale."""
        product = _one(self.crm, "product.product", [["code", "=", SERVICE_CODE]], ["id", "default_uom"])
        (opportunity_id,) = self.crm.create("sale.opportunity", [{
            "party": account_id,
            "description": description,
            "lines": [["create", [
                {"product": product["id"], "quantity": quantity, "unit": product["default_uom"]}
                for _, quantity in hours
            ]]],
        }])
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
