"""HubSpot v1 signatures (CRM-object webhooks of static-token apps): HubSpot's own documented
example must verify, v1-only is refused unless the source allows it, v2 never passes, and an
accepted v1 delivery is deduplicated by its events' eventIds and counted.

Documented example (client secret, body, resulting hash):
https://developers.hubspot.com/docs/faq/v1-request-validation
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from concord import observability
from concord.events.types import System
from concord.ingress import errors
from concord.ingress.delivery import WebhookRequest
from concord.ingress.sources import SourceConfig
from concord.ingress.vendors.hubspot import signature as hs
from concord.ingress.vendors.hubspot.scheme import HubSpotScheme

DOC_SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
DOC_BODY = b'[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]'  # noqa: E501 - the vendor's documented example, byte for byte
DOC_V1_HASH = "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"
# The documented v2 example (GET, no body): https://developers.hubspot.com/docs/faq/v2-request-validation
DOC_V2_HASH = "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e"
DOC_EVENT_TIME = dt.datetime.fromtimestamp(1564113600, tz=dt.UTC)
URL = "https://www.example.com/webhook_uri"
SOURCE = SourceConfig(scheme="hubspot", system=System.CRM, legal_entity="acme-us")


def _v1(body: bytes, signature: str, version: str = "v1") -> WebhookRequest:
    return WebhookRequest(
        source="hubspot",
        headers={"x-hubspot-signature": signature, "x-hubspot-signature-version": version},
        body=body,
        url=URL,
    )


def _allowing(allow_v1: bool = True) -> hs.HubSpotSecret:
    return hs.HubSpotSecret(client_secrets=[DOC_SECRET], allow_v1=allow_v1)


def test_the_documented_v1_example_hashes_as_hubspot_says() -> None:
    assert hs.signature_v1(DOC_SECRET, DOC_BODY) == DOC_V1_HASH


def test_the_documented_v1_example_verifies_for_a_source_that_allows_v1() -> None:
    assert hs.verify(_allowing(), _v1(DOC_BODY, DOC_V1_HASH), DOC_EVENT_TIME).timestamp is None


def test_a_v1_only_delivery_is_refused_by_default() -> None:
    with pytest.raises(errors.SignatureMissing, match="does not accept v1"):
        hs.verify(_allowing(False), _v1(DOC_BODY, DOC_V1_HASH), DOC_EVENT_TIME)


def test_a_v1_signature_over_another_body_is_invalid() -> None:
    with pytest.raises(errors.SignatureInvalid):
        hs.verify(_allowing(), _v1(DOC_BODY.replace(b'"objectId":123', b'"objectId":124'), DOC_V1_HASH), DOC_EVENT_TIME)


def test_v2_is_refused_even_where_v1_is_allowed() -> None:
    with pytest.raises(errors.SignatureMissing, match="v2 is not accepted"):
        hs.verify(_allowing(), _v1(b"", DOC_V2_HASH, version="v2"), DOC_EVENT_TIME)


def test_when_v3_is_present_it_decides_and_a_valid_v1_beside_it_does_not_help() -> None:
    headers = {
        "x-hubspot-signature": DOC_V1_HASH,
        "x-hubspot-signature-version": "v1",
        "x-hubspot-signature-v3": "bm90LXRoZS1zaWduYXR1cmU=",
        "x-hubspot-request-timestamp": str(int(DOC_EVENT_TIME.timestamp() * 1000)),
    }
    with pytest.raises(errors.SignatureInvalid):
        hs.verify(
            _allowing(), WebhookRequest(source="hubspot", headers=headers, body=DOC_BODY, url=URL), DOC_EVENT_TIME
        )


def _normalize(body: bytes, now: dt.datetime):
    request = _v1(body, hs.signature_v1(DOC_SECRET, body))
    secret = _allowing()
    verified = hs.verify(secret, request, now)
    return HubSpotScheme().normalize(request, "hubspot", SOURCE, secret, verified, json.loads(body), now)


def test_a_v1_delivery_is_identified_by_its_event_ids_and_counted() -> None:
    observability.metrics.clear_metrics()
    first = _normalize(DOC_BODY, DOC_EVENT_TIME + dt.timedelta(minutes=1))
    retried = _normalize(
        DOC_BODY.replace(b'"attemptNumber":0', b'"attemptNumber":3'), DOC_EVENT_TIME + dt.timedelta(hours=2)
    )
    other = _normalize(DOC_BODY.replace(b'"eventId":1', b'"eventId":2'), DOC_EVENT_TIME + dt.timedelta(minutes=1))

    assert first.delivery_id == retried.delivery_id != other.delivery_id
    assert first.delivery_id.startswith("hubspot-v1-")
    assert observability.metrics.metric_set["HubSpotV1DeliveriesAccepted"]["Value"] == [1.0, 1.0, 1.0]


def test_a_v1_delivery_older_than_hubspot_retries_is_refused_as_a_replay() -> None:
    with pytest.raises(errors.TimestampOutOfTolerance, match="replay"):
        _normalize(DOC_BODY, DOC_EVENT_TIME + dt.timedelta(hours=26))
