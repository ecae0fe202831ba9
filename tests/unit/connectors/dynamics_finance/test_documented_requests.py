"""What the Dynamics 365 Finance connector sends and how it reads Finance's answers, with respx
against the documented shapes:
- Entra ID client credentials, v2.0 endpoint, scope `<environment URL>/.default`
  (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow)
- OData entity collections across companies (`cross-company=true`), `@odata.nextLink` paging,
  keys with `dataAreaId`, PATCH with If-Match, the OData error body
  (https://learn.microsoft.com/en-us/dynamics365/fin-ops-core/dev-itpro/data-entities/odata)
- 429 with Retry-After (https://learn.microsoft.com/en-us/dynamics365/fin-ops-core/dev-itpro/data-entities/service-protection-retry-operations)
- `$batch` as multipart/mixed with one change set (OData v4.01 part 1, multipart batch format)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from concord.connectors import dynamics_finance
from concord.connectors.kit.errors import NotFound, Throttled
from concord.connectors.registry import ConnectorContext, Role
from concord.domain import InvoiceLine
from concord.errors import ConfigurationError, ValidationFailed

ENV = "https://contoso.operations.dynamics.com"
TOKEN = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
SECRET = {
    "kind": "dynamics_finance",
    "environment_url": ENV,
    "tenant_id": "contoso.onmicrosoft.com",
    "auth": {"client_id": "app-id", "client_secret": "s3cret"},
    "default_company": "USMF",
    "customer_group": "30",
    "service_items": {"CONSULT-HR": {"main_account": "401100", "unit_price": 150}},
}
HEADER = {
    "@odata.etag": 'W/"1"',
    "dataAreaId": "usmf",
    "InvoiceIdentifier": "FTI1",
    "CustomerAccount": "C1",
    "CurrencyCode": "USD",
    "IsPosted": False,
}


def odata_error(status: int, message: str, **headers: str) -> httpx.Response:
    return httpx.Response(
        status,
        headers=headers,
        json={
            "error": {"code": "", "message": "An error has occurred.", "innererror": {"message": message, "type": "X"}}
        },
    )


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        router.post(TOKEN).respond(200, json={"token_type": "Bearer", "expires_in": 3599, "access_token": "t"})
        yield router


@pytest.fixture
def erp() -> Iterator[dynamics_finance.FinanceErp]:
    connector = dynamics_finance.connect(Role.ERP, dict(SECRET), ConnectorContext("us", lambda: dict(SECRET)))
    yield connector
    connector.client.close()


def test_the_token_is_asked_for_the_environment_and_bad_secrets_name_fields_not_values(api, erp) -> None:
    api.get(f"{ENV}/data/CustomersV3(dataAreaId='usmf',CustomerAccount='C1')").respond(
        200, json={"dataAreaId": "usmf", "CustomerAccount": "C1", "OrganizationName": "Acme"}
    )

    assert erp.get_customer("usmf:C1").name == "Acme"
    form = parse_qs(api.calls[0].request.content.decode())
    assert form == {
        "grant_type": ["client_credentials"],
        "client_id": ["app-id"],
        "client_secret": ["s3cret"],
        "scope": [f"{ENV}/.default"],
    }
    assert api.calls[1].request.headers["Authorization"] == "Bearer t"
    assert api.calls[1].request.url.params["cross-company"] == "true"
    with pytest.raises(ConfigurationError) as bad:
        dynamics_finance.parse_connection({**SECRET, "default_company": "toolong", "auth": {"client_id": "x"}})
    assert "default_company" in str(bad.value) and "auth.client_secret" in str(bad.value)


def test_queries_are_cross_company_and_follow_next_links(api, erp) -> None:
    route = api.get(f"{ENV}/data/CustomersV3").mock(
        side_effect=[
            httpx.Response(
                200,
                json={
                    "value": [{"CustomerAccount": "1"}],
                    "@odata.nextLink": f"{ENV}/data/CustomersV3?cross-company=true&$skip=1",
                },
            ),
            httpx.Response(200, json={"value": [{"CustomerAccount": "2"}]}),
        ]
    )

    rows = list(erp.client.query("CustomersV3", filter="OrganizationName eq 'A'"))

    assert [r["CustomerAccount"] for r in rows] == ["1", "2"]
    first, second = (call.request for call in route.calls)
    assert first.url.params["$filter"] == "OrganizationName eq 'A'" and first.url.params["cross-company"] == "true"
    assert second.url.params["$skip"] == "1" and first.headers["OData-Version"] == "4.0"


def test_a_next_link_outside_the_environment_is_refused(api, erp) -> None:
    api.get(f"{ENV}/data/CustomersV3").respond(
        200, json={"value": [], "@odata.nextLink": "https://evil.example/data/x"}
    )
    with pytest.raises(Exception, match="outside the environment"):
        list(erp.client.query("CustomersV3"))


def test_a_write_sends_the_etag_it_read(api, erp) -> None:
    key = f"{ENV}/data/CustomersV3(dataAreaId='usmf',CustomerAccount='C1')"
    api.get(key).respond(
        200, json={"@odata.etag": 'W/"JzEsNTYzNzE0NDU3Nyc="', "dataAreaId": "usmf", "CustomerAccount": "C1"}
    )
    patch = api.patch(key).respond(204)

    erp.deactivate_customer("usmf:C1", "merged")

    assert patch.calls.last.request.headers["If-Match"] == 'W/"JzEsNTYzNzE0NDU3Nyc="'
    assert json.loads(patch.calls.last.request.content) == {"OnHoldStatus": "All"}


def test_lines_go_as_one_change_set_and_its_answers_give_the_line_ids(api, erp) -> None:
    api.get(f"{ENV}/data/FreeTextInvoiceHeaders(dataAreaId='usmf',InvoiceIdentifier='FTI1')").respond(200, json=HEADER)
    api.get(f"{ENV}/data/FreeTextInvoiceLines").respond(200, json={"value": [{"LineNumber": 4}]})
    answer = (
        "--batchresponse_1\r\nContent-Type: multipart/mixed; boundary=changesetresponse_1\r\n\r\n"
        + "".join(
            f"--changesetresponse_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
            f"Content-ID: {n}\r\n\r\nHTTP/1.1 201 Created\r\nContent-Type: application/json\r\n\r\n"
            + json.dumps({"dataAreaId": "usmf", "InvoiceIdentifier": "FTI1", "LineNumber": 4 + n})
            + "\r\n"
            for n in (1, 2)
        )
        + "--changesetresponse_1--\r\n--batchresponse_1--\r\n"
    )
    batch = api.post(f"{ENV}/data/$batch").respond(
        200, content=answer.encode(), headers={"Content-Type": "multipart/mixed; boundary=batchresponse_1"}
    )
    lines = [
        InvoiceLine(description=f"w{n}", quantity=n, service_item="CONSULT-HR", concord_ref=f"r{n}") for n in (1, 2)
    ]

    ids = erp.add_invoice_lines("usmf:FTI1", lines)

    assert ids == {"r1": "usmf:FTI1:5", "r2": "usmf:FTI1:6"}
    request = batch.calls.last.request
    assert request.headers["Content-Type"].startswith("multipart/mixed; boundary=batch_")
    text = request.content.decode()
    assert (
        text.count("POST FreeTextInvoiceLines HTTP/1.1") == 2
        and "Content-Type: multipart/mixed; boundary=changeset_" in text
    )
    bodies = [json.loads(line) for line in text.split("\r\n") if line.startswith("{")]
    assert [(b["LineNumber"], b["MainAccountDisplayValue"], b["UnitPrice"]) for b in bodies] == [
        (5, "401100", 150.0),
        (6, "401100", 150.0),
    ]


def test_a_refused_change_set_raises_the_error_of_its_failed_request(api, erp) -> None:
    api.get(f"{ENV}/data/FreeTextInvoiceHeaders(dataAreaId='usmf',InvoiceIdentifier='FTI1')").respond(200, json=HEADER)
    api.get(f"{ENV}/data/FreeTextInvoiceLines").respond(200, json={"value": []})
    answer = (
        "--b\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
        "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n\r\n"
        + json.dumps(
            {
                "error": {
                    "code": "",
                    "message": "An error has occurred.",
                    "innererror": {"message": "Main account 401100 is blocked."},
                }
            }
        )
        + "\r\n--b--\r\n"
    )
    api.post(f"{ENV}/data/$batch").respond(
        200, content=answer.encode(), headers={"Content-Type": "multipart/mixed; boundary=b"}
    )
    with pytest.raises(ValidationFailed, match="Main account 401100 is blocked"):
        erp.add_invoice_lines(
            "usmf:FTI1", [InvoiceLine(description="w", quantity=1, service_item="CONSULT-HR", concord_ref="r")]
        )


def test_throttles_carry_retry_after_and_errors_name_the_inner_message(api, erp) -> None:
    base = f"{ENV}/data/CustomersV3(dataAreaId='usmf',CustomerAccount="
    api.get(base + "'T')").mock(return_value=odata_error(429, "Too many requests", **{"Retry-After": "30"}))
    api.get(base + "'N')").mock(return_value=odata_error(404, "Resource not found for the segment 'CustomersV3'."))
    with pytest.raises(Throttled) as throttled:
        erp.get_customer("usmf:T")
    with pytest.raises(NotFound, match="Resource not found"):
        erp.get_customer("usmf:N")
    assert throttled.value.retry_after == 30
