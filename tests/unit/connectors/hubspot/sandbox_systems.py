"""The HubSpot CRM connector against an in-process HubSpot sandbox, with a scenario driver that
works in the portal over its CRM API (plain httpx, no connector code), for the connector's own
tests and the port contract suite:

    with hubspot_systems() as systems:
        company = systems.driver.company("Acme", tax_id="DE123")
        deal = systems.driver.won_deal(company, [("CONS-1", "Consulting", 10, 150)])
        systems.crm.get_opportunity(deal)

The caller lets the test connect to 127.0.0.1 (pytest-socket), as tests/unit/sandboxes do.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from concord.connectors import hubspot
from concord.connectors.hubspot import HubSpotCrm
from concord.connectors.registry import ConnectorContext, Role
from concord.local.sandboxes.hubspot import DEFAULT_APP, HubSpotSandbox
from concord.local.sandboxes.kit import SandboxController, SandboxServer

OBJECTS = "/crm/objects/2026-03"
TENANT = "crm"
DEFAULT_LEGAL_ENTITY = "concord-us"
# Default association type ids: https://developers.hubspot.com/docs/api-reference/2026-03/crm/associations/guide
DEAL_TO_COMPANY, LINE_ITEM_TO_DEAL = 5, 20


def connection(server_url: str, tenant: str = TENANT, *, oauth: bool = False, **extra: Any) -> dict[str, Any]:
    """The connection secret of a sandbox portal (its app's static token, or its OAuth install)."""
    auth = (
        {
            "type": "oauth_refresh",
            "client_id": DEFAULT_APP.client_id,
            "client_secret": DEFAULT_APP.client_secret,
            "refresh_token": DEFAULT_APP.refresh_token,
        }
        if oauth
        else {"type": "static_token", "token": DEFAULT_APP.static_token}
    )
    return {"kind": "hubspot", "base_url": f"{server_url}/{tenant}", "auth": auth, **extra}


def context_for(secret: dict[str, Any]) -> ConnectorContext:
    return ConnectorContext(default_legal_entity=DEFAULT_LEGAL_ENTITY, reload_connection=lambda: dict(secret))


class ScenarioDriver:
    """A sales rep in the portal, through HubSpot's CRM objects API."""

    def __init__(self, server_url: str, tenant: str = TENANT) -> None:
        self.http = httpx.Client(
            base_url=f"{server_url}/{tenant}{OBJECTS}", headers={"Authorization": f"Bearer {DEFAULT_APP.static_token}"}
        )

    def create(self, object_type: str, properties: dict[str, Any], associations: Sequence[tuple[str, int]] = ()) -> str:
        # https://developers.hubspot.com/docs/api-reference/2026-03/crm/objects/deals/create-deal
        body: dict[str, Any] = {"properties": properties}
        if associations:
            body["associations"] = [
                {
                    "to": {"id": to_id},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}],
                }
                for to_id, type_id in associations
            ]
        answer = self.http.post(f"/{object_type}", json=body)
        answer.raise_for_status()
        return str(answer.json()["id"])

    def update(self, object_type: str, object_id: str, properties: dict[str, Any]) -> None:
        self.http.patch(f"/{object_type}/{object_id}", json={"properties": properties}).raise_for_status()

    def read(self, object_type: str, object_id: str, properties: Sequence[str]) -> dict[str, Any]:
        answer = self.http.get(f"/{object_type}/{object_id}", params={"properties": ",".join(properties)})
        answer.raise_for_status()
        return dict(answer.json()["properties"])

    def company(
        self,
        name: str,
        *,
        tax_id: str | None = None,
        street: str = "1 Main St",
        city: str = "Springfield",
        postal_code: str = "12345",
        country: str = "US",
        legal_entity: str | None = None,
    ) -> str:
        properties: dict[str, Any] = {
            "name": name,
            "address": street,
            "city": city,
            "zip": postal_code,
            "country": country,
            "concord_currency": "USD",
        }
        if tax_id:
            properties["concord_tax_id"] = tax_id
        if legal_entity:
            properties["concord_legal_entity"] = legal_entity
        return self.create("companies", properties)

    def won_deal(
        self,
        company_id: str,
        lines: Sequence[tuple[str, str, float, float]],
        *,
        name: str = "Deal",
        currency: str = "USD",
        close_date: str = "2026-03-31",
    ) -> str:
        """A closed-won deal with line items (product code, name, quantity, unit price)."""
        amount = sum(quantity * price for _, _, quantity, price in lines)
        deal = self.create(
            "deals",
            {
                "dealname": name,
                "amount": amount,
                "deal_currency_code": currency,
                "closedate": f"{close_date}T00:00:00.000Z",
                "dealstage": "appointmentscheduled",
            },
            [(company_id, DEAL_TO_COMPANY)],
        )
        for code, description, quantity, price in lines:
            self.create(
                "line_items",
                {"name": description, "hs_sku": code, "quantity": quantity, "price": price},
                [(deal, LINE_ITEM_TO_DEAL)],
            )
        self.update("deals", deal, {"dealstage": "closedwon"})
        return deal

    def close(self) -> None:
        self.http.close()


@dataclass
class HubSpotSystems:
    crm: HubSpotCrm
    driver: ScenarioDriver
    control: SandboxController
    server: SandboxServer


@contextmanager
def hubspot_systems(
    sandbox: HubSpotSandbox | None = None, *, oauth: bool = False, **extra: Any
) -> Iterator[HubSpotSystems]:
    """A running sandbox with one portal ("crm") and the connector on it."""
    with SandboxServer(sandbox or HubSpotSandbox(), [TENANT]) as server:
        secret = connection(server.url, oauth=oauth, **extra)
        crm = hubspot.connect(Role.CRM, secret, context_for(secret))
        driver, control = ScenarioDriver(server.url), SandboxController(server.url)
        try:
            yield HubSpotSystems(crm, driver, control, server)
        finally:
            crm.client.close()
            driver.close()
            control.close()
