"""One sandbox process for a mix of vendors: a vendor per tenant (HubSpot CRM portal beside a
Kantata PSA account), the fault proxy in front of it faulting one tenant, the CLI's tenant
arguments, and what VendorSandboxes starts and connects for each --systems mix."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from concord.local.faults import FaultController, FaultProxy
from concord.local.roles import parse_systems, saas_roles
from concord.local.sandboxes.__main__ import build_server, tenant_vendors
from concord.local.sandboxes.hubspot import HubSpotSandbox
from concord.local.sandboxes.kantata import KantataSandbox
from concord.local.sandboxes.kit import SandboxController, SandboxServer
from concord.local.vendors import HUBSPOT_SANDBOX_TOKEN, KANTATA_SANDBOX_TOKEN, VendorSandboxes

DEALS = "/crm/objects/2026-03/deals"


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer.mixed({"crm": HubSpotSandbox(), "psa": KantataSandbox()}) as running:
        yield running


def hubspot(base: str) -> httpx.Client:
    return httpx.Client(base_url=f"{base}/crm", headers={"Authorization": f"Bearer {HUBSPOT_SANDBOX_TOKEN}"})


def kantata(base: str) -> httpx.Client:
    return httpx.Client(base_url=f"{base}/psa/api/v1", headers={"Authorization": f"Bearer {KANTATA_SANDBOX_TOKEN}"})


def test_each_tenant_is_answered_by_its_own_vendor(server: SandboxServer) -> None:
    with hubspot(server.url) as crm, kantata(server.url) as psa:
        deal = crm.post(DEALS, json={"properties": {"dealname": "Rollout"}})
        assert deal.status_code == 201 and deal.json()["properties"]["dealname"] == "Rollout"
        assert "X-HubSpot-RateLimit-Max" in deal.headers  # HubSpot's limit headers on the CRM only
        workspace = psa.post("/workspaces.json", json={"workspace": {"title": "Acme", "creator_role": "maven"}})
        assert workspace.status_code == 200 and "results" in workspace.json()  # Kantata's envelope
        assert not any(name.lower().startswith("x-hubspot") for name in workspace.headers)
        # Each tenant speaks only its vendor's API: a HubSpot path under the Kantata account is unknown.
        assert (
            httpx.post(
                f"{server.url}/psa{DEALS}", json={}, headers={"Authorization": f"Bearer {KANTATA_SANDBOX_TOKEN}"}
            ).status_code
            == 404
        )


def test_the_control_api_names_each_tenants_vendor_and_seeds_through_it(server: SandboxServer) -> None:
    control = SandboxController(server.url)
    try:
        overview = httpx.get(f"{server.url}/_sandbox").json()
        assert overview["vendors"] == {"crm": "hubspot", "psa": "kantata"}
        assert overview["tenants"] == ["crm", "psa"] and overview["vendor"] == "hubspot+kantata"
        (company,) = control.seed("crm", "companies", [{"properties": {"name": "Acme"}}])
        assert company["id"]
        with pytest.raises(httpx.HTTPStatusError):  # a HubSpot object type is no Kantata table
            control.seed("psa", "companies", [{"properties": {"name": "Acme"}}])
        assert control.seed("psa", "workspaces", [{"title": "Acme"}])[0]["title"] == "Acme"
    finally:
        control.close()


def test_the_fault_proxy_faults_one_tenant_of_a_mixed_sandbox(server: SandboxServer) -> None:
    with FaultProxy(server.url) as proxy, hubspot(proxy.url) as crm, kantata(proxy.url) as psa:
        faults = FaultController(proxy.url)
        faults.set("crm", "error", status=503)
        try:
            assert crm.post(f"{DEALS}/search", json={}).status_code == 503
            assert psa.get("/workspaces.json").status_code == 200
        finally:
            faults.clear()
            faults.close()
        assert crm.post(f"{DEALS}/search", json={}).status_code == 200


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ((None, ["crm=hubspot", "psa=kantata"]), {"crm": "hubspot", "psa": "kantata"}),
        (("salesforce", ["crm", "psa"]), {"crm": "salesforce", "psa": "salesforce"}),
        (("salesforce", None), {"crm": "salesforce", "psa": "salesforce"}),
        (("salesforce", ["crm", "psa=kantata"]), {"crm": "salesforce", "psa": "kantata"}),
    ],
)
def test_tenant_arguments_name_a_vendor_each(
    arguments: tuple[str | None, list[str] | None], expected: dict[str, str]
) -> None:
    assert tenant_vendors(*arguments) == expected


@pytest.mark.parametrize("arguments", [(None, ["crm"]), (None, ["crm=sap"]), (None, ["crm=hubspot", "crm=kantata"])])
def test_a_tenant_without_a_known_vendor_is_refused(arguments: tuple[str | None, list[str]]) -> None:
    with pytest.raises(ValueError, match="tenant"):
        tenant_vendors(*arguments)


def test_the_cli_builds_one_vendor_object_per_vendor() -> None:
    with build_server({"crm": "salesforce", "psa": "salesforce", "erp": "kantata"}, "127.0.0.1", 0) as server:
        vendors = server.sandbox.vendors
        assert vendors["crm"] is vendors["psa"] and vendors["erp"].name == "kantata"


@pytest.mark.parametrize(
    ("systems", "tenants", "vendor"),
    [
        ("crm=hubspot,psa=kantata", ["--tenant", "crm=hubspot", "--tenant", "psa=kantata"], "hubspot+kantata"),
        ("crm=salesforce,psa=kantata", ["--tenant", "crm=salesforce", "--tenant", "psa=kantata"], "kantata+salesforce"),
        ("crm=salesforce,psa=certinia", ["--tenant", "crm=salesforce", "--tenant", "psa=salesforce"], "salesforce"),
        ("psa=kantata", ["--tenant", "psa=kantata"], "kantata"),
    ],
)
def test_vendor_sandboxes_start_one_process_for_any_mix(
    tmp_path: Path, systems: str, tenants: list[str], vendor: str
) -> None:
    vendors = VendorSandboxes(tmp_path, "127.0.0.1", 9101, 9102, saas_roles(parse_systems(systems)))
    assert vendors.sandbox_tenant_args() == tenants
    assert vendors.vendor == vendor
    expected = dict(arg.split("=") for arg in tenants[1::2])
    assert vendors.tenant_vendors == expected and vendors.status()["sandbox"]["tenants"] == expected


def test_a_hubspot_crm_and_kantata_psa_connect_through_the_fault_proxy(tmp_path: Path) -> None:
    vendors = VendorSandboxes(tmp_path, "127.0.0.1", 9101, 9102, saas_roles(parse_systems("crm=hubspot,psa=kantata")))
    connections = {role: json.loads(value) for role, value in vendors.connections().items()}
    assert connections["crm"]["kind"] == "hubspot" and connections["crm"]["base_url"] == "http://127.0.0.1:9102/crm"
    assert connections["crm"]["auth"] == {"type": "static_token", "token": HUBSPOT_SANDBOX_TOKEN}
    assert connections["psa"]["kind"] == "kantata"
    assert connections["psa"]["base_url"] == "http://127.0.0.1:9102/psa/api/v1"
    assert connections["psa"]["token"] == KANTATA_SANDBOX_TOKEN
