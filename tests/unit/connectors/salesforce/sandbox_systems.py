"""Salesforce CRM and Certinia PSA connectors against an in-process Salesforce sandbox, with a
scenario driver that seeds the sandbox over its REST API (plain httpx, no connector code), for
the connectors' own tests and the port contract suite:

    with salesforce_systems(org="separate") as systems:
        account = systems.driver.account("Acme", tax_id="DE123")
        deal = systems.driver.won_opportunity(account, [("CONS-1", "Consulting", 10, 150)])
        systems.crm.get_opportunity(deal)

The caller lets the test connect to 127.0.0.1 (pytest-socket), as tests/unit/sandboxes do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from concord.connectors import certinia, salesforce
from concord.connectors.certinia import CertiniaPsa
from concord.connectors.registry import ConnectorContext, Role
from concord.connectors.salesforce import SalesforceCrm
from concord.local.sandboxes.kit import SandboxController, SandboxServer
from concord.local.sandboxes.salesforce import DEFAULT_CLIENT, SalesforceSandbox

API = "/services/data/v67.0"
CRM_TENANT, PSA_TENANT, SHARED_TENANT = "crm", "psa", "shared"  # "shared": one org with CRM and PSA
DEFAULT_LEGAL_ENTITY = "concord-us"


def connection(server_url: str, tenant: str, kind: str, **extra: Any) -> dict[str, Any]:
    """The connection secret of a sandbox tenant (its default OAuth client)."""
    return {
        "kind": kind,
        "instance_url": f"{server_url}/{tenant}",
        "auth": {
            "type": "client_credentials",
            "client_id": DEFAULT_CLIENT.client_id,
            "client_secret": DEFAULT_CLIENT.client_secret.get_secret_value(),
        },  # type: ignore[union-attr]
        **extra,
    }


def context_for(secret: dict[str, Any]) -> ConnectorContext:
    return ConnectorContext(default_legal_entity=DEFAULT_LEGAL_ENTITY, reload_connection=lambda: dict(secret))


class ScenarioDriver:
    """Seeds business situations in the sandbox through Salesforce's REST API."""

    def __init__(self, server_url: str, crm_tenant: str, psa_tenant: str) -> None:
        self.server_url = server_url
        self.crm_tenant, self.psa_tenant = crm_tenant, psa_tenant
        self._clients: dict[str, httpx.Client] = {}

    def rest(self, tenant: str) -> httpx.Client:
        """An authenticated client of a tenant's REST API (base: /services/data/v67.0)."""
        if tenant not in self._clients:
            token = httpx.post(
                f"{self.server_url}/{tenant}/services/oauth2/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": DEFAULT_CLIENT.client_id,
                    "client_secret": DEFAULT_CLIENT.client_secret.get_secret_value(),
                },
            )  # type: ignore[union-attr]
            token.raise_for_status()
            body = token.json()
            self._clients[tenant] = httpx.Client(
                base_url=body["instance_url"] + API, headers={"Authorization": f"Bearer {body['access_token']}"}
            )
        return self._clients[tenant]

    def create(self, tenant: str, sobject: str, fields: dict[str, Any]) -> str:
        answer = self.rest(tenant).post(f"/sobjects/{sobject}", json=fields)
        answer.raise_for_status()
        return str(answer.json()["id"])

    def update(self, tenant: str, sobject: str, record_id: str, fields: dict[str, Any]) -> None:
        self.rest(tenant).patch(f"/sobjects/{sobject}/{record_id}", json=fields).raise_for_status()

    def record(self, tenant: str, sobject: str, record_id: str) -> dict[str, Any]:
        answer = self.rest(tenant).get(f"/sobjects/{sobject}/{record_id}")
        answer.raise_for_status()
        return dict(answer.json())

    def query(self, tenant: str, soql: str) -> list[dict[str, Any]]:
        answer = self.rest(tenant).get("/query", params={"q": soql})
        answer.raise_for_status()
        return list(answer.json()["records"])

    def account(
        self,
        name: str,
        *,
        tax_id: str | None = None,
        street: str = "1 Main St",
        city: str = "Springfield",
        postal_code: str = "12345",
        country: str = "US",
        currency: str = "USD",
        legal_entity: str | None = None,
        tenant: str | None = None,
    ) -> str:
        """An Account with a billing address and tax id, in the CRM org (or `tenant`)."""
        fields: dict[str, Any] = {
            "Name": name,
            "BillingStreet": street,
            "BillingCity": city,
            "BillingPostalCode": postal_code,
            "BillingCountry": country,
            "CurrencyIsoCode": currency,
        }
        if tax_id:
            fields["Tax_Id__c"] = tax_id
        if legal_entity:
            fields["Legal_Entity__c"] = legal_entity
        return self.create(tenant or self.crm_tenant, "Account", fields)

    def won_opportunity(
        self,
        account_id: str,
        lines: Sequence[tuple[str, str, float, float]],
        *,
        name: str = "Deal",
        currency: str = "USD",
        close_date: str = "2026-03-31",
    ) -> str:
        """A Closed Won opportunity with line items (product code, description, quantity, unit price)."""
        tenant = self.crm_tenant
        amount = sum(quantity * price for _, _, quantity, price in lines)
        opportunity = self.create(
            tenant,
            "Opportunity",
            {
                "AccountId": account_id,
                "Name": name,
                "Amount": amount,
                "CurrencyIsoCode": currency,
                "CloseDate": close_date,
                "StageName": "Closed Won",
            },
        )
        for code, description, quantity, price in lines:
            product = self.create(tenant, "Product2", {"Name": description, "ProductCode": code, "IsActive": True})
            self.create(
                tenant,
                "OpportunityLineItem",
                {
                    "OpportunityId": opportunity,
                    "Product2Id": product,
                    "Quantity": quantity,
                    "UnitPrice": price,
                    "Description": description,
                    "CurrencyIsoCode": currency,
                },
            )
        return opportunity

    def resource(self, last_name: str = "Consultant") -> str:
        """A Contact in the PSA org, to be a timecard's resource."""
        return self.create(self.psa_tenant, "Contact", {"LastName": last_name})

    def approved_timecard(
        self,
        project_id: str,
        week_of: dt.date,
        hours: Sequence[float],
        *,
        resource_id: str | None = None,
        task_id: str | None = None,
        billable: bool = True,
        approved: bool = True,
    ) -> str:
        """A timecard header for the week starting `week_of` with Monday..Sunday `hours`."""
        days = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
        fields: dict[str, Any] = {
            "pse__Project__c": project_id,
            "pse__Resource__c": resource_id or self.resource(),
            "pse__Start_Date__c": week_of.isoformat(),
            "pse__Billable__c": billable,
            "pse__Status__c": "Approved" if approved else "Submitted",
            "pse__Approved__c": approved,
            "pse__Submitted__c": True,
            **{f"pse__{day}_Hours__c": value for day, value in zip(days, hours, strict=True)},
        }
        if task_id:
            fields["pse__Project_Task__c"] = task_id
        return self.create(self.psa_tenant, "pse__Timecard_Header__c", fields)

    def close(self) -> None:
        for client in self._clients.values():
            client.close()


