"""Requests whose credential is wrong, missing, stale or for another URL: forged signatures and
tokens per scheme, timestamps outside the tolerance, and deliveries under the custom domain's
base path that must still be refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable

from .. import senders
from ..senders import JSON, XML, Sent
from .kits import Credentials, Kit

# The local stack serves the API at its root and, like a custom domain's base-path mapping, here.
BASE_PATH = "/concord"


def forged_requests(
    kit: Kit, c: Credentials, url_of: Callable[[str], str]
) -> dict[str, tuple[Callable[[], Sent], int, tuple[str, ...]]]:
    body = kit.valid
    bad = (401, ("signature_invalid",))
    missing = (401, ("signature_missing",))
    if kit.scheme == "standard-webhooks":
        other = "whsec_" + base64.b64encode(b"an-attacker-guess-32-bytes-long!").decode()
        return {
            "wrong-secret": (lambda: senders.standard_webhooks("crm", other, body()), *bad),
            "other-body": (lambda: kit.sign(body()).with_body(body()), *bad),
            "v2-prefix": (lambda: _retag(kit.sign(body()), "webhook-signature", "v1,", "v2,"), *bad),
            "garbage-signature": (
                lambda: kit.sign(body()).with_headers(**{"webhook-signature": "v1,!!!not-base64!!!"}),
                *bad,
            ),
            "no-signature": (lambda: kit.sign(body()).without_header("webhook-signature"), *missing),
            "other-delivery-id": (lambda: kit.sign(body()).with_headers(**{"webhook-id": "msg_other"}), *bad),
            "unicode-signature": (lambda: kit.sign(body()).with_headers(**{"webhook-signature": "v1,ü" * 3}), *bad),
        }
    if kit.scheme == "hubspot":
        url = url_of("hubspot")
        return {
            "wrong-secret": (lambda: senders.hubspot("hubspot", "an-attacker-guess-0000", body(), url), *bad),
            "other-url": (lambda: senders.hubspot("hubspot", c.hubspot_secret, body(), url + "-evil"), *bad),
            "other-method": (lambda: senders.hubspot("hubspot", c.hubspot_secret, body(), url, method="GET"), *bad),
            "other-body": (lambda: kit.sign(body()).with_body(body()), *bad),
            "no-signature": (lambda: kit.sign(body()).without_header("X-HubSpot-Signature-v3"), *missing),
            "no-timestamp": (lambda: kit.sign(body()).without_header("X-HubSpot-Request-Timestamp"), *missing),
            "v1-signature-only": (lambda: _hubspot_v1_only(c.hubspot_secret, body()), *missing),
        }
    if kit.scheme in ("xero", "quickbooks"):
        header = "x-xero-signature" if kit.scheme == "xero" else "intuit-signature"
        key = c.xero_key if kit.scheme == "xero" else c.quickbooks_token
        make = senders.xero if kit.scheme == "xero" else senders.quickbooks
        return {
            "wrong-key": (lambda: make(kit.source, "an-attacker-guess-0000", body()), *bad),
            "other-body": (lambda: kit.sign(body()).with_body(body()), *bad),
            "hex-digest": (
                lambda: kit.sign(body()).with_headers(
                    **{header: hmac.new(key.encode(), b"x", hashlib.sha256).hexdigest()}
                ),
                *bad,
            ),
            "no-signature": (lambda: kit.sign(body()).without_header(header), *missing),
            "empty-signature": (lambda: kit.sign(body()).with_headers(**{header: ""}), *missing),
            "other-source-key": (
                lambda: make(kit.source, c.quickbooks_token if kit.scheme == "xero" else c.xero_key, body()),
                *bad,
            ),
            "overlong-signature": (lambda: kit.sign(body()).with_headers(**{header: "A" * 5000}), *bad),
        }
    if kit.scheme == "salesforce":
        foreign = "00D000000000666AAA"
        return {
            "no-token": (lambda: Sent("salesforce", body(), {"Content-Type": XML}), *missing),
            "wrong-token": (lambda: kit.sign(body()).with_query(token="an-attacker-guess-0000"), *bad),
            "other-source-token": (lambda: kit.sign(body()).with_query(token=c.business_central_state), *bad),
            "token-in-header": (
                lambda: Sent("salesforce", body(), {"Content-Type": XML, "token": c.salesforce_token}),
                *missing,
            ),
            "foreign-org": (lambda: kit.sign(senders.salesforce_message(foreign)), 403, ("organization_not_allowed",)),
            "org-case-changed": (
                lambda: kit.sign(senders.salesforce_message(c.salesforce_org.lower())),
                403,
                ("organization_not_allowed",),
            ),
            "no-org": (
                lambda: kit.sign(
                    senders.salesforce_message(c.salesforce_org).replace(
                        f"<OrganizationId>{c.salesforce_org}</OrganizationId>".encode(), b""
                    )
                ),
                422,
                ("invalid_event",),
            ),
        }
    state = c.business_central_state
    return {
        "wrong-client-state": (lambda: kit.sign(senders.business_central_payload("an-attacker-guess-0000")), *bad),
        "no-client-state": (lambda: kit.sign(_bc_without_state(senders.business_central_payload(state))), *missing),
        "one-bad-item": (
            lambda: kit.sign(
                _bc_merge(senders.business_central_payload(state), senders.business_central_payload("x" * 20))
            ),
            *bad,
        ),
        "prefix-of-state": (lambda: kit.sign(senders.business_central_payload(state[:10])), *bad),
        "state-with-space": (lambda: kit.sign(senders.business_central_payload(state + " ")), *bad),
        "empty-client-state": (lambda: kit.sign(senders.business_central_payload("")), *missing),
        "state-in-header": (
            lambda: kit.sign(_bc_without_state(senders.business_central_payload(state))).with_headers(
                clientState=state
            ),
            *missing,
        ),
        # Neither a handshake nor a notification: nothing carries a clientState.
        "empty-value": (lambda: kit.sign(b'{"value": []}'), *missing),
        "empty-value-state-in-header": (lambda: kit.sign(b'{"value": []}').with_headers(clientState=state), *missing),
    }


def stale_requests(kit: Kit, c: Credentials, url_of: Callable[[str], str]) -> dict[str, Callable[[], Sent]]:
    """Signed correctly, at a time outside the tolerance (computed when the case is sent)."""
    now = lambda: int(time.time())
    if kit.scheme == "standard-webhooks":
        sign = lambda ts: senders.standard_webhooks("crm", c.crm_secret, kit.valid(), timestamp=ts)
        return {
            "6-min-old": lambda: sign(now() - 360),
            "6-min-ahead": lambda: sign(now() + 360),
            "1-hour-old": lambda: sign(now() - 3600),
            "epoch": lambda: sign(0),
            "year-3000": lambda: sign(32_503_680_000),
            "milliseconds": lambda: sign(now() * 1000),
        }
    if kit.scheme == "hubspot":
        sign = lambda ms: senders.hubspot("hubspot", c.hubspot_secret, kit.valid(), url_of("hubspot"), timestamp_ms=ms)
        return {
            "6-min-old": lambda: sign((now() - 360) * 1000),
            "6-min-ahead": lambda: sign((now() + 360) * 1000),
            "1-hour-old": lambda: sign((now() - 3600) * 1000),
            "epoch": lambda: sign(0),
            "year-3000": lambda: sign(32_503_680_000_000),
            "seconds": lambda: sign(now()),
        }
    return {}


def _retag(sent: Sent, header: str, old: str, new: str) -> Sent:
    return sent.with_headers(**{header: sent.headers[header].replace(old, new)})


def _hubspot_v1_only(secret: str, body: bytes) -> Sent:
    v1 = hashlib.sha256(secret.encode() + body).hexdigest()
    return Sent("hubspot", body, {"Content-Type": JSON, "X-HubSpot-Signature": v1, "X-HubSpot-Signature-Version": "v1"})


def _bc_without_state(body: bytes) -> bytes:
    payload = json.loads(body)
    for item in payload["value"]:
        item.pop("clientState")
    return json.dumps(payload).encode()


def _bc_merge(first: bytes, second: bytes) -> bytes:
    return json.dumps({"value": json.loads(first)["value"] + json.loads(second)["value"]}).encode()


def base_path_requests(
    kit: Kit, c: Credentials, url_of: Callable[[str], str]
) -> dict[str, tuple[Callable[[], Sent], str, int, tuple[str, ...]]]:
    """Deliveries under the custom domain's base path that must still be refused."""
    cases: dict[str, tuple[Callable[[], Sent], str, int, tuple[str, ...]]] = {
        "other-source-name": (
            lambda: kit.sign(kit.valid()),
            f"{BASE_PATH}/webhooks/{kit.source}x",
            404,
            ("unknown_source",),
        ),
        "nul-in-source": (
            lambda: kit.sign(kit.valid()),
            f"{BASE_PATH}/webhooks/{kit.source}%00",
            404,
            ("unknown_source", "not_found"),
        ),
    }
    if kit.scheme == "hubspot":
        # Signed over the URL without the base path: not the URL HubSpot called.
        cases["signed-without-base-path"] = (
            lambda: kit.sign(kit.valid()),
            f"{BASE_PATH}/webhooks/{kit.source}",
            401,
            ("signature_invalid",),
        )
    if kit.scheme == "standard-webhooks":
        other = "whsec_" + base64.b64encode(b"an-attacker-guess-32-bytes-long!").decode()
        cases["wrong-secret"] = (
            lambda: senders.standard_webhooks("crm", other, kit.valid()),
            f"{BASE_PATH}/webhooks/crm",
            401,
            ("signature_invalid",),
        )
    return cases
