"""Injection strings (SQL, NoSQL, JNDI, script, template) where each scheme's schema refuses
them; never echoed back."""

from __future__ import annotations

import json

from .. import senders
from .kits import Credentials, Kit


def injection_bodies(kit: Kit, c: Credentials) -> dict[str, tuple[bytes, int, tuple[str, ...]]]:
    """Bodies carrying injection strings where the schema refuses them (never echoed back)."""
    sql, nosql, jndi, xss, template = (
        "' OR '1'='1'; DROP TABLE accounts; --",
        {"$gt": ""},
        "${jndi:ldap://x/a}",
        "<script>alert(1)</script>",
        "{{7*7}}",
    )
    invalid = (422, ("invalid_event",))
    if kit.scheme == "standard-webhooks":
        base = {
            "type": "AccountChanged",
            "timestamp": "2026-01-05T09:00:00+00:00",
            "data": {"account_id": "A-1", "name": "Acme"},
        }
        return {
            "unknown-type": (json.dumps({**base, "type": xss}).encode(), *invalid),
            "nosql-field": (json.dumps({**base, "data": {**base["data"], "$where": "1"}}).encode(), *invalid),
            "sql-currency": (json.dumps({**base, "data": {**base["data"], "currency": sql}}).encode(), *invalid),
            "path-legal-entity": (json.dumps({**base, "legal_entity": "../../etc/passwd"}).encode(), *invalid),
            "template-timestamp": (json.dumps({**base, "timestamp": template}).encode(), *invalid),
            "jndi-correlation": (json.dumps({**base, "correlation_id": jndi * 20}).encode(), *invalid),
        }
    if kit.scheme == "hubspot":
        event = senders.hubspot_event()
        return {
            "sql-event-id": (json.dumps([{**event, "eventId": sql}]).encode(), *invalid),
            "nosql-portal": (json.dumps([{**event, "portalId": nosql}]).encode(), *invalid),
            "jndi-object-id": (json.dumps([{**event, "objectId": jndi}]).encode(), *invalid),
            "xss-huge-type": (json.dumps([{**event, "subscriptionType": xss * 100}]).encode(), *invalid),
            "strings-not-events": (json.dumps([xss, sql]).encode(), *invalid),
            "template-occurred-at": (json.dumps([{**event, "occurredAt": template}]).encode(), *invalid),
        }
    if kit.scheme == "xero":
        event = senders.xero_event()
        payload = json.loads(senders.xero_payload(event))
        return {
            "xss-events": (json.dumps({**payload, "events": xss}).encode(), *invalid),
            "sql-sequence": (json.dumps({**payload, "firstEventSequence": sql}).encode(), *invalid),
            "nosql-resource": (json.dumps({**payload, "events": [{**event, "resourceId": nosql}]}).encode(), *invalid),
            "jndi-huge-entropy": (json.dumps({**payload, "entropy": jndi * 100}).encode(), *invalid),
            "list-category": (
                json.dumps({**payload, "events": [{**event, "eventCategory": [sql]}]}).encode(),
                *invalid,
            ),
            "template-missing-fields": (json.dumps({"events": [{"resourceUrl": template}]}).encode(), *invalid),
        }
    if kit.scheme == "quickbooks":
        return {
            "nosql-realm": (
                json.dumps({"eventNotifications": [{"realmId": nosql, "dataChangeEvent": {"entities": []}}]}).encode(),
                *invalid,
            ),
            "jndi-entities": (
                json.dumps({"eventNotifications": [{"realmId": "1", "dataChangeEvent": {"entities": jndi}}]}).encode(),
                *invalid,
            ),
            "empty-notifications": (json.dumps({"eventNotifications": [], "x": sql}).encode(), *invalid),
            "xss-huge-cloud-event-id": (
                json.dumps(
                    [
                        {
                            "specversion": "1.0",
                            "id": xss * 100,
                            "source": "s",
                            "type": "qbo.invoice.created.v1",
                            "intuitentityid": "1",
                            "intuitaccountid": "2",
                        }
                    ]
                ).encode(),
                *invalid,
            ),
            "null-type": (
                json.dumps(
                    [
                        {
                            "specversion": "1.0",
                            "id": "1",
                            "source": "s",
                            "type": None,
                            "intuitentityid": "1",
                            "intuitaccountid": "2",
                        }
                    ]
                ).encode(),
                *invalid,
            ),
            "template-scalar": (json.dumps(template).encode(), *invalid),
        }
    if kit.scheme == "salesforce":
        good = senders.salesforce_message(c.salesforce_org).decode()
        return {
            "sql-organization": (senders.salesforce_message("00D' OR '1'='1"), 403, ("organization_not_allowed",)),
            "xss-notification-id": (
                good.replace("<Notification><Id>", "<Notification><Id>&lt;script&gt;", 1).encode(),
                *invalid,
            ),
            "sobject-type": (good.replace('xsi:type="sf:Account"', 'xsi:type="sf:Account;DROP"').encode(), *invalid),
            "path-action-id": (
                good.replace("<ActionId>04k5e000000CaRkAAK", "<ActionId>../../etc/passwd").encode(),
                *invalid,
            ),
            "no-notifications": (
                good.split("<Notification>")[0].encode() + b"</notifications></soapenv:Body></soapenv:Envelope>",
                *invalid,
            ),
            "not-soap": (
                f"<notifications><OrganizationId>{c.salesforce_org}</OrganizationId></notifications>".encode(),
                *invalid,
            ),
        }
    state = c.business_central_state
    item = json.loads(senders.business_central_payload(state))["value"][0]
    return {
        "sql-client-state": (
            json.dumps({"value": [{**item, "clientState": sql}]}).encode(),
            401,
            ("signature_invalid",),
        ),
        "nosql-client-state": (
            json.dumps({"value": [{**item, "clientState": nosql}]}).encode(),
            401,
            ("signature_missing",),
        ),
        "xss-value": (json.dumps({"value": xss}).encode(), *invalid),
        "huge-resource": (json.dumps({"value": [{**item, "resource": jndi * 200}]}).encode(), *invalid),
        "null-change-type": (json.dumps({"value": [{**item, "changeType": None}]}).encode(), *invalid),
        "template-subscription": (
            json.dumps({"value": [{**item, "subscriptionId": {"t": template}}]}).encode(),
            *invalid,
        ),
    }
