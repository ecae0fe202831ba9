"""The registry of signature schemes, by the name a source configures (SourceConfig.scheme)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from . import standard_webhooks
from .canonical import to_canonical_event
from .delivery import AcceptedDelivery, Normalized, Reply, Verified, WebhookRequest
from .scheme import Scheme, sha256_hex
from .sources import SourceConfig, WebhookSecret
from .vendors.business_central.scheme import BusinessCentralScheme
from .vendors.hubspot.scheme import HubSpotScheme
from .vendors.quickbooks.scheme import QuickBooksScheme
from .vendors.salesforce.scheme import SalesforceScheme
from .vendors.xero.scheme import XeroScheme


class StandardWebhooksScheme(Scheme):
    """Standard Webhooks signatures over Concord's canonical payload (Concord's own senders)."""

    name = "standard-webhooks"
    title = "Standard Webhooks (canonical payload)"
    doc_url = "https://www.standardwebhooks.com/"
    secret_model = WebhookSecret
    signature_headers = ("webhook-id", "webhook-timestamp", "webhook-signature")
    success_status = 202

    def coerce_secret(self, secret: Any) -> BaseModel:
        if isinstance(secret, Sequence) and not isinstance(secret, (str, bytes)):
            # A bare list of signing secrets (validated where it was read).
            return WebhookSecret.model_construct(signing_secrets=list(secret))
        return super().coerce_secret(secret)

    def verify(self, request: WebhookRequest, secret: Any, now: dt.datetime, tolerance: dt.timedelta) -> Verified:
        verified = standard_webhooks.verify(secret.signing_secrets, request.headers, request.body, now, tolerance)
        return Verified(delivery_id=verified.delivery_id, timestamp=verified.timestamp)

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


SCHEMES: dict[str, Scheme] = {
    scheme.name: scheme
    for scheme in (
        StandardWebhooksScheme(),
        HubSpotScheme(),
        XeroScheme(),
        QuickBooksScheme(),
        SalesforceScheme(),
        BusinessCentralScheme(),
    )
}


def scheme_for(name: str) -> Scheme:
    return SCHEMES[name]
