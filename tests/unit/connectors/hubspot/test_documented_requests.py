"""What the HubSpot connector sends, checked with respx against request shapes from HubSpot's
docs, and how it reads the documented answers (fixtures/documented.json names each source):

- object read ?properties=&associations=: https://developers.hubspot.com/docs/api-reference/2026-03/crm/objects/deals/get-deal
- batch read:   https://developers.hubspot.com/docs/api-reference/2026-03/crm/objects/line-items/batch/read-line-items
- batch update: https://developers.hubspot.com/docs/api-reference/2026-03/crm/objects/deals/batch/update-deals
- search:       https://developers.hubspot.com/docs/api-reference/2026-03/crm/search/guide
- token:        https://developers.hubspot.com/docs/api-reference/2026-03/authentication/oauth-tokens/refresh-oauth-token
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import respx

from concord.connectors import hubspot
from concord.connectors.hubspot.client import RequiredPropertyMissing
from concord.connectors.kit.cursors import TimeCursor
from concord.connectors.kit.errors import AuthFailed, NotFound, Throttled
from concord.connectors.registry import ConnectorContext, Role
from concord.domain import FinancialStatus
from concord.errors import TransientError

HOST = "https://api.hubapi.com"
OBJECTS = f"{HOST}/crm/objects/2026-03"
DOCUMENTED = json.loads((Path(__file__).parent / "fixtures" / "documented.json").read_text())
STATIC = {"kind": "hubspot", "portal_id": "62515", "auth": {"type": "static_token", "token": "pat-na1-token"}}
OAUTH = {
    "kind": "hubspot",
    "portal_id": "62515",
    "auth": {"type": "oauth_refresh", "client_id": "app-id", "client_secret": "app-secret", "refresh_token": "rt-1"},
}


def _crm(secret: dict[str, Any], reload: dict[str, Any] | None = None) -> hubspot.HubSpotCrm:
    return hubspot.connect(Role.CRM, secret, ConnectorContext("concord-us", lambda: reload or secret))


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


def _documented(name: str) -> tuple[int, dict[str, Any]]:
    return DOCUMENTED[name]["status"], DOCUMENTED[name]["body"]


def test_get_opportunity_reads_the_deal_with_associations_then_its_line_items_in_one_batch(api) -> None:
    deal = api.get(f"{OBJECTS}/deals/512").respond(
        200,
        json={
            "id": "512",
            "properties": {
                "dealname": "Acme rollout",
                "amount": "1500",
                "deal_currency_code": "EUR",
                "closedate": "2026-03-31T00:00:00Z",
                "hs_is_closed_won": "true",
            },
            "associations": {
                "companies": {"results": [{"id": "77", "type": "deal_to_company"}]},
                "line_items": {
                    "results": [
                        {"id": "9002", "type": "deal_to_line_item"},
                        {"id": "9001", "type": "deal_to_line_item"},
                    ]
                },
            },
        },
    )
    items = api.post(f"{OBJECTS}/line_items/batch/read").respond(
        200,
        json={
            "status": "COMPLETE",
            "results": [
                {"id": "9001", "properties": {"name": "Workshop", "hs_sku": "WS-1", "quantity": "1", "price": "500"}},
                {
                    "id": "9002",
                    "properties": {"name": "Consulting", "hs_sku": "CONS-1", "quantity": "10", "price": "100"},
                },
            ],
        },
    )

    opportunity = _crm(STATIC).get_opportunity("512")

    asked = deal.calls.last.request
    assert asked.headers["Authorization"] == "Bearer pat-na1-token"
    assert asked.url.params["associations"] == "companies,line_items"
    assert set(asked.url.params["properties"].split(",")) >= {
        "dealname",
        "amount",
        "deal_currency_code",
        "hs_is_closed_won",
    }
    body = json.loads(items.calls.last.request.content)
    assert body["inputs"] == [{"id": "9002"}, {"id": "9001"}] and "hs_sku" in body["properties"]
    assert opportunity.account_id == "77" and opportunity.won and opportunity.amount.currency == "EUR"
    assert [line.service_item for line in opportunity.lines] == ["CONS-1", "WS-1"]  # in association order


def test_status_writes_are_one_batch_update_per_100_with_207_errors_mapped_to_their_deal(api) -> None:
    status, body = _documented("batch_update_207")
    clean = {"status": "COMPLETE", "results": []}
    route = api.post(f"{OBJECTS}/deals/batch/update").mock(
        side_effect=[
            respx.MockResponse(200, json=clean),
            respx.MockResponse(200, json=clean),
            respx.MockResponse(status, json=body),
        ]
    )
    statuses = {str(n): FinancialStatus.PAID for n in range(400, 600)} | {"999": FinancialStatus.PAID}

    failed = _crm(STATIC).set_financial_statuses(statuses)

    sent = [json.loads(call.request.content)["inputs"] for call in route.calls]
    assert [len(chunk) for chunk in sent] == [100, 100, 1]
    assert sent[0][0] == {"id": "400", "properties": {"concord_financial_status": "paid"}, "objectWriteTraceId": "400"}
    assert set(failed) == {"999"} and isinstance(failed["999"], NotFound)


def test_a_429_stops_the_run_and_returns_every_unsent_deal_as_throttled(api) -> None:
    status, body = _documented("rate_limited_429")
    route = api.post(f"{OBJECTS}/deals/batch/update").mock(
        side_effect=[
            respx.MockResponse(200, json={"status": "COMPLETE", "results": []}),
            respx.MockResponse(status, json=body),
        ]
    )
    statuses = {str(n): FinancialStatus.INVOICED for n in range(1000, 1250)}

    failed = _crm(STATIC).set_financial_statuses(statuses)

    assert route.call_count == 2
    assert set(failed) == {str(n) for n in range(1100, 1250)}
    assert all(isinstance(error, Throttled) for error in failed.values())


def test_a_503_whose_body_is_not_hubspots_is_transient_for_every_unsent_deal(api) -> None:
    # A proxy's or load balancer's error page: JSON, but not HubSpot's error shape.
    api.post(f"{OBJECTS}/deals/batch/update").respond(503, json={"status": 503, "error": "Service Unavailable"})

    failed = _crm(STATIC).set_financial_statuses({"512": FinancialStatus.PAID, "513": FinancialStatus.PAID})

    assert set(failed) == {"512", "513"}
    assert all(isinstance(error, TransientError) and not isinstance(error, Throttled) for error in failed.values())


def test_a_required_property_refusal_is_permanent_and_names_the_property(api) -> None:
    status, body = _documented("required_property_400")
    api.get(f"{OBJECTS}/deals/512").respond(status, json=body)

    with pytest.raises(RequiredPropertyMissing) as refused:
        _crm(STATIC).financial_status("512")

    assert refused.value.properties == ("closedate",) and "closedate" in str(refused.value)


def test_changes_since_searches_by_last_modified_after_the_cursor_ascending(api) -> None:
    route = api.post(f"{OBJECTS}/companies/search").respond(
        200,
        json={
            "total": 1,
            "results": [
                {
                    "id": "77",
                    "properties": {
                        "hs_lastmodifieddate": "2026-03-02T10:00:00.250Z",
                        "createdate": "2026-03-01T09:00:00Z",
                    },
                }
            ],
        },
    )
    at = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
    cursor = TimeCursor(written_at=at, ids_at=frozenset({"70", "71"})).encode()

    page = _crm(STATIC).changes_since("customer", cursor, 500)

    query = json.loads(route.calls.last.request.content)
    assert query["limit"] == 200 and query["sorts"] == [
        {"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}
    ]
    assert query["filterGroups"] == [
        {"filters": [{"propertyName": "hs_lastmodifieddate", "operator": "GT", "value": "1772445600000"}]},
        {
            "filters": [
                {"propertyName": "hs_lastmodifieddate", "operator": "EQ", "value": "1772445600000"},
                {"propertyName": "hs_object_id", "operator": "NOT_IN", "values": ["70", "71"]},
            ]
        },
    ]
    assert [c.record_id for c in page.changes] == ["77"] and not page.more
    assert TimeCursor.decode(page.cursor).ids_at == {"77"}


def test_oauth_refreshes_with_the_documented_form_and_a_refused_refresh_token_is_an_auth_failure(api) -> None:
    status, body = _documented("refresh_token")
    token = api.post(f"{HOST}/oauth/2026-03/token").mock(
        side_effect=[
            respx.MockResponse(status, json=body),
            *[
                respx.MockResponse(
                    400, json={"status": "BAD_REFRESH_TOKEN", "message": "missing or unknown refresh token"}
                )
            ]
            * 2,
        ]
    )
    api.get(f"{OBJECTS}/deals/512").respond(200, json={"id": "512", "properties": {"concord_financial_status": "paid"}})
    crm = _crm(OAUTH)

    assert crm.financial_status("512") is FinancialStatus.PAID
    form = {key: values[0] for key, values in parse_qs(token.calls[0].request.content.decode()).items()}
    assert form == {
        "grant_type": "refresh_token",
        "client_id": "app-id",
        "client_secret": "app-secret",
        "refresh_token": "rt-1",
    }

    fresh = _crm(OAUTH)
    with pytest.raises(AuthFailed) as refused:
        fresh.financial_status("512")
    assert token.call_count == 3  # refused, the secret re-read (it may have been rotated), refused again
    assert "BAD_REFRESH_TOKEN" in str(refused.value)
    assert "rt-1" not in str(refused.value) and "app-secret" not in str(refused.value)


def test_search_and_other_calls_draw_from_separate_budgets() -> None:
    crm = _crm({**STATIC, "rate": {"per_second": 9, "search_per_second": 3}})
    assert crm.client.http.budget.key == "budget#hubspot#62515"
    assert crm.client.search_http.budget.key == "budget#hubspot#62515#search"
    assert crm.client.search_http.budget.policy.rate_per_second == 3
