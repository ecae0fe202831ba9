"""The Xero scheme: verify x-xero-signature, answer 200 with an empty body, record events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from ...delivery import AcceptedDelivery, Normalized, Reply, Verified, WebhookRequest
from ...scheme import Scheme, sha256_hex
from ...sources import SourceConfig
from ..common import parse_vendor
from . import signature
from .mappers import to_unprocessed
from .payloads import XeroDelivery


class XeroScheme(Scheme):
    name = "xero"
    title = "Xero webhooks (x-xero-signature, intent to receive)"
    doc_url = "https://developer.xero.com/documentation/guides/webhooks/overview/"
    secret_model = signature.XeroSecret
    signature_headers = (signature.SIGNATURE_HEADER,)
    success_status = 200

    def verify(self, request: WebhookRequest, secret: Any, now: dt.datetime, tolerance: dt.timedelta) -> Verified:
        return signature.verify(secret, request)

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
        delivery = parse_vendor(XeroDelivery, payload, "Xero webhook payload")
        # Xero sends no delivery id: the id is the hash of the signed body (which includes
        # Xero's random `entropy`), so a replayed capture is the same delivery.
        digest = sha256_hex(request.body)
        return Normalized(
            delivery_id=f"xero-{digest}",
            content_sha256=digest,
            unprocessed=tuple(to_unprocessed(event) for event in delivery.events or ()),
        )

    def reply(self, accepted: AcceptedDelivery, result: Mapping[str, Any]) -> Reply:
        # Xero expects 200 and an empty body (for intent-to-receive and every delivery).
        return Reply(status=200, content_type="text/plain", body="")
