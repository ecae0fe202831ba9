"""The registry of signature schemes, by the name a source configures (SourceConfig.scheme)."""

from __future__ import annotations

import datetime as dt
import importlib
import json
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from pydantic import BaseModel

from . import standard_webhooks
from .canonical import to_canonical_event
from .delivery import AcceptedDelivery, Normalized, Reply, Verified, WebhookRequest
from .scheme import Scheme, sha256_hex
from .sources import SourceConfig, WebhookSecret


class StandardWebhooksScheme(Scheme):
    """Standard Webhooks signatures over Concord's canonical payload (Concord's own senders)."""

    name = "standard-webhooks"
    title = "Standard Webhooks (canonical payload)"
    doc_url = "https://www.standardwebhooks.com/"
    secret_model = WebhookSecret
    signature_headers = ("webhook-id", "webhook-timestamp", "webhook-signature")
    success_status = 202

    def coerce_secret(self, secret: Any) -> BaseModel:
        if isinstance(secret, WebhookSecret):  # as webhook_source_secret hands it over
            return secret
        if isinstance(secret, Sequence) and not isinstance(secret, (str, bytes)):
            # A bare list of signing secrets (validated where it was read).
            return WebhookSecret.model_construct(signing_secrets=list(secret))
        return super().coerce_secret(secret)

    def verify(self, request: WebhookRequest, secret: Any, now: dt.datetime, tolerance: dt.timedelta) -> Verified:
        return standard_webhooks.verify(secret.signing_secrets, request.headers, request.body, now, tolerance)

    def normalize(
        self,
        request: WebhookRequest,
        source_name: str,
        source: SourceConfig,
        secret: Any,
        verified: Verified,
        payload: Any,
        now: dt.datetime,
    ) -> Normalized:
        assert verified.delivery_id is not None
        event = to_canonical_event(source_name, source, verified.delivery_id, payload, ingested_at=now)
        return Normalized(delivery_id=verified.delivery_id, content_sha256=sha256_hex(request.body), events=(event,))

    def reply(self, accepted: AcceptedDelivery, result: Mapping[str, Any]) -> Reply:
        # Results remembered before deliveries could carry several events held one event's fields.
        [published] = (
            result["events"]
            if "events" in result
            else [{"event_id": result["event_id"], "event_type": result["event_type"]}]
        )
        return Reply(
            status=202,
            content_type="application/json",
            body=json.dumps({"status": "accepted", **published}),
        )


# Vendor schemes by name: (module under ingress.vendors, class). Each is imported when a source
# first uses it, so a function imports only the schemes of the sources it is called for.
_VENDOR_SCHEMES: dict[str, tuple[str, str]] = {
    "hubspot": ("hubspot", "HubSpotScheme"),
    "xero": ("xero", "XeroScheme"),
    "quickbooks": ("quickbooks", "QuickBooksScheme"),
    "salesforce": ("salesforce", "SalesforceScheme"),
    "business-central": ("business_central", "BusinessCentralScheme"),
}
_STANDARD = StandardWebhooksScheme()


@cache
def scheme_for(name: str) -> Scheme:
    """The scheme a source configures (KeyError for an unknown name)."""
    if name == _STANDARD.name:
        return _STANDARD
    package, class_name = _VENDOR_SCHEMES[name]
    module = importlib.import_module(f"{__package__}.vendors.{package}.scheme")
    scheme: Scheme = getattr(module, class_name)()
    return scheme


def all_schemes() -> dict[str, Scheme]:
    """Every scheme, by name (the OpenAPI document describes them all)."""
    return {name: scheme_for(name) for name in (_STANDARD.name, *_VENDOR_SCHEMES)}
