"""What people do in the Salesforce CRM org and the Certinia PSA org, scripted: the demo's and
the e2e tests' users when the stack runs `--systems crm=salesforce,psa=certinia`.

Plain REST calls against the sandbox (straight to it, not through Concord's fault proxy), with
the sandbox's OAuth client: no connector code, so the scenario checks the connectors rather
than sharing their mistakes. SalesRep and Consultant have the SaaS roles' shape (scenarios/__init__.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx

from ..sandboxes.kit import SandboxController
from ..vendors import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, VendorSandboxes
from . import DealState, raise_with_body

API = "/services/data/v67.0"
SERVICE_CODE = "CONSULT-HR"  # the item us-01 bills time with (cdk.json legal_entities.time_service_item)
LEGAL_ENTITY = "us-01"
HOURLY_RATE = 150.0
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class OrgSession:
    """A signed-in user of one org: a bearer token from the client-credentials flow."""

    def __init__(self, org_url: str, *, timeout: float = 10.0) -> None:
        self._http = httpx.Client(base_url=org_url, timeout=timeout, trust_env=False)
        # https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_client_credentials_flow.htm
        token = self._http.post(
            "/services/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": SANDBOX_CLIENT_ID,
                "client_secret": SANDBOX_CLIENT_SECRET,
            },
        )
        token.raise_for_status()
        self._http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

    def create(self, sobject: str, fields: dict[str, Any]) -> str:
        # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_sobject_create.htm
        response = self._http.post(f"{API}/sobjects/{sobject}", json=fields)
        raise_with_body(response)
        return str(response.json()["id"])

    def update(self, sobject: str, record_id: str, fields: dict[str, Any]) -> None:
        # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_update_fields.htm
        raise_with_body(self._http.patch(f"{API}/sobjects/{sobject}/{record_id}", json=fields))

    def get(self, sobject: str, record_id: str, fields: list[str]) -> dict[str, Any]:
        # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_retrieve.htm
        response = self._http.get(f"{API}/sobjects/{sobject}/{record_id}", params={"fields": ",".join(fields)})
        raise_with_body(response)
        return dict(response.json())

    def query(self, soql: str) -> list[dict[str, Any]]:
        """Every row of a SOQL query (following nextRecordsUrl)."""
        # https://developer.salesforce.com/docs/platform/api-rest/guide/resources-query.html
        response = self._http.get(f"{API}/query", params={"q": soql})
        rows: list[dict[str, Any]] = []
        while True:
            raise_with_body(response)
            page = response.json()
            rows += page["records"]
            if page.get("done", True):
                return rows
            response = self._http.get(page["nextRecordsUrl"])

    def close(self) -> None:
        self._http.close()


def quoted(value: str) -> str:
    """A SOQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def seed_service_product(vendors: VendorSandboxes) -> str:
    """The Product2 the legal entity bills time with (an admin's setup, so through the control
    API); returns its Id. Idempotent: a second call finds the first's."""
    crm = OrgSession(f"{vendors.sandbox_url}/crm")
    try:
        existing = crm.query(f"SELECT Id FROM Product2 WHERE ProductCode = {quoted(SERVICE_CODE)}")
    finally:
        crm.close()
    if existing:
        return str(existing[0]["Id"])
    controller = SandboxController(vendors.sandbox_url)
    try:
        (product,) = controller.seed(
            "crm",
            "Product2",
            [{"Name": "Consulting (hourly)", "ProductCode": SERVICE_CODE, "IsActive": True, "CurrencyIsoCode": "USD"}],
        )
    finally:
        controller.close()
    return str(product["Id"])


