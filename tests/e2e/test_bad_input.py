"""Every refused delivery gets its 4xx with a JSON error body, and nothing reaches the bus."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx
import pytest

from concord.ingress.standard_webhooks import sign_headers
from concord.local.demo_secrets import demo_signing_secret
from concord.local.inspect import LocalView
from concord.local.sender import Delivery, canonical_delivery

pytestmark = pytest.mark.e2e

CRM = demo_signing_secret("crm")
ACCOUNT = {"account_id": "A-1", "name": "Acme"}


def signed_raw(body: bytes, content_type: str = "application/json", secret: str = CRM) -> Delivery:
    delivery_id = f"msg_raw_{abs(hash(body))}_{time.time_ns()}"
    headers = {"content-type": content_type, **sign_headers(secret, delivery_id, int(time.time()), body)}
    return Delivery(delivery_id, body, headers)


def nested(depth: int) -> bytes:
    return ("[" * depth + "]" * depth).encode()


CASES: dict[str, tuple[str, Callable[[], Delivery], int, str]] = {
    "unknown source": ("nosuch", lambda: canonical_delivery(CRM, "AccountChanged", ACCOUNT), 404, "unknown_source"),
    "no signature headers": (
        "crm",
        lambda: Delivery(
            "x", canonical_delivery(CRM, "AccountChanged", ACCOUNT).body, {"content-type": "application/json"}
        ),
        401,
        "signature_missing",
    ),
    "signed by another source": (
        "crm",
        lambda: canonical_delivery(demo_signing_secret("erp"), "AccountChanged", ACCOUNT),
        401,
        "signature_invalid",
    ),
    "signature of another body": (
        "crm",
        lambda: _swap_body(canonical_delivery(CRM, "AccountChanged", ACCOUNT)),
        401,
        "signature_invalid",
    ),
    "timestamp 10 minutes old": (
        "crm",
        lambda: canonical_delivery(CRM, "AccountChanged", ACCOUNT, timestamp=int(time.time()) - 600),
        401,
        "timestamp_out_of_tolerance",
    ),
    "timestamp 10 minutes ahead": (
        "crm",
        lambda: canonical_delivery(CRM, "AccountChanged", ACCOUNT, timestamp=int(time.time()) + 600),
        401,
        "timestamp_out_of_tolerance",
    ),
    "PSA announcing an account change": (
        "psa",
        lambda: canonical_delivery(demo_signing_secret("psa"), "AccountChanged", ACCOUNT),
        403,
        "producer_not_allowed",
    ),
    "body over the limit": (
        "crm",
        lambda: signed_raw(b'{"pad": "' + b"x" * (256 * 1024) + b'"}'),
        413,
        "payload_too_large",
    ),
    "text/plain": ("crm", lambda: signed_raw(b"{}", content_type="text/plain"), 415, "unsupported_media_type"),
    "no content type": ("crm", lambda: signed_raw(b"{}", content_type=""), 415, "unsupported_media_type"),
    "not JSON": ("crm", lambda: signed_raw(b"{'single': quotes}"), 400, "malformed_payload"),
    "not UTF-8": ("crm", lambda: signed_raw(b'{"name": "\xff\xfe"}'), 400, "malformed_payload"),
    "nested 100 deep": ("crm", lambda: signed_raw(nested(100)), 400, "malformed_payload"),
    "JSON but not an event": ("crm", lambda: signed_raw(b'["a", "list"]'), 422, "invalid_event"),
    "unknown event type": ("crm", lambda: canonical_delivery(CRM, "AccountDeleted", ACCOUNT), 422, "invalid_event"),
    "event data invalid": (
        "crm",
        lambda: canonical_delivery(CRM, "AccountChanged", {"account_id": "", "name": "x"}),
        422,
        "invalid_event",
    ),
    "unexpected field in data": (
        "crm",
        lambda: canonical_delivery(CRM, "AccountChanged", {**ACCOUNT, "'; DROP TABLE x; --": 1}),
        422,
        "invalid_event",
    ),
    "timestamp without zone": (
        "crm",
        lambda: signed_raw(
            json.dumps({"type": "AccountChanged", "timestamp": "2026-01-01T00:00:00", "data": ACCOUNT}).encode()
        ),
        422,
        "invalid_event",
    ),
}


def _swap_body(delivery: Delivery) -> Delivery:
    return Delivery(delivery.delivery_id, delivery.body.replace(b"Acme", b"Evil"), delivery.headers)


@pytest.mark.parametrize("case", list(CASES))
def test_refused_with_its_status_and_nothing_on_the_bus(case: str, quiet_bus: LocalView, http: httpx.Client) -> None:
    source, make, status, error = CASES[case]
    delivery = make()

    response = http.post(f"{quiet_bus.state.webhook_url}/{source}", content=delivery.body, headers=delivery.headers)

    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error
    assert "Traceback" not in response.text
    time.sleep(0.3)
    assert quiet_bus.drain_tap() == []


def test_an_unrouted_path_is_404(view: LocalView, http: httpx.Client) -> None:
    assert http.post(f"{view.state.webhook_url}/crm/extra", content=b"{}").status_code == 404
    assert http.get(f"{view.state.webhook_url}/crm").status_code == 404
