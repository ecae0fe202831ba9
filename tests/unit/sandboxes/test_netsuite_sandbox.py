"""The NetSuite sandbox against NetSuite's documented examples (netsuite_fixtures/*.json, each
with its source): the M2M token request, 204 + Location on create, eid upsert, sublist append and
replace, !transform/invoice, SuiteQL paging, the error shape and the concurrency limit."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from concord.local.sandboxes.kit import SandboxServer
from concord.local.sandboxes.netsuite import DEMO_CERTIFICATE_ID, DEMO_CLIENT_ID, NetSuiteSandbox
from concord.local.vendors import netsuite_demo_private_key

FIXTURES = Path(__file__).parent / "netsuite_fixtures"


def doc(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(NetSuiteSandbox(), ["erp"]) as running:
        yield running


def assertion(token_url: str, **changes: Any) -> str:
    now = int(time.time())
    claims = {"iss": DEMO_CLIENT_ID, "scope": "rest_webservices", "aud": token_url, "iat": now, "exp": now + 300}
    return jwt.encode(
        {**claims, **changes}, netsuite_demo_private_key(), algorithm="ES256", headers={"kid": DEMO_CERTIFICATE_ID}
    )


def token(server: SandboxServer, **changes: Any) -> httpx.Response:
    url = f"{server.url}/erp/services/rest/auth/oauth2/v1/token"
    return httpx.post(url, data={**doc("token")["form"], "client_assertion": assertion(url, **changes)})


@pytest.fixture
def api(server: SandboxServer) -> Iterator[httpx.Client]:
    answer = token(server)
    with httpx.Client(
        base_url=f"{server.url}/erp/services/rest", headers={"Authorization": f"Bearer {answer.json()['access_token']}"}
    ) as client:
        yield client


def query(api: httpx.Client, q: str, **params: Any) -> httpx.Response:
    return api.post("/query/v1/suiteql", params=params, json={"q": q}, headers={"Prefer": "transient"})


def test_the_documented_token_request_gets_an_hour_long_token_and_bad_ones_are_refused(server) -> None:
    answer = token(server)
    assert answer.status_code == 200 and int(answer.json()["expires_in"]) == doc("token")["max_lifetime_seconds"]
    too_long = token(server, exp=int(time.time()) + 2 * 3600)
    wrong_audience = token(server, aud="https://elsewhere.example/token")
    assert too_long.status_code == wrong_audience.status_code == 400
    assert too_long.json()["error"] == "invalid_grant"


def test_a_create_answers_204_with_the_id_only_in_location(api) -> None:
    example = doc("create")
    answer = api.post(example["request"]["path"], json=example["request"]["body"] | {"companyName": "My Company"})
    assert answer.status_code == example["response"]["status"] and answer.content == b""
    assert re.search(example["response"]["location_pattern"], answer.headers["Location"])
    record_id = answer.headers["Location"].rsplit("/", 1)[1]
    assert api.get(f"/record/v1/customer/{record_id}").json()["companyName"] == "My Company"


def test_put_on_an_external_id_upserts_and_get_reads_by_it(api) -> None:
    body = {"companyName": "Acme", "subsidiary": {"id": "1"}}
    first = api.put("/record/v1/customer/eid:CID002", json=body)
    second = api.put("/record/v1/customer/eid:CID002", json={"companyName": "Acme Corp"})
    assert first.status_code == second.status_code == 204 and first.headers["Location"] == second.headers["Location"]
    assert api.get("/record/v1/customer/eid:CID002").json()["companyName"] == "Acme Corp"
    assert api.put("/record/v1/customer/1", json=body).status_code == 400  # upsert needs eid:


def _order(api: httpx.Client) -> str:
    customer = api.put("/record/v1/customer/eid:C1", json={"companyName": "Acme", "subsidiary": {"id": "1"}})
    item = query(api, "SELECT id FROM item WHERE itemid = 'CONSULT-HR'").json()["items"][0]["id"]
    empty = api.post(
        "/record/v1/salesOrder",
        json={"entity": {"id": customer.headers["Location"].rsplit("/", 1)[1]}, "item": {"items": []}},
    )
    assert empty.status_code == 400 and "at least one line" in empty.json()["o:errorDetails"][0]["detail"]
    created = api.post(
        "/record/v1/salesOrder",
        json={
            "entity": {"id": customer.headers["Location"].rsplit("/", 1)[1]},
            "item": {"items": [{"item": {"id": item}, "quantity": 1}]},
        },
    )
    return created.headers["Location"].rsplit("/", 1)[1]


def test_patch_appends_sublist_lines_unless_replace_names_the_sublist(api) -> None:
    order = _order(api)
    item = query(api, "SELECT id FROM item WHERE itemid = 'CONSULT-HR'").json()["items"][0]["id"]
    patch = json.loads(json.dumps(doc("sublists")["patch"]).replace("ITEM", item))

    assert api.patch(f"/record/v1/salesOrder/{order}", json=patch).status_code == 204
    lines = api.get(f"/record/v1/salesOrder/{order}", params={"expandSubResources": "true"}).json()["item"]["items"]
    assert [line["quantity"] for line in lines] == [1, 2]
    api.patch(f"/record/v1/salesOrder/{order}", params={"replace": "item"}, json=patch)
    lines = api.get(f"/record/v1/salesOrder/{order}", params={"expandSubResources": "true"}).json()["item"]["items"]
    assert [line["quantity"] for line in lines] == [2]
    assert "items" not in api.get(f"/record/v1/salesOrder/{order}").json()["item"]  # a link unless expanded


def test_transform_bills_the_order_into_an_invoice_once(api) -> None:
    order = _order(api)
    answer = api.post(f"/record/v1/salesOrder/{order}/!transform/invoice")
    assert answer.status_code == 204 and "/record/v1/invoice/" in answer.headers["Location"]
    invoice = api.get(answer.headers["Location"].split("/services/rest", 1)[1]).json()
    assert invoice["createdFrom"]["id"] == order and invoice["total"] == invoice["amountRemaining"] == 150
    assert api.post(f"/record/v1/salesOrder/{order}/!transform/invoice").status_code == 400


def test_suiteql_pages_by_limit_and_offset_and_needs_prefer_transient(api) -> None:
    for n in range(3):
        api.put(f"/record/v1/customer/eid:P{n}", json={"companyName": f"P{n}", "subsidiary": {"id": "1"}})
    q = "SELECT id, companyname FROM customer ORDER BY id"

    first, last = query(api, q, limit=2).json(), query(api, q, limit=2, offset=2).json()

    assert set(first) == set(doc("suiteql")["page_keys"])
    assert (first["count"], first["hasMore"], last["count"], last["hasMore"]) == (2, True, 1, False)
    assert first["totalResults"] == 3 and [link["rel"] for link in first["links"]] == ["next", "self"]
    assert api.post("/query/v1/suiteql", json={"q": q}).status_code == 400
    assert query(api, q, limit=doc("suiteql")["max_limit"] + 1).status_code == 400


def test_errors_have_the_documented_shape(api, server) -> None:
    example = doc("errors")["example"]
    missing = api.get("/record/v1/customer/999999")
    unauthenticated = httpx.get(f"{server.url}/erp/services/rest/record/v1/customer/1")
    for answer, code in ((missing, "NONEXISTENT_ID"), (unauthenticated, "INVALID_LOGIN")):
        body = answer.json()
        assert set(body) == set(example) and set(body["o:errorDetails"][0]) == set(example["o:errorDetails"][0])
        assert body["o:errorDetails"][0]["o:errorCode"] == code and body["status"] == answer.status_code


def test_requests_beyond_the_accounts_concurrency_limit_are_answered_429(api, server) -> None:
    server.tenant("erp").hold(5)
    answer = api.get("/record/v1/customer/1")
    server.tenant("erp").hold(0)
    assert answer.status_code == 429 and answer.json()["status"] == 429
    assert api.get("/record/v1/customer/999999").status_code == 404
