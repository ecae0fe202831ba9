"""Reading a delivery from the API Gateway event, and the byte scans that spare most bodies the
careful checks: each shortcut must decide exactly as the careful path does."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from concord.ingress.errors import MalformedPayload, MalformedRequest
from concord.ingress.http import webhook_request
from concord.ingress.schemes import all_schemes
from concord.ingress.service import MAX_JSON_INTEGER_DIGITS, parse_json
from concord.ingress.vendors.business_central.mappers import entity_set, record_id


def _event(headers: dict[str, object], query: dict[str, str] | None = None, host: str = "hooks.example.com") -> dict:
    return {
        "resource": "/webhooks/{source}",
        "path": "/webhooks/hubspot",
        "httpMethod": "POST",
        "headers": headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {name: [value] for name, value in (query or {}).items()} or None,
        "requestContext": {"domainName": host, "path": "/prod/webhooks/hubspot"},
        "body": "{}",
        "isBase64Encoded": False,
    }


def test_the_called_url_is_worked_out_only_when_the_scheme_signs_it() -> None:
    event = _event({"Host": "hooks.example.com"}, {"token": "t"})
    assert webhook_request(event, "hubspot", None).url == "https://hooks.example.com/prod/webhooks/hubspot?token=t"
    assert webhook_request(event, "hubspot", None, with_url=False).url == ""


def test_only_hubspot_signs_the_url() -> None:
    assert {name for name, scheme in all_schemes().items() if scheme.signs_url} == {"hubspot"}


def test_a_header_value_that_is_not_text_takes_the_careful_path_and_is_kept() -> None:
    request = webhook_request(_event({"X-Count": 5, "Content-Type": "application/json"}), "crm", None)
    assert request.headers == {"x-count": 5, "content-type": "application/json"}


@pytest.mark.parametrize(
    "event, what",
    [
        (_event({"X-Name": "caf\udce9"}), "header"),
        (_event({"X-Name": "café"}, {"q": "\ud800"}), "query parameter"),
        (_event({"X-Name": "café"}, host="h\udfff.example.com"), "host"),
    ],
)
def test_a_lone_surrogate_is_refused_and_named_even_beside_other_non_ascii_text(event: dict, what: str) -> None:
    with pytest.raises(MalformedRequest, match=f"a {what} is not valid Unicode"):
        webhook_request(event, "crm", None)


def test_non_ascii_text_that_is_valid_unicode_is_accepted() -> None:
    request = webhook_request(_event({"X-Name": "café"}, {"q": "ß"}, host="bücher.example"), "crm", None)
    assert request.headers["x-name"] == "café"
    assert request.query == {"q": "ß"}


@pytest.mark.parametrize("digits", [MAX_JSON_INTEGER_DIGITS + 1, 400])
def test_an_integer_longer_than_allowed_is_refused_beside_many_other_digits(digits: int) -> None:
    # Enough digits elsewhere that the count does not rule the long run out.
    body = b'{"ids": [' + b",".join(b"1234567890" for _ in range(10)) + b'], "n": ' + b"7" * digits + b"}"
    with pytest.raises(MalformedPayload, match="more than 64 digits"):
        parse_json(body, 32)


def test_a_long_digit_run_inside_a_string_is_only_text() -> None:
    body = b'{"ref": "' + b"9" * 200 + b'", "n": 12}'
    assert parse_json(body, 32) == {"ref": "9" * 200, "n": 12}


# The search over a whole resource URL that Business Central's mapper replaced with a search
# from the last segment: both must find the same entity set and key.
_WHOLE_URL = re.compile(r"([A-Za-z][A-Za-z0-9]*)(?:\(([^/]*)\))?/?$")


def _reference(resource: str) -> tuple[str, str | None]:
    match = _WHOLE_URL.search(resource.split("?", 1)[0])
    key = (match.group(2) or "").strip("'") if match else ""
    guid = re.fullmatch(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}", key)
    return (match.group(1) if match else "unknown"), (key if guid else None)


@given(st.text(alphabet="ab1(/)'?\n-", max_size=16))
def test_the_last_segment_search_finds_what_a_whole_url_search_finds(resource: str) -> None:
    assert (entity_set(resource), record_id(resource)) == _reference(resource)


def test_a_business_central_resource_url_names_its_entity_set_and_key() -> None:
    key = "5d115c9c-44e3-ea11-bb43-000d3a2feca1"
    resource = (
        f"https://api.businesscentral.dynamics.com/v2.0/t/production/api/v2.0/companies({key})/salesInvoices({key})"
    )
    assert (entity_set(resource), record_id(resource)) == _reference(resource) == ("salesInvoices", key)
    assert entity_set(resource + "/") == "salesInvoices"
    assert (entity_set("https://x/api/v2.0/salesInvoices?$filter=a/b"), record_id("https://x/salesInvoices")) == (
        "salesInvoices",
        None,
    )
