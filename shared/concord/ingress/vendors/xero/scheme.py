"""The Xero scheme: verify x-xero-signature, answer 200 with an empty body; invoice events become
ChangeNotified for enrichment, the others are recorded."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from ...delivery import AcceptedDelivery, Normalized, Reply, Verified, WebhookRequest
from ...scheme import Scheme, sha256_hex
from ...sources import SourceConfig
from ..common import parse_vendor
from . import signature
from .mappers import change_notified, record_type_of, to_unprocessed
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
        typed = [(event, record_type_of(event)) for event in delivery.events or ()]
        return Normalized(
            delivery_id=f"xero-{digest}",
            content_sha256=digest,
            events=tuple(
                change_notified(e, record_type, source_name=source_name, legal_entity=source.legal_entity, now=now)
                for e, record_type in typed
                if record_type
            ),
            unprocessed=tuple(to_unprocessed(e) for e, record_type in typed if not record_type),
        )

    def reply(self, accepted: AcceptedDelivery, result: Mapping[str, Any]) -> Reply:
        # Xero expects 200 and an empty body (for intent-to-receive and every delivery).
        return Reply(status=200, content_type="text/plain", body="")
