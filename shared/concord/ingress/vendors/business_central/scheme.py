"""The Business Central scheme: handshake, clientState on every item, record changes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ...delivery import Handshake, Normalized, Verified, WebhookRequest
from ...scheme import Scheme, sha256_hex
from ...sources import SourceConfig
from ..common import parse_vendor
from . import signature
from .mappers import change_notified, record_type_of, to_unprocessed
from .payloads import BusinessCentralDelivery


class BusinessCentralScheme(Scheme):
    name = "business-central"
    title = "Dynamics 365 Business Central webhooks (validationToken handshake, clientState)"
    doc_url = "https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/dynamics-subscriptions"
    secret_model = signature.BusinessCentralSecret
    query_parameters = (signature.VALIDATION_TOKEN,)
    success_status = 200

    def handshake(self, request: WebhookRequest) -> Handshake | None:
        return signature.handshake(request)

    def verify(self, request: WebhookRequest, secret: Any, now: dt.datetime, tolerance: dt.timedelta) -> Verified:
        # The credential (clientState) is inside the body: checked in normalize, on every
        # item, after the bounded JSON parse and before anything else is read.
        return Verified()

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
        signature.verify_client_states(secret, signature.notification_items(payload))
        delivery = parse_vendor(BusinessCentralDelivery, payload, "Business Central notification")
        # No delivery id is sent: the id is the hash of the body.
        digest = sha256_hex(request.body)
        typed = [(n, record_type_of(n)) for n in delivery.value]
        return Normalized(
            delivery_id=f"businesscentral-{digest}",
            content_sha256=digest,
            events=tuple(change_notified(n, record_type, source_name=source_name, legal_entity=source.legal_entity,
                                         now=now) for n, record_type in typed if record_type),
            unprocessed=tuple(to_unprocessed(n) for n, record_type in typed if not record_type),
        )