@dataclass
class SalesforceSystems:
    crm: SalesforceCrm
    psa: CertiniaPsa
    driver: ScenarioDriver
    control: SandboxController
    server: SandboxServer
    crm_tenant: str
    psa_tenant: str


@contextmanager
def salesforce_systems(
    org: Literal["separate", "same"] = "separate", sandbox: SalesforceSandbox | None = None
) -> Iterator[SalesforceSystems]:
    """A running sandbox and the two connectors on it: CRM in tenant "crm" and PSA in "psa"
    (separate orgs), or both in tenant "shared" (Certinia in the CRM's org)."""
    crm_tenant, psa_tenant = (CRM_TENANT, PSA_TENANT) if org == "separate" else (SHARED_TENANT, SHARED_TENANT)
    with SandboxServer(sandbox or SalesforceSandbox(), [CRM_TENANT, PSA_TENANT, SHARED_TENANT]) as server:
        crm_secret = connection(server.url, crm_tenant, "salesforce")
        psa_secret = connection(server.url, psa_tenant, "certinia", org=org)
        crm = salesforce.connect(Role.CRM, crm_secret, context_for(crm_secret))
        psa = certinia.connect(Role.PSA, psa_secret, context_for(psa_secret))
        driver = ScenarioDriver(server.url, crm_tenant, psa_tenant)
        control = SandboxController(server.url)
        try:
            yield SalesforceSystems(crm, psa, driver, control, server, crm_tenant, psa_tenant)
        finally:
            crm.client.close()
            psa.client.close()
            driver.close()
            control.close()
