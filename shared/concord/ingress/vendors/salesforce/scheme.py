"""The Salesforce Outbound Message scheme: token, org allow-list, Account → AccountChanged (or
ChangeNotified for enrichment, as a won Opportunity), SOAP Ack."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from ...delivery import AcceptedDelivery, Normalized, Reply, Unprocessed, UnprocessedItem, Verified, WebhookRequest
from ...errors import InvalidEvent
from ...scheme import Scheme, sha256_hex, vendor_event_id
from ...sources import SourceConfig
from ..common import parse_vendor
from . import signature
from .mappers import NotMappable, to_canonical_account_changed, won_opportunity_notified
from .payloads import OutboundMessage, outbound_message

ACK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
    "<soapenv:Body>"
    '<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack></notificationsResponse>'
    "</soapenv:Body>"
    "</soapenv:Envelope>"
)


class SalesforceScheme(Scheme):
    name = "salesforce"
    title = "Salesforce Outbound Messages (SOAP, organization allow-list, endpoint token)"
    doc_url = "https://developer.salesforce.com/docs/platform/api/guide/sforce-api-om-outboundmessaging-wsdl.html"
    body_format = "xml"
    media_types = frozenset({"text/xml"})
    secret_model = signature.SalesforceSecret
    query_parameters = (signature.TOKEN_PARAMETER,)
    success_status = 200

    def verify(self, request: WebhookRequest, secret: Any, now: dt.datetime, tolerance: dt.timedelta) -> Verified:
        return signature.verify_token(secret, request)

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
        raw = outbound_message(payload)
        if not isinstance(raw["OrganizationId"], str):
            raise InvalidEvent("the outbound message names no OrganizationId")
        signature.verify_organization(secret, raw["OrganizationId"])
        message = parse_vendor(OutboundMessage, raw, "Salesforce outbound message")
        events, unprocessed = [], []
        for notification in message.notifications:
            kind = notification.sObject.type
            try:
                if kind == "Account":
                    events.append(
                        to_canonical_account_changed(
                            notification,
                            event_id=vendor_event_id(source_name, notification.Id),
                            source_name=source_name,
                            legal_entity=source.legal_entity,
                            ingested_at=now,
                        )
                    )
                elif kind == "Opportunity":
                    events.append(
                        won_opportunity_notified(
                            notification, source_name=source_name, legal_entity=source.legal_entity, ingested_at=now
                        )
                    )
                else:
                    unprocessed.append(
                        UnprocessedItem(
                            kind,
                            Unprocessed.NOT_MAPPED,
                            "no canonical event for this sObject type",
                            f"{kind.lower()}/{notification.sObject.fields.get('Id') or notification.Id}",
                        )
                    )
            except NotMappable as not_mappable:
                unprocessed.append(not_mappable.item)
        # Salesforce sends no delivery id, and a retry may carry a fresh SessionId: the id is the
        # hash of the organization, action and notification ids (each notification id is unique).
        identity = sha256_hex(
            "|".join([message.OrganizationId, message.ActionId, *sorted(n.Id for n in message.notifications)]).encode()
        )
        return Normalized(
            delivery_id=f"salesforce-{identity}",
            content_sha256=identity,
            events=tuple(events),
            unprocessed=tuple(unprocessed),
        )

    def reply(self, accepted: AcceptedDelivery, result: Mapping[str, Any]) -> Reply:
        return Reply(status=200, content_type="text/xml; charset=utf-8", body=ACK)
