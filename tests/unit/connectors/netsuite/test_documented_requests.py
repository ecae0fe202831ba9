"""What the NetSuite connector sends and how it reads NetSuite's answers, with respx against the
documented shapes:
- a create/upsert answers 204 with the id only in `Location`
  (https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1545141395.html);
  upsert is PUT on `eid:` (https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_156335203191.html)
- SuiteQL is POST query/v1/suiteql {"q"} with `Prefer: transient`, paged by limit/offset/hasMore
  (https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_158394344595.html)
- errors carry `o:errorDetails`; 429 and SSS_REQUEST_LIMIT_EXCEEDED are throttles
  (https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_156570709583.html,
  https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/bridgehead_1525252812.html)
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from concord.connectors import netsuite
from concord.connectors.kit.errors import NotFound, Throttled
from concord.connectors.registry import ConnectorContext, Role
from concord.domain import Customer, LineRefs
from concord.errors import ConfigurationError, ValidationFailed
from concord.events.types import Address

REST = "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest"
KEY = (
    ec.generate_private_key(ec.SECP256R1())
    .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    .decode()
)
SECRET = {
    "kind": "netsuite",
    "account_id": "1234567_SB1",
    "auth": {"client_id": "cid", "certificate_id": "cert", "private_key": KEY, "algorithm": "ES256"},
}


def error(status: int, code: str, detail: str) -> httpx.Response:
    return httpx.Response(
        status,
        json={
            "type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1",
            "title": "Bad Request",
            "status": status,
            "o:errorDetails": [{"detail": detail, "o:errorCode": code}],
        },
    )


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=REST, assert_all_called=False) as router:
        router.post("/auth/oauth2/v1/token").respond(200, json={"access_token": "t", "expires_in": "3600"})
        router.post("/query/v1/suiteql").respond(
            200, json={"items": [{"links": [], "id": "1", "symbol": "USD"}], "hasMore": False}
        )
        yield router


@pytest.fixture
def erp() -> Iterator[netsuite.NetSuiteErp]:
    connector = netsuite.connect(Role.ERP, dict(SECRET), ConnectorContext("us", lambda: dict(SECRET)))
    yield connector
    connector.client.close()


def test_the_account_id_names_the_host_and_a_bad_secret_names_fields_not_values() -> None:
    assert netsuite.parse_connection(SECRET).rest_url == REST
    with pytest.raises(ConfigurationError) as bad:
        netsuite.parse_connection({**SECRET, "auth": {**SECRET["auth"], "algorithm": "RS256"}})
    assert "auth.algorithm" in str(bad.value) and "BEGIN" not in str(bad.value)


def test_a_new_customer_is_upserted_by_external_id_and_its_id_read_from_location(api, erp) -> None:
    upsert = api.put("/record/v1/customer/eid:customer:crm:A1").respond(
        204, headers={"Location": f"{REST}/record/v1/customer/647"}
    )
    api.get("/record/v1/customer/647").respond(
        200, json={"id": "647", "companyName": "Acme", "externalId": "customer:crm:A1", "currency": {"id": "1"}}
    )
    customer = Customer(
        account_id="A1",
        name="Acme",
        tax_id="12-3456789",
        currency="USD",
        legal_entity="us",
        billing_address=Address(street="1 Main St", city="Boston", country="US"),
    )

    created = erp.upsert_customer(customer, "customer:crm:A1", None)

    assert created.customer_id == "647" and created.external_ref == "customer:crm:A1"
    request = upsert.calls.last.request
    assert request.url.params["replace"] == "addressbook"
    body = json.loads(request.content)
    assert body["companyName"] == "Acme" and body["vatRegNumber"] == "12-3456789" and body["isInactive"] is False
    assert body["subsidiary"] == {"id": "1"} and body["currency"] == {"id": "1"}
    assert body["addressbook"]["items"][0]["addressbookaddress"]["country"] == {"id": "US"}


def test_suiteql_is_posted_transient_and_followed_while_has_more(api, erp) -> None:
    pages = [
        {"items": [{"links": [], "id": str(n)} for n in range(1000)], "hasMore": True},
        {"items": [{"links": [], "id": "1000"}], "hasMore": False},
    ]
    route = api.post("/query/v1/suiteql").mock(side_effect=[httpx.Response(200, json=p) for p in pages])

    rows = list(erp.client.query("SELECT id FROM customer ORDER BY id"))

    assert len(rows) == 1001 and "links" not in rows[0]
    first, second = (call.request for call in route.calls)
    assert first.headers["Prefer"] == "transient" and json.loads(first.content) == {
        "q": "SELECT id FROM customer ORDER BY id"
    }
    assert (first.url.params["limit"], first.url.params["offset"]) == ("1000", "0")
    assert second.url.params["offset"] == "1000"


@pytest.mark.parametrize(
    "answer",
    [
        error(429, "CONCURRENCY_LIMIT_EXCEEDED", "Concurrent request limit exceeded."),
        error(400, "SSS_REQUEST_LIMIT_EXCEEDED", "Request limit exceeded."),
    ],
)
def test_the_concurrency_limit_is_a_throttle_not_a_refusal(api, erp, answer) -> None:
    api.get("/record/v1/customer/1").mock(return_value=answer)
    with pytest.raises(Throttled):
        erp.get_customer("1")


def test_errors_name_netsuites_code_and_detail(api, erp) -> None:
    api.get("/record/v1/customer/9").mock(
        return_value=error(404, "NONEXISTENT_ID", "The record instance does not exist.")
    )
    api.patch("/record/v1/customer/1").mock(
        return_value=error(400, "USER_ERROR", "Please enter value(s) for: Company Name")
    )
    with pytest.raises(NotFound) as missing:
        erp.get_customer("9")
    with pytest.raises(ValidationFailed) as refused:
        erp.deactivate_customer("1", "merged")
    assert "NONEXISTENT_ID" in str(missing.value) and "USER_ERROR: Please enter" in str(refused.value)


def test_without_the_custom_column_line_refs_are_the_registrys_and_netsuite_reports_none(erp) -> None:
    assert erp.capabilities.line_refs is LineRefs.REGISTRY and erp.billed_refs(["time:1"]) == {}
    stored = netsuite.capabilities(
        netsuite.parse_connection({**SECRET, "fields": {"concord_ref_column": "custcol_concord_ref"}})
    )
    assert stored.line_refs is LineRefs.STORED and stored.draft_invoices.value == "emulated"
