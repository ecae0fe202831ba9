"""/webhooks/{source} behind every way API Gateway can be reached, with proxy events shaped as
API Gateway builds them for each (https://docs.aws.amazon.com/apigateway/latest/developerguide/
how-to-custom-domains.html, rest-api-mappings):

- the default execute-api URL: `path` is the resource path, `requestContext.path` has the stage;
- a custom domain with a base-path mapping: `path` and `requestContext.path` both carry the base
  path, neither the stage;
- a custom domain mapped at its root: both are the resource path.

Routing must use the resource API Gateway matched, and HubSpot v3 must be verified against the
URL the vendor called.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from . import senders
from .harness import (
    CRM_SECRET,
    HUBSPOT_SECRET,
    SOURCES,
    Ingest,
    api_event,
    body_of,
    ingest,  # noqa: F401  (fixture)
)
from .senders import Sent


@dataclass(frozen=True)
class Deployment:
    host: str
    url_prefix: str  # what precedes /webhooks/<source> in the URL the vendor calls
    path_prefix: str  # what precedes it in the event's `path`


DEPLOYMENTS = {
    "execute-api-with-stage": Deployment("abc123defg.execute-api.us-east-1.amazonaws.com", "/prod", ""),
    "custom-domain-base-path": Deployment("hooks.example.com", "/concord", "/concord"),
    "custom-domain-multi-level-base-path": Deployment(
        "hooks.example.com", "/integrations/concord", "/integrations/concord"
    ),
    "custom-domain-root": Deployment("hooks.example.com", "", ""),
}


def event_for(deployment: Deployment, sent: Sent, source: str | None = None) -> dict[str, Any]:
    source = source or sent.source
    event = api_event(source, sent)
    event["path"] = f"{deployment.path_prefix}/webhooks/{source}"
    event["headers"]["Host"] = deployment.host
    event["multiValueHeaders"]["Host"] = [deployment.host]
    event["requestContext"] = {
        **event["requestContext"],
        "path": f"{deployment.url_prefix}/webhooks/{source}",
        "domainName": deployment.host,
        "domainPrefix": deployment.host.split(".")[0],
    }
    return event


def called_url(deployment: Deployment, source: str) -> str:
    return f"https://{deployment.host}{deployment.url_prefix}/webhooks/{source}"


def post(ingest: Ingest, event: dict[str, Any]) -> dict[str, Any]:
    return ingest.handler.handler(event, ingest.context)


@pytest.mark.parametrize("name", list(DEPLOYMENTS))
def test_a_canonical_delivery_is_routed_on_the_resource_whatever_the_base_path(name: str, ingest: Ingest) -> None:
    sent = senders.standard_webhooks("crm", CRM_SECRET, senders.canonical_body())

    response = post(ingest, event_for(DEPLOYMENTS[name], sent))

    assert response["statusCode"] == 202, response["body"]
    assert ingest.bus_count() == 1


@pytest.mark.parametrize("name", list(DEPLOYMENTS))
def test_hubspot_is_verified_against_the_url_it_called(name: str, ingest: Ingest) -> None:
    deployment = DEPLOYMENTS[name]
    body = senders.hubspot_events()

    genuine = post(
        ingest,
        event_for(deployment, senders.hubspot("hubspot", HUBSPOT_SECRET, body, called_url(deployment, "hubspot"))),
    )

    assert genuine["statusCode"] == 202, genuine["body"]


@pytest.mark.parametrize(
    "name", ["execute-api-with-stage", "custom-domain-base-path", "custom-domain-multi-level-base-path"]
)
def test_hubspot_signed_over_the_resource_path_alone_is_forged(name: str, ingest: Ingest) -> None:
    deployment = DEPLOYMENTS[name]
    wrong_url = f"https://{deployment.host}/webhooks/hubspot"  # the base path or stage left out
    sent = senders.hubspot("hubspot", HUBSPOT_SECRET, senders.hubspot_events(), wrong_url)

    response = post(ingest, event_for(deployment, sent))

    assert (response["statusCode"], body_of(response)["error"]) == (401, "signature_invalid")


def test_behind_a_proxy_the_configured_public_url_is_what_hubspot_signs(
    ingest: Ingest, monkeypatch: pytest.MonkeyPatch
) -> None:
    # CloudFront in front of a custom domain with a base path: the function sees the custom
    # domain's host and path, the vendor called CloudFront's.
    public = "https://webhooks.acme.example/hubspot"
    monkeypatch.setenv(
        "WEBHOOK_SOURCES", json.dumps({**SOURCES, "hubspot": {**SOURCES["hubspot"], "public_url": public}})
    )
    deployment = DEPLOYMENTS["custom-domain-base-path"]
    body = senders.hubspot_events()

    as_called = post(ingest, event_for(deployment, senders.hubspot("hubspot", HUBSPOT_SECRET, body, public)))
    as_seen = post(
        ingest,
        event_for(deployment, senders.hubspot("hubspot", HUBSPOT_SECRET, body, called_url(deployment, "hubspot"))),
    )

    assert as_called["statusCode"] == 202, as_called["body"]
    assert as_seen["statusCode"] == 401


@pytest.mark.parametrize("name", list(DEPLOYMENTS))
def test_an_unknown_source_under_a_base_path_is_404(name: str, ingest: Ingest) -> None:
    sent = senders.standard_webhooks("nosuch", CRM_SECRET, senders.canonical_body())

    response = post(ingest, event_for(DEPLOYMENTS[name], sent))

    assert (response["statusCode"], body_of(response)["error"]) == (404, "unknown_source")
    assert ingest.effects() == (0, 0, 0)