@dataclass
class SalesRep:
    crm: OrgSession
    product_id: str
    vendor: ClassVar[str] = "Salesforce"
    account_word: ClassVar[str] = "account"

    @classmethod
    def signed_in(cls, vendors: VendorSandboxes) -> SalesRep:
        """The CRM org's rep, with the service product seeded once."""
        return cls(OrgSession(f"{vendors.sandbox_url}/crm"), seed_service_product(vendors))

    def create_account(
        self, name: str, *, street: str | None, city: str, country: str, tax_id: str | None, postal_code: str = "02110"
    ) -> str:
        return self.crm.create(
            "Account",
            {
                "Name": name,
                "BillingStreet": street,
                "BillingCity": city,
                "BillingPostalCode": postal_code,
                "BillingCountry": country,
                "Tax_Id__c": tax_id,
                "Legal_Entity__c": LEGAL_ENTITY,
                "CurrencyIsoCode": "USD",
            },
        )

    def rename_account(self, account_id: str, name: str) -> None:
        self.crm.update("Account", account_id, {"Name": name})

    def account_name(self, account_id: str) -> str:
        return str(self.crm.get("Account", account_id, ["Name"])["Name"])

    def deal(self, opportunity_id: str) -> DealState:
        fields = self.crm.get("Opportunity", opportunity_id, ["IsWon", "Amount"])
        return DealState(won=bool(fields["IsWon"]), amount=fields["Amount"])

    def win_opportunity(self, account_id: str, name: str, hours: list[tuple[str, float]]) -> str:
        """An opportunity with one consulting line per (description, hours), then Closed Won
        (the sandbox derives IsWon and IsClosed from the stage, as Salesforce does)."""
        amount = sum(quantity for _, quantity in hours) * HOURLY_RATE
        opportunity_id = self.crm.create(
            "Opportunity",
            {
                "AccountId": account_id,
                "Name": name,
                "StageName": "Proposal/Price Quote",
                "CloseDate": dt.date.today().isoformat(),
                "Amount": amount,
                "CurrencyIsoCode": "USD",
            },
        )
        for description, quantity in hours:
            self.crm.create(
                "OpportunityLineItem",
                {
                    "OpportunityId": opportunity_id,
                    "Product2Id": self.product_id,
                    "Quantity": quantity,
                    "UnitPrice": HOURLY_RATE,
                    "Description": description,
                    "CurrencyIsoCode": "USD",
                },
            )
        self.crm.update("Opportunity", opportunity_id, {"StageName": "Closed Won"})
        return opportunity_id

    def financial_status(self, opportunity_id: str) -> str | None:
        """The deal's Concord_Financial_Status__c, as the rep sees it."""
        opportunity = self.crm.get("Opportunity", opportunity_id, ["Concord_Financial_Status__c"])
        status: str | None = opportunity["Concord_Financial_Status__c"]
        return status


@dataclass
class Consultant:
    psa: OrgSession
    resource_id: str  # the consultant's Contact (pse__Resource__c)
    vendor: ClassVar[str] = "Certinia"
    project_word: ClassVar[str] = "project"
    timesheet_word: ClassVar[str] = "timecard"

    @classmethod
    def signed_in(cls, vendors: VendorSandboxes, name: str = "Casey Consultant") -> Consultant:
        psa = OrgSession(f"{vendors.sandbox_url}/psa")
        first, _, last = name.partition(" ")
        existing = psa.query(f"SELECT Id FROM Contact WHERE LastName = {quoted(last)}")
        resource = existing[0]["Id"] if existing else psa.create("Contact", {"FirstName": first, "LastName": last})
        return cls(psa, str(resource))

    def project_of(self, *, concord_ref: str | None = None, opportunity_id: str | None = None) -> dict[str, Any] | None:
        """The project Concord created for a deal, by its Concord reference or its opportunity."""
        where = (
            f"Concord_Ref__c = {quoted(concord_ref)}"
            if concord_ref
            else f"pse__Opportunity__c = {quoted(opportunity_id or '')}"
        )
        rows = self.psa.query(
            f"SELECT Id, Name, Concord_Ref__c, Concord_Billing_Status__c FROM pse__Proj__c WHERE {where}"
        )
        return rows[0] if rows else None

    def tasks_of(self, project_id: str) -> list[dict[str, Any]]:
        return self.psa.query(f"SELECT Id, Name FROM pse__Project_Task__c WHERE pse__Project__c = {quoted(project_id)}")

    def task_names(self, project_id: str) -> list[str]:
        return sorted(task["Name"] for task in self.tasks_of(project_id))

    def fill_week(self, project_id: str, daily_hours: list[float], *, week_of: dt.date | None = None) -> str:
        """A submitted timecard for the week of `week_of` (Monday first) on the project's first task."""
        day = week_of or dt.date.today()
        monday = day - dt.timedelta(days=day.weekday())
        tasks = self.tasks_of(project_id)
        fields: dict[str, Any] = {
            "pse__Project__c": project_id,
            "pse__Resource__c": self.resource_id,
            "pse__Start_Date__c": monday.isoformat(),
            "pse__Status__c": "Submitted",
            "pse__Submitted__c": True,
            "pse__Billable__c": True,
            **{f"pse__{weekday}_Hours__c": hours for weekday, hours in zip(WEEKDAYS, daily_hours, strict=False)},
        }
        if tasks:
            fields["pse__Project_Task__c"] = tasks[0]["Id"]
        return self.psa.create("pse__Timecard_Header__c", fields)

    def log_time(self, project_id: str, hours: float, *, worked_on: dt.date | None = None) -> str:
        """One day's hours, as a timecard of its week holding just that day."""
        day = worked_on or dt.date.today()
        return self.fill_week(project_id, [0.0] * day.weekday() + [hours], week_of=day)

    def approve(self, timecard_ids: list[str]) -> None:
        for timecard_id in timecard_ids:
            self.psa.update(
                "pse__Timecard_Header__c", timecard_id, {"pse__Status__c": "Approved", "pse__Approved__c": True}
            )

    def billing_status(self, project_id: str) -> str | None:
        """The project's Concord_Billing_Status__c."""
        project = self.psa.get("pse__Proj__c", project_id, ["Concord_Billing_Status__c"])
        status: str | None = project["Concord_Billing_Status__c"]
        return status
