"""Property-based tests (hypothesis): verifiers agree with the documented algorithms for any
input, any change to a signed request is refused, and no input, however odd, makes ingress
fail with anything but a refusal (4xx) or an acceptance."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from concord.ingress import errors
from concord.ingress.delivery import AcceptedDelivery, Handshake, WebhookRequest
from concord.ingress.service import accept_delivery, parse_json
from concord.ingress.sources import SourceConfig
from concord.ingress.xml_safety import parse_xml

from .vendors import senders

NOW = dt.datetime.now(dt.UTC)
SECRETS = {
    "hubspot": {"client_secrets": ["hubspot-client-secret-0001"]},
    "xero": {"webhook_keys": ["xero-webhook-key-000000001"]},
    "quickbooks": {"verifier_tokens": ["qbo-verifier-token-00001"]},
    "salesforce": {"organization_ids": ["00D5e000000KQ2eEAG"], "endpoint_tokens": ["sf-endpoint-token-00001"]},
    "business-central": {"client_states": ["bc-client-state-000001"]},
    "standard-webhooks": {"signing_secrets": ["whsec_" + base64.b64encode(b"s" * 32).decode()]},
}
SOURCES = {
    scheme: SourceConfig(scheme=scheme, system=system, legal_entity="us-01")
    for scheme, system in [
        ("hubspot", "crm"),
        ("xero", "erp"),
        ("quickbooks", "erp"),
        ("salesforce", "crm"),
        ("business-central", "erp"),
        ("standard-webhooks", "crm"),
    ]
}
URL = "https://hooks.example.com/prod/webhooks/x"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)


def _signed(scheme: str, body: bytes, content_type: str | None = None) -> WebhookRequest:
    """A genuinely credentialed request for `body` (documented algorithms, senders module)."""
    if scheme == "hubspot":
        sent = senders.hubspot("x", SECRETS[scheme]["client_secrets"][0], body, URL)
    elif scheme == "xero":
        sent = senders.xero("x", SECRETS[scheme]["webhook_keys"][0], body)
    elif scheme == "quickbooks":
        sent = senders.quickbooks("x", SECRETS[scheme]["verifier_tokens"][0], body)
    elif scheme == "salesforce":
        sent = senders.salesforce("x", SECRETS[scheme]["endpoint_tokens"][0], body)
    elif scheme == "business-central":
        sent = senders.business_central("x", body)
    else:
        sent = senders.standard_webhooks("x", SECRETS[scheme]["signing_secrets"][0], body)
    headers = {k.lower(): v for k, v in sent.headers.items()}
    if content_type is not None:
        headers["content-type"] = content_type
    return WebhookRequest("x", headers, body, url=URL, query=sent.query)


def _outcome(scheme: str, request: WebhookRequest) -> object:
    try:
        return accept_delivery(request, SOURCES[scheme], SECRETS[scheme], NOW)
    except errors.DeliveryRejected as refused:
        assert 400 <= refused.status < 500
        return refused


@pytest.mark.parametrize("scheme", ["hubspot", "xero", "quickbooks", "standard-webhooks"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=2000), flip=st.integers(min_value=0))
def test_any_change_to_a_signed_body_is_refused(scheme: str, body: bytes, flip: int) -> None:
    request = _signed(scheme, body)
    tampered_body = bytearray(body or b"\x00")
    tampered_body[flip % len(tampered_body)] ^= 0x01
    tampered = WebhookRequest(request.source, request.headers, bytes(tampered_body), url=request.url)
    with pytest.raises(errors.DeliveryRejected) as refused:
        accept_delivery(tampered, SOURCES[scheme], SECRETS[scheme], NOW)
    assert refused.value.status in (400, 401)


@pytest.mark.parametrize("scheme", list(SOURCES))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=json_values)
def test_any_signed_json_is_accepted_or_refused_never_a_crash(scheme: str, payload: object) -> None:
    body = (
        json.dumps(payload).encode()
        if scheme != "salesforce"
        else f"<a>{json.dumps(payload)}</a>".encode("utf-8", "surrogatepass")
    )
    outcome = _outcome(scheme, _signed(scheme, body))
    assert isinstance(outcome, (AcceptedDelivery, Handshake, errors.DeliveryRejected))


@pytest.mark.parametrize("scheme", list(SOURCES))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.binary(max_size=3000),
    headers=st.dictionaries(
        st.sampled_from(
            [
                "content-type",
                "x-hubspot-signature-v3",
                "x-hubspot-request-timestamp",
                "x-xero-signature",
                "intuit-signature",
                "webhook-id",
                "webhook-timestamp",
                "webhook-signature",
            ]
        ),
        st.text(max_size=80),
        max_size=5,
    ),
    query=st.dictionaries(st.sampled_from(["token", "validationToken"]), st.text(max_size=40), max_size=2),
)
def test_arbitrary_requests_are_refused_with_a_4xx(scheme: str, body: bytes, headers: dict, query: dict) -> None:
    outcome = _outcome(scheme, WebhookRequest("x", headers, body, url=URL, query=query))
    if isinstance(outcome, Handshake):
        assert outcome.reply.body == query["validationToken"]
    else:
        assert isinstance(outcome, errors.DeliveryRejected)


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=500) | st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_parse_json_returns_or_refuses(body: bytes) -> None:
    try:
        value = parse_json(body, 32)
    except errors.MalformedPayload:
        return
    json.dumps(value).encode("utf-8")  # whatever it returns can be serialized again


@settings(max_examples=200, deadline=None)
@given(
    body=st.binary(max_size=500)
    | st.text(max_size=300).map(lambda t: f"<r a='1'>{t}</r>".encode("utf-8", "surrogatepass"))
)
def test_parse_xml_returns_or_refuses(body: bytes) -> None:
    with contextlib.suppress(errors.MalformedPayload):
        parse_xml(body, 32)


@settings(max_examples=100, deadline=None)
@given(
    key=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=16, max_size=64),
    body=st.binary(max_size=500),
)
def test_the_xero_and_quickbooks_verifiers_agree_with_the_documented_hmac(key: str, body: bytes) -> None:
    from concord.ingress.vendors.quickbooks import signature as qbo
    from concord.ingress.vendors.xero import signature as xero

    documented = base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()
    assert xero.signature(key, body) == qbo.signature(key, body) == documented
