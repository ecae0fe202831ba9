"""What a sales rep does in the HubSpot CRM portal, scripted: the demo's and the e2e tests' user
when the stack runs `--systems crm=hubspot`.

Plain CRM API calls against the sandbox (straight to it, not through Concord's fault proxy), with
the portal app's static token: no connector code, so the scenario checks the connector rather
than sharing its mistakes. SalesRep has the SaaS sales rep's shape (scenarios/__init__.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx

from ..vendors import HUBSPOT_SANDBOX_TOKEN, VendorSandboxes
from . import DealState, raise_with_body

OBJECTS = "/crm/objects/2026-03"
SERVICE_CODE = "CONSULT-HR"  # the item us-01 bills time with (cdk.json legal_entities.time_service_item)
LEGAL_ENTITY = "us-01"
HOURLY_RATE = 150.0
# Default association type ids: https://developers.hubspot.com/docs/api-reference/2026-03/crm/associations/guide
DEAL_TO_COMPANY, LINE_ITEM_TO_DEAL = 5, 20


class PortalSession:
    """A signed-in user of the portal (the app's static token)."""

    def __init__(self, portal_url: str, *, timeout: float = 10.0) -> None:
        self._http = httpx.Client(
            base_url=portal_url + OBJECTS,
            timeout=timeout,
            trust_env=False,
            headers={"Authorization": f"Bearer {HUBSPOT_SANDBOX_TOKEN}"},
        )

    def create(self, object_type: str, properties: dict[str, Any], associations: Sequence[tuple[str, int]] = ()) -> str:
        # https://developers.hubspot.com/docs/api-reference/2026-03/crm/objects/deals/create-deal
        body: dict[str, Any] = {
            "properties": properties,
            "associations": [
                {
                    "to": {"id": to_id},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}],
                }
                for to_id, type_id in associations
            ],
        }
        response = self._http.post(f"/{object_type}", json=body)
        raise_with_body(response)
        return str(response.json()["id"])

    def update(self, object_type: str, object_id: str, properties: dict[str, Any]) -> None:
        # https://developers.hubspot.com/docs/api-reference/2026-03/crm/objects/deals/update-deal
        raise_with_body(self._http.patch(f"/{object_type}/{object_id}", json={"properties": properties}))

    def get(self, object_type: str, object_id: str, properties: list[str]) -> dict[str, Any]:
        # https://developers.hubspot.com/docs/api-reference/2026-03/crm/objects/deals/get-deal
        response = self._http.get(f"/{object_type}/{object_id}", params={"properties": ",".join(properties)})
        raise_with_body(response)
        return dict(response.json()["properties"])

    def close(self) -> None:
        self._http.close()


@dataclass
class SalesRep:
    crm: PortalSession
    vendor: ClassVar[str] = "HubSpot"
    account_word: ClassVar[str] = "company"

    @classmethod
    def signed_in(cls, vendors: VendorSandboxes) -> SalesRep:
        return cls(PortalSession(f"{vendors.sandbox_url}/crm"))

    def create_account(
        self, name: str, *, street: str | None, city: str, country: str, tax_id: str | None, postal_code: str = "02110"
    ) -> str:
        return self.crm.create(
            "companies",
            {
                "name": name,
                "address": street,
                "city": city,
                "zip": postal_code,
                "country": country,
                "concord_tax_id": tax_id,
                "concord_legal_entity": LEGAL_ENTITY,
                "concord_currency": "USD",
            },
        )

    def rename_account(self, account_id: str, name: str) -> None:
        self.crm.update("companies", account_id, {"name": name})

    def account_name(self, account_id: str) -> str:
        return str(self.crm.get("companies", account_id, ["name"])["name"])

    def deal(self, opportunity_id: str) -> DealState:
        """Won when in the closed-won stage; HubSpot answers every property as a string."""
        fields = self.crm.get("deals", opportunity_id, ["dealstage", "amount"])
        return DealState(
            won=fields["dealstage"] == "closedwon",
            amount=float(fields["amount"]) if fields.get("amount") not in (None, "") else None,
        )

    def win_opportunity(self, account_id: str, name: str, hours: list[tuple[str, float]]) -> str:
        """A deal with one consulting line item per (description, hours), then moved to closed won."""
        amount = sum(quantity for _, quantity in hours) * HOURLY_RATE
        deal_id = self.crm.create(
            "deals",
            {
                "dealname": name,
                "dealstage": "contractsent",
                "amount": amount,
                "deal_currency_code": "USD",
                "closedate": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT00:00:00.000Z"),
            },
            [(account_id, DEAL_TO_COMPANY)],
        )
        for description, quantity in hours:
            self.crm.create(
                "line_items",
                {"name": description, "hs_sku": SERVICE_CODE, "quantity": quantity, "price": HOURLY_RATE},
                [(deal_id, LINE_ITEM_TO_DEAL)],
            )
        self.crm.update("deals", deal_id, {"dealstage": "closedwon"})
        return deal_id

    def financial_status(self, opportunity_id: str) -> str | None:
        """The deal's concord_financial_status, as the rep sees it."""
        deal = self.crm.get("deals", opportunity_id, ["concord_financial_status"])
        status: str | None = deal["concord_financial_status"]
        return status
