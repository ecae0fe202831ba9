"""The SaaS scenario users picked by kind (concord.local.scenarios.saas) have one shape per role:
the HubSpot and Salesforce sales reps, the Kantata and Certinia consultants, against one mixed
sandbox (the demo's and e2e tests' users)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from concord.local.sandboxes.hubspot import HubSpotSandbox
from concord.local.sandboxes.kantata import KantataSandbox
from concord.local.sandboxes.kit import SandboxServer
from concord.local.sandboxes.salesforce import SalesforceSandbox
from concord.local.scenarios.saas import NoScenarioUser, consultant, sales_rep
from concord.local.vendors import VendorSandboxes


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer.mixed({"crm": HubSpotSandbox(), "psa": KantataSandbox()}) as running:
        yield running


def vendors_of(server: SandboxServer, tmp_path: Path, saas: dict[str, str]) -> VendorSandboxes:
    port = urlsplit(server.url).port
    assert port is not None
    return VendorSandboxes(tmp_path, "127.0.0.1", port, 0, saas)


def test_the_hubspot_rep_wins_a_deal_and_reads_it_back(server: SandboxServer, tmp_path: Path) -> None:
    rep = sales_rep(vendors_of(server, tmp_path, {"crm": "hubspot", "psa": "kantata"}))
    assert (rep.vendor, rep.account_word) == ("HubSpot", "company")
    company = rep.create_account("Acme", street="1 Main St", city="Boston", country="US", tax_id="12-3456789")
    deal = rep.win_opportunity(company, "Rollout", [("Discovery", 8.0), ("Build", 40.0)])
    state = rep.deal(deal)
    assert state.won and state.amount == 48 * 150.0
    rep.rename_account(company, "Acme Corporation")
    assert rep.account_name(company) == "Acme Corporation"
    assert rep.financial_status(deal) is None


def test_the_kantata_consultant_fills_a_week_in_one_submission_and_approves_it(
    server: SandboxServer, tmp_path: Path
) -> None:
    person = consultant(vendors_of(server, tmp_path, {"crm": "hubspot", "psa": "kantata"}))
    assert (person.vendor, person.project_word) == ("Kantata", "workspace")
    account = server.tenant("psa")
    workspace = server.sandbox.vendors["psa"].seed(account, "workspaces", [{"title": "Rollout"}])[0]
    server.sandbox.vendors["psa"].seed(
        account,
        "stories",
        [{"title": "Build", "workspace_id": workspace["id"]}, {"title": "Discovery", "workspace_id": workspace["id"]}],
    )
    assert person.task_names(workspace["id"]) == ["Build", "Discovery"]

    submission = person.fill_week(workspace["id"], [8.0, 0.0, 6.0], week_of=dt.date(2025, 6, 4))
    person.approve([submission])

    stored = account.store.get("timesheet_submissions", submission)
    assert stored is not None and stored["status"] == "approved" and stored["start_date"] == "2025-06-02"
    entries = [account.store.get("time_entries", entry_id) for entry_id in stored["time_entry_ids"]]
    assert sorted((e["date_performed"], e["time_in_minutes"]) for e in entries if e) == [
        ("2025-06-02", 480),
        ("2025-06-04", 360),
    ]  # a day without hours is no entry


def test_salesforce_and_certinia_users_have_the_same_shape(tmp_path: Path) -> None:
    with SandboxServer(SalesforceSandbox(), ["crm", "psa"]) as salesforce:
        vendors = vendors_of(salesforce, tmp_path, {"crm": "salesforce", "psa": "certinia"})
        rep, person = sales_rep(vendors), consultant(vendors)
        assert (rep.vendor, person.vendor, person.timesheet_word) == ("Salesforce", "Certinia", "timecard")
        account = rep.create_account("Acme", street=None, city="Boston", country="US", tax_id=None)
        deal = rep.win_opportunity(account, "Rollout", [("Build", 4.0)])
        assert rep.deal(deal).won and rep.account_name(account) == "Acme"


def test_a_tryton_role_has_no_saas_user(server: SandboxServer, tmp_path: Path) -> None:
    vendors = vendors_of(server, tmp_path, {"psa": "kantata"})
    with pytest.raises(NoScenarioUser, match="CRM of kind 'tryton'"):
        sales_rep(vendors)
