"""SalesforceClient against respx routes written from Salesforce's documentation examples (see fixtures/)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from concord.connectors.kit.auth import ClientSecret, JwtSigningKey
from concord.connectors.kit.budget import BudgetPolicy, RateBudget, in_memory_budget
from concord.connectors.kit.errors import AuthFailed, Conflict, NotFound, Throttled
from concord.connectors.salesforce.client import (
    SalesforceClient,
    client_credentials_auth,
    jwt_bearer_auth,
    soql_quote,
)
from concord.errors import TransientError, ValidationFailed
from concord.observability import logger

FIXTURES = Path(__file__).parent / "fixtures"
LOGIN = "https://login.salesforce.com"
INSTANCE = "https://acme.my.salesforce.com"
API = f"{INSTANCE}/services/data/v67.0"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


JWT = fixture("oauth_jwt_bearer")
ERRORS = fixture("errors")
TOKEN = JWT["token_response"]["access_token"]


class Keys:
    """`load_credentials` for the JWT flow: counts reads."""

    def __init__(self) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        self.reads = 0

    def __call__(self) -> JwtSigningKey:
        self.reads += 1
        return JwtSigningKey(
            client_id="3MVG9-consumer-key", subject="integration@acme.example", private_key=SecretStr(self.pem)
        )


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


@pytest.fixture
def budget() -> RateBudget:
    return in_memory_budget(BudgetPolicy(rate_per_second=20.0, burst=20), key="budget#salesforce#00Dxx0000001gPL")


@pytest.fixture
def sf(respx_mock: respx.MockRouter, keys: Keys, budget: RateBudget) -> SalesforceClient:
    keys.reads = 0
    respx_mock.post(f"{LOGIN}/services/oauth2/token", name="token").respond(200, json=JWT["token_response"])
    # Configured with the login host: the token's instance_url decides where API calls go.
    return SalesforceClient(
        instance_url=LOGIN, auth=jwt_bearer_auth(LOGIN, keys), budget=budget, org_id="00Dxx0000001gPL"
    )


def sent_json(route: respx.Route, call: int = 0) -> Any:
    return json.loads(route.calls[call].request.content)


def test_query_follows_next_records_url_with_a_bearer_token(sf: SalesforceClient, respx_mock: respx.MockRouter) -> None:
    pages = fixture("query")
    soql = "SELECT Name FROM Account"
    first = respx_mock.get(f"{API}/query", params={"q": soql}).respond(200, json=pages["first_page"])
    more = respx_mock.get(f"{INSTANCE}{pages['first_page']['nextRecordsUrl']}").respond(200, json=pages["next_page"])

    assert [record["Name"] for record in sf.query(soql)] == ["Test 1", "Test 2", "Test 3"]
    assert first.call_count == 1 and more.call_count == 1
    assert first.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert more.calls[0].request.url.query == b""  # nextRecordsUrl carries no parameters


def test_get_asks_for_the_named_fields(sf: SalesforceClient, respx_mock: respx.MockRouter) -> None:
    rows = fixture("sobject_rows")
    route = respx_mock.get(f"{API}/sobjects/Account/001D000000INjVeIAL", params={"fields": "Name,BillingCity"}).respond(
        200, json=rows["get_response"]
    )
    assert sf.get("Account", "001D000000INjVeIAL", ["Name", "BillingCity"])["BillingCity"] == "Portland"
    assert route.called


def test_create_posts_json_and_returns_the_new_id(sf: SalesforceClient, respx_mock: respx.MockRouter) -> None:
    rows = fixture("sobject_rows")
    route = respx_mock.post(f"{API}/sobjects/Account").respond(201, json=rows["create_response"])
    assert sf.create("Account", rows["create_request"]) == "001D000000IqhSLIAZ"
    request = route.calls[0].request
    assert request.headers["Content-Type"] == "application/json"
    assert sent_json(route) == rows["create_request"]


def test_update_patches_only_the_given_fields(sf: SalesforceClient, respx_mock: respx.MockRouter) -> None:
    rows = fixture("sobject_rows")
    route = respx_mock.patch(f"{API}/sobjects/Account/001D000000INjVeIAL").respond(204)
    assert sf.update("Account", "001D000000INjVeIAL", rows["update_request"]) is None
    assert sent_json(route) == {"BillingCity": "San Francisco"}


def test_upsert_by_external_id_created_and_updated(sf: SalesforceClient, respx_mock: respx.MockRouter) -> None:
    doc = fixture("upsert_external_id")
    route = respx_mock.patch(f"{API}/sobjects/Account/customExtIdField__c/11999")
    route.side_effect = [
        httpx.Response(201, json=doc["created_response"]),
        httpx.Response(200, json=doc["updated_response"]),
        httpx.Response(204),
    ]
    fields = {**doc["request"], "customExtIdField__c": "11999"}
    assert sf.upsert("Account", "customExtIdField__c", "11999", fields) == ("00190000001pPvHAAU", True)
    assert sf.upsert("Account", "customExtIdField__c", "11999", fields) == ("001D000000Kv3g5IAB", False)
    assert sf.upsert("Account", "customExtIdField__c", "11999", fields) == (None, False)
    assert sent_json(route) == doc["request"]  # the external id is in the URL, not the body


def test_an_external_id_value_cannot_escape_its_path_segment(
    sf: SalesforceClient, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.patch(url__regex=rf"^{API}/sobjects/Account/Ref__c/.+").respond(204)
    sf.upsert("Account", "Ref__c", "a/../../query?q=x", {"Name": "n"})
    assert (
        route.calls[0].request.url.raw_path
        == b"/services/data/v67.0/sobjects/Account/Ref__c/a%2F..%2F..%2Fquery%3Fq%3Dx"
    )


def test_an_external_id_matching_several_records_is_a_conflict(
    sf: SalesforceClient, respx_mock: respx.MockRouter
) -> None:
    doc = fixture("upsert_external_id")
    respx_mock.patch(f"{API}/sobjects/Account/customExtIdField__c/11999").respond(
        300, json=doc["multiple_matches_response"]
    )
    with pytest.raises(Conflict, match="more than one record"):
        sf.upsert("Account", "customExtIdField__c", "11999", doc["request"])


def test_request_limit_exceeded_is_a_throttle_and_slows_the_budget(
    sf: SalesforceClient, respx_mock: respx.MockRouter, budget: RateBudget
) -> None:
    answer = ERRORS["request_limit_exceeded"]
    respx_mock.get(f"{API}/sobjects/Account/001D000000INjVeIAL").respond(answer["status"], json=answer["body"])
    with pytest.raises(Throttled, match="REQUEST_LIMIT_EXCEEDED"):
        sf.get("Account", "001D000000INjVeIAL", ["Name"])
    state, _ = budget.store.load(budget.key)
    assert state.rate == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("case", "expected", "text"),
    [
        ("insufficient_access", AuthFailed, "INSUFFICIENT_ACCESS_OR_READONLY"),
        ("not_found", NotFound, "NOT_FOUND: The requested resource does not exist"),
        ("malformed_query", ValidationFailed, "MALFORMED_QUERY: unexpected token: FORM"),
        ("invalid_field", ValidationFailed, "INVALID_FIELD: No such column 'Nmae' on sobject of type Account (Nmae)"),
        ("server_unavailable", TransientError, "SERVER_UNAVAILABLE"),
    ],
)
def test_documented_errors_map_onto_concord_errors_with_the_vendor_message(
    sf: SalesforceClient, respx_mock: respx.MockRouter, case: str, expected: type[Exception], text: str
) -> None:
    answer = ERRORS[case]
    respx_mock.get(f"{API}/query").respond(answer["status"], json=answer["body"])
    with pytest.raises(expected) as raised:
        list(sf.query("SELECT Id FROM Account"))
    assert type(raised.value) is expected
    assert text in str(raised.value) and "salesforce query" in str(raised.value)
    assert TOKEN not in str(raised.value)


def test_an_invalid_session_renews_the_token_once_and_retries(
    sf: SalesforceClient, respx_mock: respx.MockRouter, keys: Keys
) -> None:
    expired = ERRORS["invalid_session_id"]
    route = respx_mock.patch(f"{API}/sobjects/Account/001D000000INjVeIAL")
    route.side_effect = [httpx.Response(expired["status"], json=expired["body"]), httpx.Response(204)]
    sf.update("Account", "001D000000INjVeIAL", {"Name": "n"})
    assert route.call_count == 2
    assert respx_mock.routes["token"].call_count == 2
    assert keys.reads == 2  # the key was read again in case it was rotated


def test_a_second_invalid_session_is_a_permanent_auth_error(sf: SalesforceClient, respx_mock: respx.MockRouter) -> None:
    expired = ERRORS["invalid_session_id"]
    route = respx_mock.patch(f"{API}/sobjects/Account/001D000000INjVeIAL").respond(
        expired["status"], json=expired["body"]
    )
    with pytest.raises(AuthFailed, match="INVALID_SESSION_ID"):
        sf.update("Account", "001D000000INjVeIAL", {"Name": "n"})
    assert route.call_count == 2


def test_invalid_grant_rereads_the_key_then_succeeds(
    respx_mock: respx.MockRouter, keys: Keys, budget: RateBudget
) -> None:
    keys.reads = 0
    token = respx_mock.post(f"{LOGIN}/services/oauth2/token")
    token.side_effect = [
        httpx.Response(400, json=JWT["invalid_grant"]),
        httpx.Response(200, json=JWT["token_response"]),
    ]
    api = respx_mock.get(f"{API}/sobjects/Account/001D000000INjVeIAL").respond(200, json={"Id": "001D000000INjVeIAL"})
    sf = SalesforceClient(instance_url=INSTANCE, auth=jwt_bearer_auth(LOGIN, keys), budget=budget)
    assert sf.get("Account", "001D000000INjVeIAL", ["Id"]) == {"Id": "001D000000INjVeIAL"}
    assert keys.reads == 2 and token.call_count == 2 and api.call_count == 1


def test_client_credentials_rotated_secret_is_picked_up(respx_mock: respx.MockRouter, budget: RateBudget) -> None:
    doc = fixture("oauth_client_credentials")
    secrets = iter(["consumer-secret-0", doc["request_form"]["client_secret"]])

    def load() -> ClientSecret:
        return ClientSecret(client_id=doc["request_form"]["client_id"], client_secret=SecretStr(next(secrets)))

    token = respx_mock.post(f"{INSTANCE}/services/oauth2/token")
    token.side_effect = [
        httpx.Response(400, json=doc["invalid_client_credentials"]),
        httpx.Response(200, json=doc["token_response"]),
    ]
    api = respx_mock.patch(f"{API}/sobjects/Account/001D000000INjVeIAL").respond(204)
    sf = SalesforceClient(instance_url=INSTANCE, auth=client_credentials_auth(INSTANCE, load), budget=budget)
    sf.update("Account", "001D000000INjVeIAL", {"Name": "n"})
    forms = [{k: v[0] for k, v in parse_qs(call.request.content.decode()).items()} for call in token.calls]
    assert forms[1] == doc["request_form"]
    assert forms[0]["client_secret"] == "consumer-secret-0"
    assert api.calls[0].request.headers["Authorization"] == f"Bearer {doc['token_response']['access_token']}"


def _accounts(count: int) -> list[dict[str, Any]]:
    return [{"Name": f"Account {n}", "Concord_Ref__c": f"ref-{n}"} for n in range(count)]


def test_a_collection_of_450_records_takes_three_calls_and_maps_every_result_back(
    sf: SalesforceClient, respx_mock: respx.MockRouter
) -> None:
    doc = fixture("collections")
    failing = {17, 230, 449}  # one failure in each chunk

    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        results = []
        for record in body["records"]:
            n = int(record["Concord_Ref__c"].removeprefix("ref-"))
            results.append(doc["upsert_failed"] if n in failing else {**doc["upsert_created"], "id": f"001RM{n:010d}"})
        return httpx.Response(200, json=results)

    route = respx_mock.patch(f"{API}/composite/sobjects/Account/Concord_Ref__c").mock(side_effect=answer)
    results = sf.upsert_collection("Account", "Concord_Ref__c", _accounts(450))

    assert [len(sent_json(route, call)["records"]) for call in range(route.call_count)] == [200, 200, 50]
    first = sent_json(route, 0)
    assert first["allOrNone"] is False
    assert first["records"][0] == {"attributes": {"type": "Account"}, "Name": "Account 0", "Concord_Ref__c": "ref-0"}
    assert [result.index for result in results] == list(range(450))
    assert {result.index for result in results if not result.success} == failing
    assert results[230].errors[0].code == "DUPLICATES_DETECTED"
    assert results[229].id == "001RM0000000229" and results[229].created is True


def test_a_collection_record_without_its_external_id_is_refused_before_any_call(
    sf: SalesforceClient, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.patch(f"{API}/composite/sobjects/Account/Concord_Ref__c").respond(200, json=[])
    with pytest.raises(ValidationFailed, match="record 1"):
        sf.upsert_collection("Account", "Concord_Ref__c", [{"Concord_Ref__c": "a"}, {"Name": "no ref"}])
    assert not route.called


def test_update_collection_sends_the_documented_body_and_maps_errors(
    sf: SalesforceClient, respx_mock: respx.MockRouter
) -> None:
    doc = fixture("collections")
    route = respx_mock.patch(f"{API}/composite/sobjects").respond(200, json=doc["update_response"])
    results = sf.update_collection(doc["update_request"]["records"])
    assert sent_json(route) == doc["update_request"]
    assert [(r.index, r.success) for r in results] == [(0, True), (1, False)]
    assert results[1].errors[0].code == "MALFORMED_ID" and results[1].errors[0].fields == ["Id"]


def test_the_api_usage_header_is_logged_and_measured(
    sf: SalesforceClient, respx_mock: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger._logger.addHandler(handler)
    try:
        respx_mock.patch(f"{API}/sobjects/Account/001D000000INjVeIAL").respond(
            204, headers={"Sforce-Limit-Info": "api-usage=18/5000"}
        )
        sf.update("Account", "001D000000INjVeIAL", {"Name": "n"})
    finally:
        logger._logger.removeHandler(handler)
    (line,) = [r for r in records if r.getMessage() == "vendor call"]
    assert (line.api_usage, line.api_allocation) == (18, 5000)
    usage = [json.loads(row) for row in capsys.readouterr().out.splitlines() if "VendorApiUsagePercent" in row]
    assert usage and usage[0]["VendorApiUsagePercent"] == [pytest.approx(0.36)]


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("O'Brien", r"'O\'Brien'"),
        ("back\\slash", r"'back\\slash'"),
        ("x' OR Name != '", r"'x\' OR Name != \''"),
        ("\\'", r"'\\\''"),
        ('say "hi"\n', r"""'say \"hi\"\n'"""),
    ],
)
def test_soql_quote_keeps_any_value_inside_its_literal(value: str, literal: str) -> None:
    assert soql_quote(value) == literal
