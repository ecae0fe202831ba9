"""What each vendor sends, built from the vendor's DOCUMENTED algorithm with hmac/hashlib by
hand: nothing here imports Concord's verifiers, so a test that signs with these and expects the
verifier to agree checks the verifier against the documentation, not against itself.

Used by the unit tests (against the handler under moto) and by the e2e tests (local stack).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field, replace
from typing import Any
from xml.sax.saxutils import escape

JSON = "application/json"
XML = "text/xml; charset=utf-8"


def _b64_hmac_sha256(key: bytes, message: bytes) -> str:
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


@dataclass(frozen=True)
class Sent:
    """One HTTP request as the vendor sends it to /webhooks/<source>."""

    source: str
    body: bytes
    headers: dict[str, str]
    query: dict[str, str] = field(default_factory=dict)

    def with_headers(self, **headers: str) -> Sent:
        return replace(self, headers={**self.headers, **headers})

    def with_body(self, body: bytes) -> Sent:
        return replace(self, body=body)

    def with_query(self, **query: str) -> Sent:
        return replace(self, query={**self.query, **query})

    def without_header(self, name: str) -> Sent:
        return replace(self, headers={k: v for k, v in self.headers.items() if k.lower() != name.lower()})


# --------------------------------------------------------------------------- Standard Webhooks
# https://www.standardwebhooks.com/ : base64(HMAC-SHA256(base64decode(secret sans whsec_),
# "{id}.{timestamp}.{body}")), header "v1,<sig>".


def standard_webhooks(
    source: str,
    secret: str,
    body: bytes,
    *,
    delivery_id: str | None = None,
    timestamp: int | None = None,
    content_type: str = JSON,
) -> Sent:
    delivery_id = delivery_id or f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time()) if timestamp is None else timestamp
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signature = _b64_hmac_sha256(key, f"{delivery_id}.{timestamp}.".encode() + body)
    return Sent(
        source,
        body,
        {
            "Content-Type": content_type,
            "webhook-id": delivery_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": f"v1,{signature}",
        },
    )


def canonical_body(
    event_type: str = "AccountChanged", data: dict[str, Any] | None = None, version: int | None = None
) -> bytes:
    """A canonical delivery; without `version`, version 1 of the type (the field is left out)."""
    data = data or {"account_id": f"A-{uuid.uuid4().hex[:8]}", "name": "Acme Consulting"}
    body = {"type": event_type, "timestamp": "2026-01-05T09:00:00+00:00", "data": data}
    return json.dumps(body | ({"version": version} if version is not None else {})).encode()


# --------------------------------------------------------------------------- HubSpot v3
# https://developers.hubspot.com/docs/apps/developer-platform/build-apps/authentication/request-validation
# X-HubSpot-Signature-v3 = base64(HMAC-SHA256(client secret, method + URI + body + timestamp)),
# X-HubSpot-Request-Timestamp in milliseconds.


def hubspot(
    source: str,
    client_secret: str,
    body: bytes,
    url: str,
    *,
    timestamp_ms: int | None = None,
    method: str = "POST",
    content_type: str = JSON,
) -> Sent:
    timestamp_ms = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    source_string = method.encode() + url.encode() + body + str(timestamp_ms).encode()
    return Sent(
        source,
        body,
        {
            "Content-Type": content_type,
            "X-HubSpot-Signature-v3": _b64_hmac_sha256(client_secret.encode(), source_string),
            "X-HubSpot-Request-Timestamp": str(timestamp_ms),
        },
    )


def hubspot_events(*events: dict[str, Any]) -> bytes:
    return json.dumps(list(events) or [hubspot_event()]).encode()


def hubspot_event(
    subscription_type: str = "company.propertyChange", object_id: int = 1001, **extra: Any
) -> dict[str, Any]:
    event = {
        "eventId": int(uuid.uuid4().int % 10**9),
        "subscriptionId": 12345,
        "portalId": 62515,
        "appId": 54321,
        "occurredAt": 1_767_600_000_000,
        "subscriptionType": subscription_type,
        "attemptNumber": 0,
        "objectId": object_id,
        "changeSource": "CRM",
    }
    if subscription_type.endswith("propertyChange"):
        event |= {"propertyName": "name", "propertyValue": "Acme Consulting"}
    return event | extra


# --------------------------------------------------------------------------- Xero
# https://developer.xero.com/documentation/guides/webhooks/overview/
# x-xero-signature = base64(HMAC-SHA256(webhook key, raw body)).


def xero(source: str, webhook_key: str, body: bytes, *, content_type: str = JSON) -> Sent:
    return Sent(
        source,
        body,
        {
            "Content-Type": content_type,
            "x-xero-signature": _b64_hmac_sha256(webhook_key.encode(), body),
        },
    )


def xero_payload(*events: dict[str, Any], sequence: int = 1) -> bytes:
    return json.dumps(
        {
            "events": list(events),
            "firstEventSequence": sequence,
            "lastEventSequence": sequence + max(len(events) - 1, 0),
            "entropy": uuid.uuid4().hex[:20].upper(),
        }
    ).encode()


def xero_event(category: str = "INVOICE", event_type: str = "UPDATE") -> dict[str, Any]:
    resource = str(uuid.uuid4())
    plural = {"INVOICE": "Invoices", "CONTACT": "Contacts", "CREDITNOTE": "CreditNotes"}.get(category, "Subscriptions")
    return {
        "resourceUrl": f"https://api.xero.com/api.xro/2.0/{plural}/{resource}",
        "resourceId": resource,
        "eventDateUtc": "2026-01-05T09:00:00.000",
        "eventType": event_type,
        "eventCategory": category,
        "tenantId": "c2cc9b6e-9458-4c7d-93cc-f02b81b0594f",
        "tenantType": "ORGANISATION",
    }


def xero_intent_to_receive() -> bytes:
    return json.dumps(
        {"events": [], "firstEventSequence": 0, "lastEventSequence": 0, "entropy": uuid.uuid4().hex[:20].upper()}
    ).encode()


# --------------------------------------------------------------------------- QuickBooks Online
# https://developer.intuit.com/app/developer/qbo/docs/develop/webhooks
# intuit-signature = base64(HMAC-SHA256(verifier token, raw body)).


def quickbooks(source: str, verifier_token: str, body: bytes, *, content_type: str = JSON) -> Sent:
    return Sent(
        source,
        body,
        {
            "Content-Type": content_type,
            "intuit-signature": _b64_hmac_sha256(verifier_token.encode(), body),
        },
    )


def quickbooks_legacy(*entities: tuple[str, str, str], realm: str = "9130357766900566") -> bytes:
    entities = entities or (("Invoice", str(uuid.uuid4().int % 10**6), "Create"),)
    return json.dumps(
        {
            "eventNotifications": [
                {
                    "realmId": realm,
                    "dataChangeEvent": {
                        "entities": [
                            {
                                "name": name,
                                "id": entity_id,
                                "operation": operation,
                                "lastUpdated": "2026-01-05T09:00:00.000Z",
                            }
                            for name, entity_id, operation in entities
                        ]
                    },
                }
            ]
        }
    ).encode()


def quickbooks_cloudevents(*types: str, realm: str = "9130357766900566") -> bytes:
    return json.dumps(
        [
            {
                "specversion": "1.0",
                "id": str(uuid.uuid4()),
                "source": "intuit.quickbooks",
                "type": event_type,
                "time": "2026-01-05T09:00:00Z",
                "intuitentityid": str(uuid.uuid4().int % 10**6),
                "intuitaccountid": realm,
                "datacontenttype": "application/json",
            }
            for event_type in (types or ("qbo.payment.created.v1",))
        ]
    ).encode()


# --------------------------------------------------------------------------- Salesforce
# https://developer.salesforce.com/docs/platform/api/guide/sforce-api-om-outboundmessaging-wsdl.html
# Not signed: OrganizationId in the body; Concord adds a token query parameter to the endpoint URL.


def salesforce(source: str, token: str, body: bytes, *, content_type: str = XML) -> Sent:
    return Sent(source, body, {"Content-Type": content_type}, {"token": token})


def salesforce_message(
    organization_id: str, *notifications: tuple[str, dict[str, str | None]], action_id: str = "04k5e000000CaRkAAK"
) -> bytes:
    notifications = notifications or (("Account", {"Name": "Acme Corporation"}),)
    parts = []
    for sobject_type, fields in notifications:
        notification_id = "04l" + uuid.uuid4().hex[:15]
        record_id = fields.get("Id") or ("001" + uuid.uuid4().hex[:15])
        rendered = "".join(
            f'<sf:{name} xsi:nil="true"/>' if value is None else f"<sf:{name}>{escape(value)}</sf:{name}>"
            for name, value in {"Id": record_id, **fields}.items()
        )
        parts.append(
            f"<Notification><Id>{notification_id}</Id>"
            f'<sObject xsi:type="sf:{sobject_type}" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">'
            f"{rendered}</sObject>"
            "</Notification>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        '<soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound">'
        f"<OrganizationId>{organization_id}</OrganizationId><ActionId>{action_id}</ActionId>"
        '<SessionId xsi:nil="true"/>'
        "<EnterpriseUrl>https://acme.my.salesforce.com/services/Soap/c/60.0/00D</EnterpriseUrl>"
        "<PartnerUrl>https://acme.my.salesforce.com/services/Soap/u/60.0/00D</PartnerUrl>"
        + "".join(parts)
        + "</notifications></soapenv:Body></soapenv:Envelope>"
    ).encode()


# --------------------------------------------------------------------------- Business Central
# https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/dynamics-subscriptions
# Not signed: every notification carries the subscription's clientState.


def business_central(source: str, body: bytes, *, content_type: str = JSON) -> Sent:
    return Sent(source, body, {"Content-Type": content_type})


def business_central_handshake(source: str, token: str) -> Sent:
    return Sent(source, b"", {"Content-Type": "text/plain"}, {"validationToken": token})


def business_central_payload(client_state: str, *resources: tuple[str, str]) -> bytes:
    resources = resources or (("salesInvoices", "created"),)
    company = "b18aed47-c385-49d2-b954-dbdf8ad71780"
    return json.dumps(
        {
            "value": [
                {
                    "subscriptionId": "concord-sales-invoices",
                    "clientState": client_state,
                    "expirationDateTime": "2026-01-08T09:00:00Z",
                    "resource": f"api/v2.0/companies({company})/{entity}({uuid.uuid4()})",
                    "changeType": change,
                    "lastModifiedDateTime": "2026-01-05T09:00:00Z",
                }
                for entity, change in resources
            ]
        }
    ).encode()
