"""The Salesforce/Certinia scenario users (concord.local.scenarios.salesforce) against the sandbox."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from concord.local.faults import FaultProxy
from concord.local.sandboxes.kit import SandboxServer
from concord.local.scenarios.salesforce import Consultant, OrgSession, SalesRep, seed_service_product
from concord.local.vendors import VendorSandboxes


@pytest.fixture
def vendors(server: SandboxServer, tmp_path: Path) -> VendorSandboxes:
    port = urlsplit(server.url).port
    assert port is not None
    return VendorSandboxes(tmp_path, "127.0.0.1", port, 0, {"crm": "salesforce", "psa": "certinia"})


def test_a_won_deal_has_the_account_and_lines_quote_to_cash_reads(vendors: VendorSandboxes) -> None:
    product = seed_service_product(vendors)
    assert seed_service_product(vendors) == product  # seeded once
    rep = SalesRep(OrgSession(f"{vendors.sandbox_url}/crm"), product)
    account = rep.create_account(
        "Acme Corp", street="1 Main St", city="Boston", postal_code="02110", country="US", tax_id="12-3456789"
    )
    opportunity = rep.win_opportunity(account, "Rollout", [("Discovery", 8), ("Build", 40)])

    (deal,) = rep.crm.query(
        "SELECT Id, IsWon, IsClosed, StageName, Amount, Account.Tax_Id__c, "
        f"Account.Legal_Entity__c FROM Opportunity WHERE Id = '{opportunity}'"
    )
    assert deal["IsWon"] is True and deal["IsClosed"] is True and deal["StageName"] == "Closed Won"
    assert deal["Amount"] == 48 * 150.0
    assert deal["Account"]["Tax_Id__c"] == "12-3456789" and deal["Account"]["Legal_Entity__c"] == "us-01"
    lines = rep.crm.query(
        "SELECT Description, Quantity, Product2.ProductCode FROM OpportunityLineItem "
        f"WHERE OpportunityId = '{opportunity}'"
    )
    assert sorted((line["Description"], line["Quantity"], line["Product2"]["ProductCode"]) for line in lines) == [
        ("Build", 40, "CONSULT-HR"),
        ("Discovery", 8, "CONSULT-HR"),
    ]
    assert rep.financial_status(opportunity) is None

    rep.rename_account(account, "Acme Corporation")
    assert rep.crm.get("Account", account, ["Name"])["Name"] == "Acme Corporation"


def test_a_consultant_fills_and_approves_a_week_on_concords_project(vendors: VendorSandboxes) -> None:
    consultant = Consultant.signed_in(vendors)
    assert Consultant.signed_in(vendors).resource_id == consultant.resource_id  # one Contact per consultant
    # What Concord's PSA connector would have created for the deal:
    project = consultant.psa.create(
        "pse__Proj__c", {"Name": "Rollout", "Concord_Ref__c": "ref-1", "Concord_Billing_Status__c": "invoiced"}
    )
    task = consultant.psa.create("pse__Project_Task__c", {"Name": "Build", "pse__Project__c": project})
    assert consultant.project_of(concord_ref="ref-1")["Id"] == project
    assert consultant.project_of(concord_ref="ref-2") is None

    timecard = consultant.fill_week(project, [8, 7.5, 6], week_of=dt.date(2025, 6, 4))
    consultant.approve([timecard])

    card = consultant.psa.get(
        "pse__Timecard_Header__c",
        timecard,
        ["pse__Approved__c", "pse__Status__c", "pse__Total_Hours__c", "pse__Start_Date__c", "pse__Project_Task__c"],
    )
    assert card["pse__Approved__c"] is True and card["pse__Status__c"] == "Approved"
    assert card["pse__Total_Hours__c"] == 21.5
    assert card["pse__Start_Date__c"] == "2025-06-02" and card["pse__Project_Task__c"] == task
    assert consultant.billing_status(project) == "invoiced"


def test_one_day_logged_is_a_timecard_of_its_week_with_that_day(vendors: VendorSandboxes) -> None:
    consultant = Consultant.signed_in(vendors)
    project = consultant.psa.create("pse__Proj__c", {"Name": "Support"})
    card = consultant.log_time(project, 3.5, worked_on=dt.date(2025, 6, 5))  # a Thursday
    fields = consultant.psa.get(
        "pse__Timecard_Header__c", card, ["pse__Thursday_Hours__c", "pse__Total_Hours__c", "pse__Start_Date__c"]
    )
    assert (fields["pse__Thursday_Hours__c"], fields["pse__Total_Hours__c"]) == (3.5, 3.5)
    assert fields["pse__Start_Date__c"] == "2025-06-02"


def test_through_the_fault_proxy_the_token_sends_clients_back_through_the_proxy(server: SandboxServer) -> None:
    with FaultProxy(server.url) as proxy:
        token = httpx.post(
            f"{proxy.url}/crm/services/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "concord-sandbox",
                "client_secret": "concord-sandbox-secret",
            },
        )
    assert token.status_code == 200
    assert token.json()["instance_url"] == f"{proxy.url}/crm"
