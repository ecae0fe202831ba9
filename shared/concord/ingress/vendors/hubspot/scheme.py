"""The HubSpot scheme: verify signature v3 (or v1 where the source allows it); company changes and won
deals become ChangeNotified for enrichment, the rest is recorded (see mappers)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from concord.observability import metrics

from ...delivery import Normalized, Verified, WebhookRequest
from ...errors import TimestampOutOfTolerance
from ...scheme import Scheme, sha256_hex
from ...sources import SourceConfig
from ..common import canonical_json, parse_vendor
from . import signature
from .mappers import change_notified, record_type_of, to_unprocessed
from .payloads import HubSpotDelivery, HubSpotEvent


class HubSpotScheme(Scheme):
    name = "hubspot"
    title = "HubSpot webhooks (signature v3; v1 where the source allows it)"
    doc_url = "https://developers.hubspot.com/docs/apps/developer-platform/build-apps/authentication/request-validation"
    secret_model = signature.HubSpotSecret
    signature_headers = (
        signature.SIGNATURE_HEADER,
        signature.TIMESTAMP_HEADER,
        signature.V1_SIGNATURE_HEADER,
        signature.VERSION_HEADER,
    )
    signs_url = True  # v3 signs method, URL, body and timestamp

    def verify(self, request: WebhookRequest, secret: Any, now: dt.datetime, tolerance: dt.timedelta) -> Verified:
        return signature.verify(secret, request, now, tolerance)

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
        delivery = parse_vendor(HubSpotDelivery, payload, "HubSpot webhook batch")
        events, unprocessed = self._events(delivery.root, source_name, source, now)
        if signature.is_v1_only(request):
            return self._v1_delivery(delivery, now, events, unprocessed)
        # HubSpot sends no delivery id and re-sends a batch with attemptNumber raised: the id
        # is the hash of the batch without attemptNumber, so its retries are the same delivery.
        identity = sha256_hex(
            canonical_json([e.model_dump(mode="json", exclude={"attemptNumber"}) for e in delivery.root])
        )
        return Normalized(
            delivery_id=f"hubspot-{identity}", content_sha256=identity, events=events, unprocessed=unprocessed
        )

    @staticmethod
    def _events(
        batch: list[HubSpotEvent], source_name: str, source: SourceConfig, now: dt.datetime
    ) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        """ChangeNotified for each object whose canonical event enrichment can complete; the rest recorded."""
        events, unprocessed = [], []
        for event in batch:
            record_type = record_type_of(event)
            if record_type is None:
                unprocessed.append(to_unprocessed(event))
            else:
                events.append(
                    change_notified(
                        event, record_type, source_name=source_name, legal_entity=source.legal_entity, ingested_at=now
                    )
                )
        return tuple(events), tuple(unprocessed)

    def _v1_delivery(
        self, delivery: HubSpotDelivery, now: dt.datetime, events: tuple[Any, ...], unprocessed: tuple[Any, ...]
    ) -> Normalized:
        """A v1 delivery signs no time: its id is its events' eventIds (a replay, or a retry with
        another attemptNumber, is the same delivery), and events older than HubSpot retries are refused."""
        oldest = min(event.occurredAt for event in delivery.root)
        if now - dt.datetime.fromtimestamp(oldest / 1000, tz=dt.UTC) > signature.V1_MAX_EVENT_AGE:
            raise TimestampOutOfTolerance(
                "a v1-signed delivery holds events older than HubSpot retries: refused as a replay"
            )
        event_ids = sorted({event.eventId for event in delivery.root})
        identity = sha256_hex(canonical_json(event_ids))
        metrics.add_metric(name="HubSpotV1DeliveriesAccepted", unit=MetricUnit.Count, value=1)
        return Normalized(
            delivery_id=f"hubspot-v1-{identity}",
            content_sha256=sha256_hex(
                canonical_json([e.model_dump(mode="json", exclude={"attemptNumber"}) for e in delivery.root])
            ),
            events=events,
            unprocessed=unprocessed,
        )
