"""The HubSpot scheme: verify signature v3, record every event (see mappers)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ...delivery import Normalized, Verified, WebhookRequest
from ...scheme import Scheme, sha256_hex
from ...sources import SourceConfig
from ..common import canonical_json, parse_vendor
from . import signature
from .mappers import to_unprocessed
from .payloads import HubSpotDelivery


class HubSpotScheme(Scheme):
    name = "hubspot"
    title = "HubSpot webhooks (signature v3)"
    doc_url = "https://developers.hubspot.com/docs/apps/developer-platform/build-apps/authentication/request-validation"
    secret_model = signature.HubSpotSecret
    signature_headers = (signature.SIGNATURE_HEADER, signature.TIMESTAMP_HEADER)

    def verify(self, request: WebhookRequest, secret: Any, now: dt.datetime, tolerance: dt.timedelta) -> Verified:
        return signature.verify(secret, request, now, tolerance)

    def normalize(
        self, request: WebhookRequest, source_name: str, source: SourceConfig, secret: Any,
        verified: Verified, payload: Any, now: dt.datetime,
    ) -> Normalized:
        delivery = parse_vendor(HubSpotDelivery, payload, "HubSpot webhook batch")
        # HubSpot sends no delivery id and re-sends a batch with attemptNumber raised: the id
        # is the hash of the batch without attemptNumber, so its retries are the same delivery.
        identity = sha256_hex(
            canonical_json([e.model_dump(mode="json", exclude={"attemptNumber"}) for e in delivery.root])
        )
        return Normalized(
            delivery_id=f"hubspot-{identity}",
            content_sha256=identity,
            unprocessed=tuple(to_unprocessed(event) for event in delivery.root),
        )
