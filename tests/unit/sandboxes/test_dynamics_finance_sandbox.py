"""The Dynamics 365 Finance sandbox checked against Microsoft's documented shapes (fixtures in
dynamics_finance_fixtures/, each naming its page) with plain httpx: the token answer, entity
collections with ETags and next links, cross-company, the OData error body, 429 with Retry-After,
$batch change sets applied all or nothing, and posting."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from concord.local.sandboxes.dynamics_finance import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    FinanceSandbox,
)
from concord.local.sandboxes.kit import SandboxController, SandboxServer

from .conftest import same_shape

FIXTURES = Path(__file__).parent / "dynamics_finance_fixtures"


def documented(name: str) -> dict[str, Any]:
    fixture = json.loads((FIXTURES / f"{name}.json").read_text())
    assert fixture["source"].startswith("https://")
    return fixture


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(FinanceSandbox(page_size=2), ["erp"]) as running:
        yield running


def token(server: SandboxServer, **form: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/erp/common/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
            "scope": f"{server.url}/erp/.default",
            **form,
        },
    )


@pytest.fixture
def odata(server: SandboxServer) -> Iterator[httpx.Client]:
    access = token(server).json()["access_token"]
    with httpx.Client(base_url=f"{server.url}/erp/data", headers={"Authorization": f"Bearer {access}"}) as client:
        yield client


def customer(account: str, company: str = "usmf") -> dict[str, Any]:
    return {
        "dataAreaId": company,
        "CustomerAccount": account,
        "OrganizationName": f"Org {account}",
        "CustomerGroupId": "30",
    }


def test_the_token_answer_has_the_documented_shape_and_a_wrong_secret_is_refused(server: SandboxServer) -> None:
    answer = token(server)
    refused = token(server, client_secret="wrong")

    assert answer.status_code == 200 and same_shape(documented("token")["example"], answer.json())
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"


def test_collections_page_with_next_links_and_stay_in_the_default_company_unless_cross_company(
    odata: httpx.Client,
) -> None:
    for n, company in enumerate(("usmf", "usmf", "gbsi")):
        assert odata.post("/CustomersV3", json=customer(f"C{n}", company)).status_code == 201

    first = odata.get("/CustomersV3", params={"cross-company": "true", "$orderby": "CustomerAccount"}).json()
    second = httpx.get(first["@odata.nextLink"], headers=odata.headers).json()
    default_only = odata.get("/CustomersV3").json()

    example = documented("collection")["example"]
    assert set(first) == set(example) and same_shape(
        example["value"][0], {k: first["value"][0][k] for k in example["value"][0]}
    )
    assert [r["CustomerAccount"] for r in first["value"] + second["value"]] == ["C0", "C1", "C2"]
    assert "@odata.nextLink" not in second
    assert {r["dataAreaId"] for r in default_only["value"]} == {"usmf"}


def test_errors_have_the_documented_odata_shape(odata: httpx.Client) -> None:
    refused = odata.post("/CustomersV3", json={**customer("X"), "CustomerGroupId": "99"})
    unknown = odata.get("/CustomersV3", params={"$filter": "NoSuchField eq 1"})

    assert refused.status_code == 400 and same_shape(documented("error")["example"], refused.json())
    assert unknown.status_code == 400 and "NoSuchField" in unknown.json()["error"]["innererror"]["message"]


def test_a_stale_if_match_is_412_and_a_current_one_writes(odata: httpx.Client) -> None:
    odata.post("/CustomersV3", json=customer("E1"))
    key = "/CustomersV3(dataAreaId='usmf',CustomerAccount='E1')"
    tag = odata.get(key).json()["@odata.etag"]

    assert odata.patch(key, json={"OrganizationName": "A"}, headers={"If-Match": tag}).status_code == 204
    assert odata.patch(key, json={"OrganizationName": "B"}, headers={"If-Match": tag}).status_code == 412
    assert odata.get(key).json()["OrganizationName"] == "A"


def test_past_the_allocation_requests_are_429_with_retry_after(server: SandboxServer, odata: httpx.Client) -> None:
    control = SandboxController(server.url)
    control.set_budget("erp", 0)
    control.close()
    answer = odata.get("/CustomersV3")

    assert answer.status_code == documented("throttled")["status"]
    assert all(int(answer.headers[name]) >= 1 for name in documented("throttled")["headers"])


def _batch(lines: list[dict[str, Any]]) -> tuple[str, bytes]:
    parts = ["--b", "Content-Type: multipart/mixed; boundary=c", ""]
    for n, line in enumerate(lines, start=1):
        parts += [
            "--c",
            "Content-Type: application/http",
            "Content-Transfer-Encoding: binary",
            f"Content-ID: {n}",
            "",
            "POST FreeTextInvoiceLines HTTP/1.1",
            "Content-Type: application/json",
            "",
            json.dumps(line),
        ]
    parts += ["--c--", "--b--", ""]
    return "multipart/mixed; boundary=b", "\r\n".join(parts).encode()


def test_a_change_set_is_all_or_nothing_and_posting_numbers_the_invoice(odata: httpx.Client) -> None:
    odata.post("/CustomersV3", json=customer("B1"))
    header = odata.post(
        "/FreeTextInvoiceHeaders", json={"dataAreaId": "usmf", "CustomerAccount": "B1", "CurrencyCode": "USD"}
    ).json()
    line = {
        "dataAreaId": "usmf",
        "InvoiceIdentifier": header["InvoiceIdentifier"],
        "LineNumber": 1,
        "MainAccountDisplayValue": "401100",
        "Quantity": 2,
        "UnitPrice": 150,
    }
    content_type, bad = _batch([line, {**line, "LineNumber": 2, "MainAccountDisplayValue": "999"}])
    refused = odata.post("/$batch", content=bad, headers={"Content-Type": content_type})
    content_type, good = _batch([line, {**line, "LineNumber": 2}])
    applied = odata.post("/$batch", content=good, headers={"Content-Type": content_type})
    key = f"/FreeTextInvoiceHeaders(dataAreaId='usmf',InvoiceIdentifier='{header['InvoiceIdentifier']}')"
    posted = odata.post(f"{key}/Microsoft.Dynamics.DataEntities.Post", json={}).json()

    assert refused.status_code == 200 and b"HTTP/1.1 400" in refused.content and b"HTTP/1.1 201" not in refused.content
    assert applied.content.count(b"HTTP/1.1 201 Created") == 2
    assert applied.headers["Content-Type"].startswith("multipart/mixed; boundary=batchresponse_")
    assert posted["IsPosted"] is True and posted["InvoiceNumber"] and posted["DueDate"]
    assert odata.patch(key, json={"CustomerReference": "late"}).status_code == 400
