"""The HubSpot sandbox behaves as HubSpot documents: paging with `after`, 100-input batches with
207 per-item errors, rate-limit headers and 429, the 2026-09 required-property rule, and the
local scenario's sales rep working in it (straight over HTTP, no connector code)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from concord.local.sandboxes.hubspot import DEFAULT_APP, HubSpotSandbox
from concord.local.sandboxes.kit import SandboxServer
from concord.local.scenarios.hubspot import PortalSession, SalesRep

from ..loopback import loopback_only  # noqa: F401 - the fixture

OBJECTS = "/crm/objects/2026-03"


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(HubSpotSandbox(required={"deals": ("closedate",)}, per_ten_seconds=5), ["crm"]) as running:
        yield running


def _client(server: SandboxServer) -> httpx.Client:
    return httpx.Client(base_url=f"{server.url}/crm", headers={"Authorization": f"Bearer {DEFAULT_APP.static_token}"})


def test_search_pages_with_after_until_no_next(server: SandboxServer) -> None:
    for n in range(5):
        server.sandbox.vendors["crm"].seed(server.tenant("crm"), "companies", [{"name": f"Co {n}"}])
    with _client(server) as http:
        seen, after = [], None
        while True:
            body = {"limit": 2, "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}]}
            page = http.post(f"{OBJECTS}/companies/search", json=body | ({"after": after} if after else {})).json()
            seen += [r["id"] for r in page["results"]]
            after = page.get("paging", {}).get("next", {}).get("after")
            if after is None:
                break
        assert page["total"] == 5 and len(seen) == 5 == len(set(seen))
        assert http.post(f"{OBJECTS}/companies/search", json={"limit": 201}).status_code == 400


def test_batch_update_answers_207_naming_the_failed_input_and_refuses_more_than_100(server: SandboxServer) -> None:
    (deal,) = server.sandbox.vendors["crm"].seed(
        server.tenant("crm"), "deals", [{"dealname": "D", "closedate": "2026-03-31"}]
    )
    with _client(server) as http:
        answer = http.post(
            f"{OBJECTS}/deals/batch/update",
            json={
                "inputs": [
                    {"id": deal["id"], "properties": {"concord_financial_status": "paid"}, "objectWriteTraceId": "a"},
                    {"id": "424242", "properties": {"concord_financial_status": "paid"}, "objectWriteTraceId": "b"},
                    {"id": deal["id"], "properties": {"concord_financial_status": "bogus"}, "objectWriteTraceId": "c"},
                ]
            },
        )
        assert answer.status_code == 207
        errors = {e["objectWriteTraceId"]: e for e in answer.json()["errors"]}
        assert errors["b"]["category"] == "OBJECT_NOT_FOUND" and errors["c"]["category"] == "VALIDATION_ERROR"
        assert [r["objectWriteTraceId"] for r in answer.json()["results"]] == ["a"]
        too_many = [{"id": deal["id"], "properties": {}}] * 101
        assert http.post(f"{OBJECTS}/deals/batch/update", json={"inputs": too_many}).status_code == 400


def test_required_properties_are_enforced_from_2026_09_only(server: SandboxServer) -> None:
    with _client(server) as http:
        assert http.post(f"{OBJECTS}/deals", json={"properties": {"dealname": "Old API"}}).status_code == 201
        refused = http.post("/crm/objects/2026-09/deals", json={"properties": {"dealname": "New API"}})
        assert refused.status_code == 400
        assert refused.json()["errors"][0]["context"] == {"propertyName": ["closedate"]}


def test_rate_limit_headers_count_down_and_a_spent_window_is_429(server: SandboxServer) -> None:
    with _client(server) as http:
        remaining = [http.get(f"{OBJECTS}/companies/1").headers["X-HubSpot-RateLimit-Remaining"] for _ in range(5)]
        spent = http.get(f"{OBJECTS}/companies/1")
    assert remaining == ["4", "3", "2", "1", "0"]
    assert spent.status_code == 429 and spent.json()["policyName"] == "TEN_SECONDLY_ROLLING"


def test_oauth_refresh_issues_expiring_tokens_and_unknown_tokens_are_401(server: SandboxServer) -> None:
    token = httpx.post(
        f"{server.url}/crm/oauth/2026-03/token",
        data={
            "grant_type": "refresh_token",
            "client_id": DEFAULT_APP.client_id,
            "client_secret": DEFAULT_APP.client_secret,
            "refresh_token": DEFAULT_APP.refresh_token,
        },
    ).json()
    assert token["expires_in"] == 1800
    ok = httpx.get(
        f"{server.url}/crm{OBJECTS}/companies/1", headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert ok.status_code == 404  # authenticated; no such company
    denied = httpx.get(f"{server.url}/crm{OBJECTS}/companies/1", headers={"Authorization": "Bearer nope"})
    assert denied.status_code == 401 and denied.json()["category"] == "INVALID_AUTHENTICATION"


def test_the_scenario_sales_rep_wins_a_deal_with_line_items_and_renames_the_company() -> None:
    with SandboxServer(HubSpotSandbox(), ["crm"]) as running:
        rep = SalesRep(PortalSession(f"{running.url}/crm"))
        company = rep.create_account("Acme", street="1 Main St", city="Boston", country="US", tax_id="12-3456789")
        deal = rep.win_opportunity(company, "Acme rollout", [("Discovery", 10.0), ("Build", 20.0)])
        rep.rename_account(company, "Acme Corp")
        stored = running.tenant("crm").store
        assert stored.get("deals", deal)["hs_is_closed_won"] == "true"
        assert len(stored.get("deals", deal)["_associations"]["line_items"]) == 2
        assert stored.get("companies", company)["name"] == "Acme Corp"
        assert rep.financial_status(deal) is None
