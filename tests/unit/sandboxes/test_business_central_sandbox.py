"""The Business Central sandbox against Microsoft's documented behaviour (the examples in
business_central_fixtures, each with its source): token grant, error shape, ETags, paging,
$batch atomicity, throttling, posting."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from concord.local.sandboxes.__main__ import tenant_vendors
from concord.local.sandboxes.business_central import (
    DEFAULT_CLIENT,
    DEFAULT_COMPANY_ID,
    ENTRA_TENANT,
    ENVIRONMENT,
    SCOPE,
    BusinessCentralSandbox,
)
from concord.local.sandboxes.kit import SandboxController, SandboxServer

DOCS = Path(__file__).parent / "business_central_fixtures"
API = f"/erp/v2.0/{ENTRA_TENANT}/{ENVIRONMENT}/api/v2.0"


def doc(name: str) -> dict[str, Any]:
    return json.loads((DOCS / f"{name}.json").read_text())


def token_form(**changes: str) -> dict[str, str]:
    secret = DEFAULT_CLIENT.client_secret.get_secret_value()  # type: ignore[union-attr]
    return {
        "grant_type": "client_credentials",
        "client_id": DEFAULT_CLIENT.client_id,
        "client_secret": secret,
        "scope": SCOPE,
        **changes,
    }


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(BusinessCentralSandbox(page_size=2), ["erp"]) as running:
        yield running


@pytest.fixture
def api(server: SandboxServer) -> Iterator[httpx.Client]:
    token = httpx.post(f"{server.url}/erp/{ENTRA_TENANT}/oauth2/v2.0/token", data=token_form()).json()["access_token"]
    with httpx.Client(
        base_url=f"{server.url}{API}/companies({DEFAULT_COMPANY_ID})", headers={"Authorization": f"Bearer {token}"}
    ) as client:
        yield client


def customer(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    answer = api.post("/customers", json={"displayName": "Adatum", **fields})
    assert answer.status_code == 201, answer.text
    return answer.json()


def draft_with_line(api: httpx.Client) -> dict[str, Any]:
    invoice = api.post("/salesInvoices", json={"customerId": customer(api)["id"]}).json()
    line = api.post(
        f"/salesInvoices({invoice['id']})/salesInvoiceLines",
        json={"lineType": "Item", "lineObjectNumber": "CONSULT-HR", "quantity": 2},
    )
    assert line.status_code == 201, line.text
    return invoice


def test_the_token_endpoint_grants_client_credentials_for_the_bc_scope_only(server: SandboxServer) -> None:
    url = f"{server.url}/erp/{ENTRA_TENANT}/oauth2/v2.0/token"

    granted = httpx.post(url, data=token_form())
    wrong_secret = httpx.post(url, data=token_form(client_secret="nope"))
    wrong_scope = httpx.post(url, data=token_form(scope="https://graph.microsoft.com/.default"))

    assert granted.status_code == 200 and granted.json()["token_type"] == "Bearer" and granted.json()["expires_in"] > 0
    assert (wrong_secret.status_code, wrong_secret.json()["error"]) == (401, "invalid_client")
    assert (wrong_scope.status_code, wrong_scope.json()["error"]) == (400, "invalid_scope")
    unauthorised = httpx.get(f"{server.url}{API}/companies")
    assert unauthorised.status_code == 401 and set(unauthorised.json()["error"]) == {"code", "message"}


def test_the_documented_create_request_is_accepted_and_answered_with_its_fields(api: httpx.Client) -> None:
    documented = doc("customer_create")["request"]

    created = api.post("/customers", json=documented)

    assert created.status_code == 201
    body = created.json()
    assert {key: body[key] for key in documented} == documented
    assert body["number"] and body["id"] and body["@odata.etag"].startswith('W/"') and body["lastModifiedDateTime"]
    refused = api.post("/customers", json={**documented, "concordRef": "x"})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "BadRequest"


def test_a_sales_invoice_has_the_documented_properties_and_statuses(api: httpx.Client) -> None:
    invoice = draft_with_line(api)
    documented = doc("sales_invoice")

    read = api.get(f"/salesInvoices({invoice['id']})").json()

    assert set(documented["properties"]) <= set(read) and read["status"] in documented["statuses"]
    assert read["status"] == "Draft" and read["totalAmountIncludingTax"] == 300.0


def test_errors_have_the_documented_shape_and_statuses(api: httpx.Client, server: SandboxServer) -> None:
    shape = doc("errors")["shape"]
    made = customer(api)

    missing = api.get("/customers(00000000-0000-0000-0000-00000000abcd)")
    bad_filter = api.get("/customers", params={"$filter": "displayName eq"})
    stale = api.patch(f"/customers({made['id']})", json={"displayName": "B"}, headers={"If-Match": 'W/"stale"'})
    no_etag = api.patch(f"/customers({made['id']})", json={"displayName": "B"})
    fresh = api.patch(f"/customers({made['id']})", json={"displayName": "B"}, headers={"If-Match": made["@odata.etag"]})

    for answer, status in (
        (missing, 404),
        (bad_filter, 400),
        (stale, doc("errors")["stale_etag_status"]),
        (no_etag, 400),
    ):
        assert answer.status_code == status and set(answer.json()) == set(shape)
        assert set(answer.json()["error"]) == set(shape["error"])
    assert fresh.status_code == 200 and fresh.json()["@odata.etag"] != made["@odata.etag"]


def test_a_spent_allocation_answers_429_with_retry_after(api: httpx.Client, server: SandboxServer) -> None:
    control = SandboxController(server.url)
    control.set_budget("erp", 1)

    first, second = api.get("/customers"), api.get("/customers")

    assert first.status_code == 200
    assert second.status_code == doc("errors")["throttled_status"] and int(second.headers["Retry-After"]) > 0
    control.close()


def test_lists_filter_order_and_page_with_next_links(api: httpx.Client) -> None:
    for name in ("C", "A", "B", "D"):
        customer(api, displayName=name, city="Atlanta" if name != "D" else "Boston")

    first = api.get("/customers", params={"$filter": "city eq 'Atlanta'", "$orderby": "displayName desc"}).json()
    second = httpx.get(first["@odata.nextLink"], headers=api.headers).json()
    topped = api.get("/customers", params={"$top": 3, "$skip": 1, "$orderby": "displayName"}).json()
    rest = httpx.get(topped["@odata.nextLink"], headers=api.headers).json()

    assert [row["displayName"] for row in first["value"] + second["value"]] == ["C", "B", "A"]
    assert "@odata.nextLink" not in second
    assert [row["displayName"] for row in topped["value"] + rest["value"]] == ["B", "C", "D"]
    assert "@odata.nextLink" not in rest


def test_a_transactional_batch_undoes_everything_when_one_operation_fails(api: httpx.Client) -> None:
    invoice = api.post("/salesInvoices", json={"customerId": customer(api)["id"]}).json()
    lines = f"companies({DEFAULT_COMPANY_ID})/salesInvoices({invoice['id']})/salesInvoiceLines"
    documented = doc("batch")
    ops = [
        {
            "id": "1",
            "method": "POST",
            "url": lines,
            "headers": {"Content-Type": "application/json"},
            "body": {"lineType": "Item", "lineObjectNumber": "CONSULT-HR", "quantity": 1},
        },
        {
            "id": "2",
            "method": "POST",
            "url": lines,
            "body": {"lineType": "Item", "lineObjectNumber": "NOPE", "quantity": 1},
        },
    ]
    batch_url = str(api.base_url).split("/companies(")[0] + "/$batch"

    atomic = httpx.post(batch_url, json={"requests": ops}, headers={**api.headers, "Isolation": "snapshot"}).json()
    separate = httpx.post(batch_url, json={"requests": ops}, headers=api.headers).json()
    too_many = httpx.post(
        batch_url, json={"requests": [ops[0]] * (documented["max_operations"] + 1)}, headers=api.headers
    )

    assert set(documented["request_keys"]) >= set(ops[0])
    assert [(r["id"], r["status"]) for r in atomic["responses"]] == [("1", 424), ("2", 400)]
    assert [(r["id"], r["status"]) for r in separate["responses"]] == [("1", 201), ("2", 400)]
    assert set(separate["responses"][0]) <= set(documented["response_keys"])
    assert len(api.get(f"/salesInvoices({invoice['id']})/salesInvoiceLines").json()["value"]) == 1  # the separate one
    assert too_many.status_code == 400


def test_posting_needs_lines_keeps_the_id_and_closes_the_draft(api: httpx.Client) -> None:
    empty = api.post("/salesInvoices", json={"customerId": customer(api)["id"]}).json()
    invoice = draft_with_line(api)

    refused = api.post(f"/salesInvoices({empty['id']})/Microsoft.NAV.post")
    posted = api.post(f"/salesInvoices({invoice['id']})/Microsoft.NAV.post")
    after = api.get(f"/salesInvoices({invoice['id']})").json()
    late_line = api.post(
        f"/salesInvoices({invoice['id']})/salesInvoiceLines",
        json={"lineType": "Item", "lineObjectNumber": "CONSULT-HR", "quantity": 1},
    )

    assert refused.status_code == 400 and posted.status_code == 204 and posted.content == b""
    assert (after["id"], after["status"], after["remainingAmount"]) == (invoice["id"], "Open", 300.0)
    assert after["number"].startswith("PS-INV") and after["dueDate"] > after["invoiceDate"]
    assert late_line.status_code == 400


def test_the_cli_serves_business_central_as_a_tenant_vendor() -> None:
    assert tenant_vendors(None, ["erp=business_central", "crm=hubspot"]) == {
        "erp": "business_central",
        "crm": "hubspot",
    }
