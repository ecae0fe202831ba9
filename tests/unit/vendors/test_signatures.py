"""Each verifier against vectors computed here from the vendor's documented algorithm.

The expected values are derived in the test with hmac/hashlib (see each comment); the code
under test only has to agree with them. Rotation (two active secrets), constant-time
comparison inputs, and each scheme's time rule are covered too.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac

import pytest

from concord.ingress import errors
from concord.ingress.delivery import WebhookRequest
from concord.ingress.vendors.business_central import signature as bc
from concord.ingress.vendors.hubspot import signature as hs
from concord.ingress.vendors.quickbooks import signature as qbo
from concord.ingress.vendors.salesforce import signature as sf
from concord.ingress.vendors.xero import signature as xero

NOW = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
NOW_MS = int(NOW.timestamp() * 1000)


def _request(body: bytes, headers: dict[str, str] | None = None, **kwargs) -> WebhookRequest:
    return WebhookRequest(source="s", headers=headers or {}, body=body, **kwargs)


# --------------------------------------------------------------------------- HubSpot v3
# Documented: base64(HMAC-SHA256(client secret, UTF-8(method + URI + body + timestamp))).

HS_SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
HS_BODY = b'[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]'  # noqa: E501 - the vendor's documented example, byte for byte
HS_URL = "https://www.example.com/webhook_uri"


def _hubspot_vector(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    source_string = f"{method}{uri}{body.decode()}{timestamp}".encode()
    return base64.b64encode(hmac.new(secret.encode(), source_string, hashlib.sha256).digest()).decode()


def _hs_headers(signature: str, timestamp: int | str = NOW_MS) -> dict[str, str]:
    return {"x-hubspot-signature-v3": signature, "x-hubspot-request-timestamp": str(timestamp)}


def test_hubspot_signature_matches_the_documented_derivation() -> None:
    expected = _hubspot_vector(HS_SECRET, "POST", HS_URL, HS_BODY, str(NOW_MS))
    assert hs.signature(HS_SECRET, "POST", HS_URL, HS_BODY, str(NOW_MS)) == expected


def test_hubspot_verify_accepts_the_vector() -> None:
    signature = _hubspot_vector(HS_SECRET, "POST", HS_URL, HS_BODY, str(NOW_MS))
    secret = hs.HubSpotSecret(client_secrets=[HS_SECRET])
    verified = hs.verify(secret, _request(HS_BODY, _hs_headers(signature), url=HS_URL), NOW)
    assert verified.timestamp == NOW


def test_hubspot_decodes_the_documented_url_encoded_characters_before_signing() -> None:
    # HubSpot signs the URI with %3A %2F %3F %40 %21 %24 %27 %28 %29 %2A %2C %3B decoded.
    called = "https://www.example.com/webhook_uri?state=a%3Ab%2Cc%40d%2ae"
    signature = _hubspot_vector(
        HS_SECRET, "POST", "https://www.example.com/webhook_uri?state=a:b,c@d*e", HS_BODY, str(NOW_MS)
    )
    secret = hs.HubSpotSecret(client_secrets=[HS_SECRET])
    hs.verify(secret, _request(HS_BODY, _hs_headers(signature), url=called), NOW)


def test_hubspot_keeps_other_escapes_encoded() -> None:
    assert hs.signed_uri("https://x.example/a%20b%3Fc") == "https://x.example/a%20b?c"


@pytest.mark.parametrize("offset_ms", [-300_000, 300_000, -1, 0])
def test_hubspot_timestamps_within_five_minutes_are_accepted(offset_ms: int) -> None:
    ts = NOW_MS + offset_ms
    signature = _hubspot_vector(HS_SECRET, "POST", HS_URL, HS_BODY, str(ts))
    hs.verify(
        hs.HubSpotSecret(client_secrets=[HS_SECRET]), _request(HS_BODY, _hs_headers(signature, ts), url=HS_URL), NOW
    )


@pytest.mark.parametrize("offset_ms", [-300_001, 300_001, -3_600_000])
def test_hubspot_timestamps_beyond_five_minutes_are_refused(offset_ms: int) -> None:
    ts = NOW_MS + offset_ms
    signature = _hubspot_vector(HS_SECRET, "POST", HS_URL, HS_BODY, str(ts))
    with pytest.raises(errors.TimestampOutOfTolerance):
        hs.verify(
            hs.HubSpotSecret(client_secrets=[HS_SECRET]), _request(HS_BODY, _hs_headers(signature, ts), url=HS_URL), NOW
        )


def test_hubspot_timestamp_in_seconds_is_stale() -> None:
    ts = NOW_MS // 1000
    signature = _hubspot_vector(HS_SECRET, "POST", HS_URL, HS_BODY, str(ts))
    with pytest.raises(errors.TimestampOutOfTolerance):
        hs.verify(
            hs.HubSpotSecret(client_secrets=[HS_SECRET]), _request(HS_BODY, _hs_headers(signature, ts), url=HS_URL), NOW
        )


def test_hubspot_accepts_either_active_client_secret() -> None:
    new = "new-client-secret-zzzzzzzz"
    secret = hs.HubSpotSecret(client_secrets=[new, HS_SECRET])
    for key in (new, HS_SECRET):
        signature = _hubspot_vector(key, "POST", HS_URL, HS_BODY, str(NOW_MS))
        hs.verify(secret, _request(HS_BODY, _hs_headers(signature), url=HS_URL), NOW)


@pytest.mark.parametrize("change", ["method", "url", "body", "timestamp"])
def test_hubspot_every_signed_part_matters(change: str) -> None:
    signature = _hubspot_vector(HS_SECRET, "POST", HS_URL, HS_BODY, str(NOW_MS))
    request = {
        "method": _request(HS_BODY, _hs_headers(signature), url=HS_URL, method="PUT"),
        "url": _request(HS_BODY, _hs_headers(signature), url=HS_URL + "/x"),
        "body": _request(HS_BODY + b" ", _hs_headers(signature), url=HS_URL),
        "timestamp": _request(HS_BODY, _hs_headers(signature, NOW_MS + 1), url=HS_URL),
    }[change]
    with pytest.raises(errors.SignatureInvalid):
        hs.verify(hs.HubSpotSecret(client_secrets=[HS_SECRET]), request, NOW)


@pytest.mark.parametrize(
    "headers", [{}, {"x-hubspot-signature-v3": "abc"}, {"x-hubspot-request-timestamp": str(NOW_MS)}]
)
def test_hubspot_requires_both_headers(headers: dict[str, str]) -> None:
    with pytest.raises(errors.SignatureMissing):
        hs.verify(hs.HubSpotSecret(client_secrets=[HS_SECRET]), _request(HS_BODY, headers, url=HS_URL), NOW)


@pytest.mark.parametrize("timestamp", ["12.5", "-1000", "１２３", "0x10", "9" * 30])
def test_hubspot_timestamp_must_be_digits(timestamp: str) -> None:
    with pytest.raises((errors.SignatureInvalid, errors.TimestampOutOfTolerance)):
        hs.verify(
            hs.HubSpotSecret(client_secrets=[HS_SECRET]),
            _request(HS_BODY, _hs_headers("x", timestamp), url=HS_URL),
            NOW,
        )


# --------------------------------------------------------------------------- Xero
# Documented: base64(HMAC-SHA256(webhook key, raw body)).

XERO_KEY = "OSd0eLlVIY9ZhViEqlDUh4+6n6M+Lo+eDaEJheJ6OCCgWwIz2D3JIAU6jPMipHRbgKTLz2uJ+xiACXGDBLrgdA=="
XERO_BODY = b'{"events":[],"firstEventSequence":0,"lastEventSequence":0,"entropy":"FMLHZNKCVK"}'


def _xero_vector(key: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def test_xero_signature_matches_the_documented_derivation() -> None:
    assert xero.signature(XERO_KEY, XERO_BODY) == _xero_vector(XERO_KEY, XERO_BODY)


def test_xero_verify_accepts_the_vector_with_either_key() -> None:
    secret = xero.XeroSecret(webhook_keys=["another-webhook-key-0000", XERO_KEY])
    xero.verify(secret, _request(XERO_BODY, {"x-xero-signature": _xero_vector(XERO_KEY, XERO_BODY)}))


@pytest.mark.parametrize("signature", ["", "   "])
def test_xero_requires_its_header(signature: str) -> None:
    with pytest.raises(errors.SignatureMissing):
        xero.verify(xero.XeroSecret(webhook_keys=[XERO_KEY]), _request(XERO_BODY, {"x-xero-signature": signature}))


def test_xero_hex_digest_is_not_the_documented_encoding() -> None:
    hex_digest = hmac.new(XERO_KEY.encode(), XERO_BODY, hashlib.sha256).hexdigest()
    with pytest.raises(errors.SignatureInvalid):
        xero.verify(xero.XeroSecret(webhook_keys=[XERO_KEY]), _request(XERO_BODY, {"x-xero-signature": hex_digest}))


def test_xero_key_is_not_base64_decoded() -> None:
    decoded_key_signature = base64.b64encode(
        hmac.new(base64.b64decode(XERO_KEY), XERO_BODY, hashlib.sha256).digest()
    ).decode()
    with pytest.raises(errors.SignatureInvalid):
        xero.verify(
            xero.XeroSecret(webhook_keys=[XERO_KEY]), _request(XERO_BODY, {"x-xero-signature": decoded_key_signature})
        )


# --------------------------------------------------------------------------- QuickBooks
# Documented: base64(HMAC-SHA256(verifier token, raw body)).

QBO_TOKEN = "8b0a3a1c-6f7d-4c5e-9e0f-verifier"
QBO_BODY = b'{"eventNotifications":[{"realmId":"1185883450","dataChangeEvent":{"entities":[{"name":"Invoice","id":"130","operation":"Create","lastUpdated":"2015-10-05T14:42:19-0700"}]}}]}'  # noqa: E501 - the vendor's documented example, byte for byte


def test_quickbooks_signature_matches_the_documented_derivation() -> None:
    expected = base64.b64encode(hmac.new(QBO_TOKEN.encode(), QBO_BODY, hashlib.sha256).digest()).decode()
    assert qbo.signature(QBO_TOKEN, QBO_BODY) == expected
    qbo.verify(qbo.QuickBooksSecret(verifier_tokens=[QBO_TOKEN]), _request(QBO_BODY, {"intuit-signature": expected}))


def test_quickbooks_accepts_the_previous_token_while_rotating() -> None:
    expected = base64.b64encode(hmac.new(QBO_TOKEN.encode(), QBO_BODY, hashlib.sha256).digest()).decode()
    qbo.verify(
        qbo.QuickBooksSecret(verifier_tokens=["new-verifier-token-000000", QBO_TOKEN]),
        _request(QBO_BODY, {"intuit-signature": expected}),
    )


def test_quickbooks_refuses_a_signature_of_another_body() -> None:
    expected = base64.b64encode(hmac.new(QBO_TOKEN.encode(), QBO_BODY, hashlib.sha256).digest()).decode()
    with pytest.raises(errors.SignatureInvalid):
        qbo.verify(
            qbo.QuickBooksSecret(verifier_tokens=[QBO_TOKEN]),
            _request(QBO_BODY + b"\n", {"intuit-signature": expected}),
        )


def test_quickbooks_requires_its_header() -> None:
    with pytest.raises(errors.SignatureMissing):
        qbo.verify(qbo.QuickBooksSecret(verifier_tokens=[QBO_TOKEN]), _request(QBO_BODY, {}))


# --------------------------------------------------------------------------- Salesforce

SF = sf.SalesforceSecret(
    organization_ids=["00D5e000000KQ2eEAG"], endpoint_tokens=["token-aaaaaaaaaaaaaaaa", "token-bbbbbbbbbbbbbbbb"]
)


@pytest.mark.parametrize("token", ["token-aaaaaaaaaaaaaaaa", "token-bbbbbbbbbbbbbbbb"])
def test_salesforce_accepts_either_endpoint_token(token: str) -> None:
    sf.verify_token(SF, _request(b"", query={"token": token}))


@pytest.mark.parametrize(
    "query, error",
    [
        ({}, errors.SignatureMissing),
        ({"token": ""}, errors.SignatureMissing),
        ({"token": "token-cccccccccccccccc"}, errors.SignatureInvalid),
        ({"token": "x" * 5000}, errors.SignatureInvalid),
    ],
)
def test_salesforce_refuses_a_missing_or_wrong_token(query: dict[str, str], error: type) -> None:
    with pytest.raises(error):
        sf.verify_token(SF, _request(b"", query=query))


@pytest.mark.parametrize("org", ["00D5e000000KQ2eEAG", "00D5e000000KQ2e"])
def test_salesforce_allows_the_listed_org_by_its_15_or_18_character_id(org: str) -> None:
    sf.verify_organization(SF, org)


@pytest.mark.parametrize("org", ["00D5e000000KQ2fEAG", "00d5e000000kq2eEAG", "", "00D5e000000KQ2"])
def test_salesforce_refuses_other_orgs(org: str) -> None:
    with pytest.raises(errors.OrganizationNotAllowed):
        sf.verify_organization(SF, org)


def test_salesforce_secret_requires_org_ids_and_tokens() -> None:
    with pytest.raises(ValueError):
        sf.SalesforceSecret(organization_ids=[], endpoint_tokens=["token-aaaaaaaaaaaaaaaa"])
    with pytest.raises(ValueError):
        sf.SalesforceSecret(organization_ids=["not-an-org"], endpoint_tokens=["token-aaaaaaaaaaaaaaaa"])


# --------------------------------------------------------------------------- Business Central

BC = bc.BusinessCentralSecret(client_states=["state-aaaaaaaaaaaaaaaa", "state-bbbbbbbbbbbbbbbb"])


def test_business_central_handshake_echoes_the_token_as_text() -> None:
    handshake = bc.handshake(_request(b"", query={"validationToken": "abc123"}))
    assert handshake is not None
    assert (handshake.reply.status, handshake.reply.content_type, handshake.reply.body) == (200, "text/plain", "abc123")


def test_business_central_without_a_token_is_not_a_handshake() -> None:
    assert bc.handshake(_request(b"{}")) is None


@pytest.mark.parametrize("token", ["", "a b", "<script>", "x" * 1025, "line\nbreak", "é"])
def test_business_central_refuses_tokens_it_cannot_echo_safely(token: str) -> None:
    if token == "<script>":
        assert (
            bc.handshake(_request(b"", query={"validationToken": token})) is not None
        )  # printable: echoed as text/plain
        return
    with pytest.raises(errors.InvalidHandshake):
        bc.handshake(_request(b"", query={"validationToken": token}))


def test_business_central_client_state_is_checked_on_every_item() -> None:
    good = {"clientState": "state-aaaaaaaaaaaaaaaa"}
    bc.verify_client_states(BC, [good, {"clientState": "state-bbbbbbbbbbbbbbbb"}])
    with pytest.raises(errors.SignatureInvalid):
        bc.verify_client_states(BC, [good, {"clientState": "state-cccccccccccccccc"}])
    with pytest.raises(errors.SignatureMissing):
        bc.verify_client_states(BC, [good, {}])
    with pytest.raises(errors.SignatureMissing):
        bc.verify_client_states(BC, [good, {"clientState": 7}])


@pytest.mark.parametrize("payload", [[], {"value": "x"}, {"value": [1]}, {"items": []}])
def test_business_central_body_must_be_a_notification_list(payload: object) -> None:
    with pytest.raises(errors.InvalidEvent):
        bc.notification_items(payload)


# --------------------------------------------------------------------------- secrets


@pytest.mark.parametrize(
    "model, value",
    [
        (hs.HubSpotSecret, {"client_secrets": []}),
        (hs.HubSpotSecret, {"client_secrets": ["a", "b", "c"]}),
        (hs.HubSpotSecret, {"client_secrets": ["short"]}),
        (xero.XeroSecret, {"webhook_keys": ["has spaces in it xxxxxxxx"]}),
        (qbo.QuickBooksSecret, {"verifier_tokens": ["x" * 16], "extra": 1}),
        (bc.BusinessCentralSecret, {"signing_secrets": ["x" * 16]}),
    ],
)
def test_vendor_secrets_are_validated(model: type, value: dict) -> None:
    with pytest.raises(ValueError):
        model.model_validate(value)
