"""The QuickBooks Online scheme: verify intuit-signature, record entity changes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ...delivery import Normalized, Verified, WebhookRequest
from ...scheme import Scheme, sha256_hex
from ...sources import SourceConfig
from ..common import parse_vendor
from . import signature
from .mappers import change_notified, record_type_of, split_cloud_event_type, to_unprocessed
from .payloads import CloudEventsDelivery, LegacyDelivery


class QuickBooksScheme(Scheme):
    name = "quickbooks"
    title = "QuickBooks Online webhooks (intuit-signature)"
    doc_url = "https://developer.intuit.com/app/developer/qbo/docs/develop/webhooks"
    media_types = frozenset({"application/json", "application/cloudevents-batch+json"})
    secret_model = signature.QuickBooksSecret
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
        # Both formats become the same changes: (realm, entity, operation, id, changed at).
        if isinstance(payload, list):
            events = parse_vendor(CloudEventsDelivery, payload, "QuickBooks CloudEvents batch").root
            changes = [(e.intuitaccountid, *split_cloud_event_type(e.type), e.intuitentityid, e.time) for e in events]
        else:
            legacy = parse_vendor(LegacyDelivery, payload, "QuickBooks webhook notification")
            changes = [
                (n.realmId, entity.name, entity.operation, entity.id, entity.lastUpdated)
                for n in legacy.eventNotifications
                for entity in n.dataChangeEvent.entities
            ]
        typed = [(change, record_type_of(change[1], change[2])) for change in changes]
        # No delivery id in the legacy format: the id is the hash of the signed body.
        digest = sha256_hex(request.body)
        return Normalized(
            delivery_id=f"quickbooks-{digest}",
            content_sha256=digest,
            events=tuple(
                change_notified(change, record_type, source_name=source_name, legal_entity=source.legal_entity, now=now)
                for change, record_type in typed
                if record_type
            ),
            unprocessed=tuple(
                to_unprocessed(change[0], change[1], change[2], change[3])
                for change, record_type in typed
                if not record_type
            ),
        )
