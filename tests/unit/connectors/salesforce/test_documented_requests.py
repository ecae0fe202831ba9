"""What the connectors send, checked with respx against request shapes from Salesforce's docs:

- token (client credentials): https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_client_credentials_flow.htm
- sObject Rows GET ?fields=:   https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_retrieve.htm
- query ?q=:                   https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_query.htm
- collections update:          https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_update.htm
- collections upsert:          https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_upsert.htm
- upsert by external id:       https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_upsert.htm
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from concord.connectors import certinia, salesforce
from concord.connectors.kit.cursors import TimeCursor
from concord.connectors.registry import ConnectorContext, Role
from concord.domain import FinancialStatus, ProjectPlan, TaskPlan
from concord.errors import ConfigurationError
from concord.events.types import Money

HOST = "https://acme.my.salesforce.com"
API = f"{HOST}/services/data/v67.0"
TOKEN = {
    "access_token": "00Dxx!token",
    "instance_url": HOST,
    "id": f"{HOST}/id/00Dxx/005xx",
    "token_type": "Bearer",
    "issued_at": "1700000000000",
    "signature": "c2ln",
    "scope": "api",
}
SECRET = {
    "kind": "salesforce",
    "instance_url": HOST,
    "auth": {"type": "client_credentials", "client_id": "3MVG9-key", "client_secret": "s3cret"},
}


def _context(secret: dict[str, Any]) -> ConnectorContext:
    return ConnectorContext(default_legal_entity="concord-us", reload_connection=lambda: secret)


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        router.post(f"{HOST}/services/oauth2/token").respond(200, json=TOKEN)
        yield router


def _soql(request: httpx.Request) -> str:
    return parse_qs(request.url.query.decode())["q"][0]


def _is_json_with_bearer(request: httpx.Request) -> bool:
    return (
        request.headers["Authorization"] == "Bearer 00Dxx!token"
        and request.headers.get("Content-Type", "application/json") == "application/json"
    )


def test_token_request_is_the_documented_client_credentials_form(api: respx.MockRouter) -> None:
    api.get(f"{API}/sobjects/Opportunity/006xx1").respond(
        200, json={"Id": "006xx1", "Concord_Financial_Status__c": None}
    )
    crm = salesforce.connect(Role.CRM, SECRET, _context(SECRET))
    assert crm.financial_status("006xx1") is None
    token = api.calls[0].request
    assert token.method == "POST" and token.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(token.content.decode()) == {
        "grant_type": ["client_credentials"],
        "client_id": ["3MVG9-key"],
        "client_secret": ["s3cret"],
    }


def test_get_customer_asks_for_the_configured_fields(api: respx.MockRouter) -> None:
    route = api.get(f"{API}/sobjects/Account/001xx1").respond(
        200,
        json={
            "attributes": {"type": "Account"},
            "Id": "001xx1",
            "Name": "Acme",
            "BillingStreet": None,
            "BillingCity": None,
            "BillingState": None,
            "BillingPostalCode": None,
            "BillingCountry": None,
            "CurrencyIsoCode": "USD",
            "VAT__c": "GB1",
            "Entity__c": None,
        },
    )
    secret = {**SECRET, "fields": {"tax_id": "VAT__c", "legal_entity": "Entity__c"}}
    customer = salesforce.connect(Role.CRM, secret, _context(secret)).get_customer("001xx1")
    request = route.calls.last.request
    assert _is_json_with_bearer(request)
    assert request.url.params["fields"].split(",") == [
        "Id",
        "Name",
        "BillingStreet",
        "BillingCity",
        "BillingState",
        "BillingPostalCode",
        "BillingCountry",
        "CurrencyIsoCode",
        "VAT__c",
        "Entity__c",
    ]
    assert (customer.tax_id, customer.legal_entity, customer.billing_address) == ("GB1", "concord-us", None)


def test_get_opportunity_is_one_query_with_a_line_item_subquery(api: respx.MockRouter) -> None:
    route = api.get(f"{API}/query").respond(
        200,
        json={
            "totalSize": 1,
            "done": True,
            "records": [
                {
                    "attributes": {"type": "Opportunity"},
                    "Id": "006xx1",
                    "AccountId": "001xx1",
                    "Name": "Deal",
                    "Amount": 1500.0,
                    "CurrencyIsoCode": "EUR",
                    "CloseDate": "2026-03-31",
                    "IsWon": True,
                    "OpportunityLineItems": {
                        "totalSize": 1,
                        "done": True,
                        "records": [
                            {
                                "attributes": {"type": "OpportunityLineItem"},
                                "Id": "00kxx1",
                                "Product2": {
                                    "attributes": {"type": "Product2"},
                                    "ProductCode": "CONS-1",
                                    "Name": "Consulting",
                                },
                                "Quantity": 10.0,
                                "UnitPrice": 150.0,
                                "Description": None,
                            }
                        ],
                    },
                }
            ],
        },
    )
    opportunity = salesforce.connect(Role.CRM, SECRET, _context(SECRET)).get_opportunity("006xx1")
    assert route.call_count == 1
    assert _soql(route.calls.last.request) == (
        "SELECT Id, AccountId, Name, Amount, CurrencyIsoCode, CloseDate, IsWon, "
        "(SELECT Id, Product2.ProductCode, Product2.Name, Quantity, UnitPrice, Description FROM OpportunityLineItems "
        "ORDER BY Id) FROM Opportunity WHERE Id = '006xx1'"
    )
    line = opportunity.lines[0]
    assert (line.service_item, line.description, line.unit_price) == (
        "CONS-1",
        "Consulting",
        Money(amount=Decimal(150), currency="EUR"),
    )


def test_line_items_that_come_in_pages_are_all_read(api: respx.MockRouter) -> None:
    def item(n: int) -> dict[str, Any]:
        return {
            "attributes": {"type": "OpportunityLineItem"},
            "Id": f"00kxx{n}",
            "Product2": {"attributes": {"type": "Product2"}, "ProductCode": "CONS-1", "Name": f"Work {n}"},
            "Quantity": 1.0,
            "UnitPrice": 150.0,
            "Description": None,
        }

    more = "/services/data/v67.0/query/01gxx-2000"
    api.get(f"{API}/query").respond(
        200,
        json={
            "totalSize": 1,
            "done": True,
            "records": [
                {
                    "attributes": {"type": "Opportunity"},
                    "Id": "006xx1",
                    "AccountId": "001xx1",
                    "Name": "Deal",
                    "Amount": 450.0,
                    "CurrencyIsoCode": "EUR",
                    "CloseDate": "2026-03-31",
                    "IsWon": True,
                    "OpportunityLineItems": {
                        "totalSize": 3,
                        "done": False,
                        "nextRecordsUrl": more,
                        "records": [item(1), item(2)],
                    },
                }
            ],
        },
    )
    rest = api.get(f"{HOST}{more}").respond(200, json={"totalSize": 3, "done": True, "records": [item(3)]})

    opportunity = salesforce.connect(Role.CRM, SECRET, _context(SECRET)).get_opportunity("006xx1")

    assert rest.call_count == 1
    assert [line.description for line in opportunity.lines] == ["Work 1", "Work 2", "Work 3"]


def test_statuses_go_as_collection_updates_with_attributes_and_ids(api: respx.MockRouter) -> None:
    answers = [
        [
            {"id": "006xx1", "success": True, "errors": []},
            {"success": False, "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "locked", "fields": []}]},
        ]
    ]
    route = api.patch(f"{API}/composite/sobjects").respond(200, json=answers[0])
    failures = salesforce.connect(Role.CRM, SECRET, _context(SECRET)).set_financial_statuses(
        {"006xx1": FinancialStatus.PAID, "006xx2": FinancialStatus.OVERDUE}
    )
    request = route.calls.last.request
    assert _is_json_with_bearer(request)
    assert json.loads(request.content) == {
        "allOrNone": False,
        "records": [
            {"attributes": {"type": "Opportunity"}, "id": "006xx1", "Concord_Financial_Status__c": "paid"},
            {"attributes": {"type": "Opportunity"}, "id": "006xx2", "Concord_Financial_Status__c": "overdue"},
        ],
    }
    assert list(failures) == ["006xx2"] and failures["006xx2"].error_class.value == "transient"


def test_polling_with_ties_neither_skips_nor_repeats(api: respx.MockRouter) -> None:
    tie = "2026-03-01T10:00:00.000+0000"
    pages = [
        [
            {"Id": "001A", "SystemModstamp": tie, "CreatedDate": tie},
            {"Id": "001B", "SystemModstamp": tie, "CreatedDate": tie},
        ],
        [{"Id": "001C", "SystemModstamp": tie, "CreatedDate": tie}],
    ]
    route = api.get(f"{API}/query").mock(
        side_effect=[httpx.Response(200, json={"totalSize": len(p), "done": True, "records": p}) for p in pages]
    )
    crm = salesforce.connect(Role.CRM, SECRET, _context(SECRET))
    start = crm.start_cursor("customer", dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC))

    first = crm.changes_since("customer", start, 2)
    second = crm.changes_since("customer", first.cursor, 2)

    soql = [_soql(call.request) for call in route.calls]
    assert soql[0] == (
        "SELECT Id, SystemModstamp, CreatedDate FROM Account WHERE SystemModstamp >= "
        "2026-03-01T10:00:00.000Z ORDER BY SystemModstamp, Id LIMIT 2"
    )
    assert soql[1] == (
        "SELECT Id, SystemModstamp, CreatedDate FROM Account WHERE (SystemModstamp > 2026-03-01T10:00:00.000Z "
        "OR (SystemModstamp = 2026-03-01T10:00:00.000Z AND Id NOT IN ('001A', '001B'))) "
        "ORDER BY SystemModstamp, Id LIMIT 2"
    )
    assert first.more and not second.more
    assert [c.record_id for c in first.changes + second.changes] == ["001A", "001B", "001C"]
    assert TimeCursor.decode(second.cursor).ids_at == {"001A", "001B", "001C"}


def test_task_upsert_is_one_collection_call_by_the_task_external_id(api: respx.MockRouter) -> None:
    secret = {**SECRET, "kind": "certinia", "org": "separate"}
    api.get(f"{API}/query").respond(200, json={"totalSize": 0, "done": True, "records": []})
    account = api.patch(f"{API}/sobjects/Account/Concord_Customer_Ref__c/customer-1").respond(
        201, json={"id": "001xx9", "success": True, "errors": [], "created": True}
    )
    project = api.patch(f"{API}/sobjects/pse__Proj__c/Concord_Ref__c/project-1").respond(
        201, json={"id": "a0Axx1", "success": True, "errors": [], "created": True}
    )
    tasks = api.patch(f"{API}/composite/sobjects/pse__Project_Task__c/Concord_Task_Ref__c").respond(
        200, json=[{"id": "a0Bxx1", "success": True, "errors": [], "created": True}]
    )
    budget = api.post(f"{API}/sobjects/pse__Budget__c").respond(
        201, json={"id": "a0Cxx1", "success": True, "errors": []}
    )
    psa = certinia.connect(Role.PSA, secret, _context(secret))

    record = psa.create_project(
        ProjectPlan(
            external_ref="project-1",
            name="Rollout",
            customer_ref="customer-1",
            customer_name="Acme",
            budget=Money(amount=Decimal("500.00"), currency="USD"),
            tasks=[TaskPlan(name="Design", service_item="C")],
        )
    )

    assert record.model_dump() == {"project_id": "a0Axx1", "client_id": "001xx9", "task_ids": {"Design": "a0Bxx1"}}
    assert json.loads(account.calls.last.request.content) == {"Name": "Acme"}
    assert "Concord_Ref__c" not in json.loads(project.calls.last.request.content)  # the ext id is in the URL
    assert json.loads(tasks.calls.last.request.content) == {
        "allOrNone": True,
        "records": [
            {
                "attributes": {"type": "pse__Project_Task__c"},
                "Name": "Design",
                "pse__Project__c": "a0Axx1",
                "Concord_Task_Ref__c": "project-1:1",
            }
        ],
    }
    assert json.loads(budget.calls.last.request.content)["pse__Amount__c"] == 500.0


def test_rotated_credentials_are_re_read_after_a_401(api: respx.MockRouter) -> None:
    rotated = {**SECRET, "auth": {**SECRET["auth"], "client_secret": "rotated"}}
    api.get(f"{API}/sobjects/Opportunity/006xx1").mock(
        side_effect=[
            httpx.Response(401, json=[{"errorCode": "INVALID_SESSION_ID", "message": "Session expired or invalid"}]),
            httpx.Response(200, json={"Id": "006xx1", "Concord_Financial_Status__c": "paid"}),
        ]
    )
    crm = salesforce.connect(Role.CRM, SECRET, _context(rotated))
    assert crm.financial_status("006xx1") is FinancialStatus.PAID
    token_forms = [parse_qs(c.request.content.decode()) for c in api.calls if c.request.url.path.endswith("/token")]
    assert [form["client_secret"] for form in token_forms] == [["s3cret"], ["rotated"]]


def test_a_bad_connection_names_its_fields_and_never_its_secret() -> None:
    bad = {
        "kind": "salesforce",
        "instance_url": HOST,
        "auth": {"type": "client_credentials", "client_id": "k", "client_secret": "s3cret"},
        "colour": "red",
    }
    with pytest.raises(ConfigurationError) as raised:
        salesforce.connect(Role.CRM, bad, _context(bad))
    assert "colour" in str(raised.value) and "s3cret" not in str(raised.value)


def test_jwt_bearer_sends_a_signed_assertion_for_the_audience(api: respx.MockRouter) -> None:
    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    secret = {
        "kind": "salesforce",
        "instance_url": HOST,
        "auth": {
            "type": "jwt_bearer",
            "client_id": "3MVG9-key",
            "username": "integration@acme.com",
            "private_key": pem,
            "audience": "https://test.salesforce.com",
        },
    }
    api.get(f"{API}/sobjects/Opportunity/006xx1").respond(
        200, json={"Id": "006xx1", "Concord_Financial_Status__c": None}
    )
    salesforce.connect(Role.CRM, secret, _context(secret)).financial_status("006xx1")
    form = parse_qs(api.calls[0].request.content.decode())
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    claims = jwt.decode(
        form["assertion"][0], key.public_key(), algorithms=["RS256"], audience="https://test.salesforce.com"
    )
    assert (claims["iss"], claims["sub"]) == ("3MVG9-key", "integration@acme.com")
