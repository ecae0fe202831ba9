"""Genuine deliveries of every vendor through the ingest handler under moto: accepted exactly
once, answered as the vendor expects, thin events recorded, replays without a second effect."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError

from concord.events import event_id_for_delivery
from concord.stores.audit import AuditTrail

from . import senders
from .harness import (
    BC_OLD_STATE,
    BC_STATE,
    HUBSPOT_OLD_SECRET,
    HUBSPOT_SECRET,
    QBO_OLD_TOKEN,
    QBO_TOKEN,
    SF_OLD_TOKEN,
    SF_ORG,
    SF_OTHER_ALLOWED_ORG,
    SF_TOKEN,
    XERO_KEY,
    XERO_OLD_KEY,
    Ingest,
    body_of,
    header_of,
    ingest,  # noqa: F401  (fixture)
    url_of,
)

ACK = b"<notificationsResponse"


def _audit(ingest: Ingest) -> dict[str, Any]:
    [record] = ingest.audit_items()
    return record


# --------------------------------------------------------------------------- HubSpot


def test_hubspot_company_change_becomes_a_change_notice_for_enrichment(ingest: Ingest) -> None:
    body = senders.hubspot_events(senders.hubspot_event("company.propertyChange", object_id=77))

    response = ingest.post(senders.hubspot("hubspot", HUBSPOT_SECRET, body, url_of("hubspot")))

    assert response["statusCode"] == 202, response
    answer = body_of(response)
    assert len(answer["events"]) == 1 and answer["unprocessed"] == 0
    (notice,) = ingest.messages_on_bus()
    assert notice["detail-type"] == "ChangeNotified" and notice["source"] == "concord.concord"
    assert notice["detail"]["data"] == {
        "system": "crm",
        "record_type": "customer",
        "record_ids": ["77"],
        "vendor_source": "hubspot",
    }  # enrichment reads the company: nothing invented


def test_hubspot_won_deal_becomes_a_change_notice_and_other_events_are_recorded_not_mapped(ingest: Ingest) -> None:
    body = senders.hubspot_events(
        senders.hubspot_event("deal.propertyChange", propertyName="dealstage", propertyValue="closedwon"),
        senders.hubspot_event("contact.creation"),
        senders.hubspot_event("some.futureEvent"),
    )
    response = ingest.post(senders.hubspot("hubspot", HUBSPOT_SECRET, body, url_of("hubspot")))

    assert response["statusCode"] == 202
    (notice,) = ingest.messages_on_bus()
    assert notice["detail"]["data"]["record_type"] == "opportunity"
    items = _audit(ingest)["items"]
    assert [(i["vendor_event_type"], i["reason"]) for i in items] == [
        ("contact.creation", "not_mapped"),
        ("some.futureEvent", "not_mapped"),
    ]


def test_hubspot_signed_with_the_previous_client_secret_is_accepted_while_rotating(ingest: Ingest) -> None:
    body = senders.hubspot_events()
    assert ingest.post(senders.hubspot("hubspot", HUBSPOT_OLD_SECRET, body, url_of("hubspot")))["statusCode"] == 202


def test_hubspot_retry_with_a_higher_attempt_number_is_the_same_delivery(ingest: Ingest) -> None:
    event = senders.hubspot_event()
    first = ingest.post(senders.hubspot("hubspot", HUBSPOT_SECRET, senders.hubspot_events(event), url_of("hubspot")))
    retry_body = senders.hubspot_events({**event, "attemptNumber": 3})
    retry = ingest.post(senders.hubspot("hubspot", HUBSPOT_SECRET, retry_body, url_of("hubspot")))

    assert retry["statusCode"] == 202
    assert body_of(retry)["delivery_id"] == body_of(first)["delivery_id"]
    assert ingest.bus_count() == 1 and ingest.idempotency_records() == 1


def test_hubspot_signs_the_url_it_called_so_another_path_is_forged(ingest: Ingest) -> None:
    body = senders.hubspot_events()
    sent = senders.hubspot("hubspot", HUBSPOT_SECRET, body, url_of("hubspot").replace("/prod/", "/dev/"))
    assert ingest.post(sent)["statusCode"] == 401


def test_a_configured_public_url_is_what_hubspot_signs(ingest: Ingest, monkeypatch: pytest.MonkeyPatch) -> None:
    from .harness import SOURCES

    public = "https://webhooks.acme.example/hubspot"
    monkeypatch.setenv(
        "WEBHOOK_SOURCES", json.dumps({**SOURCES, "hubspot": {**SOURCES["hubspot"], "public_url": public}})
    )
    body = senders.hubspot_events()
    assert ingest.post(senders.hubspot("hubspot", HUBSPOT_SECRET, body, public))["statusCode"] == 202
    assert ingest.post(senders.hubspot("hubspot", HUBSPOT_SECRET, body, url_of("hubspot")))["statusCode"] == 401


# --------------------------------------------------------------------------- Xero


def test_xero_intent_to_receive_gets_200_and_an_empty_body_and_records_nothing(ingest: Ingest) -> None:
    response = ingest.post(senders.xero("xero", XERO_KEY, senders.xero_intent_to_receive()))

    assert response["statusCode"] == 200
    assert response["body"] == ""
    assert ingest.effects() == (0, 0, 0)


def test_xero_intent_to_receive_with_a_bad_signature_gets_401(ingest: Ingest) -> None:
    response = ingest.post(senders.xero("xero", "not-the-webhook-key-at-all", senders.xero_intent_to_receive()))
    assert response["statusCode"] == 401


def test_xero_invoice_events_become_change_notices_the_rest_is_recorded(ingest: Ingest) -> None:
    invoice = senders.xero_event("INVOICE")
    body = senders.xero_payload(invoice, senders.xero_event("CONTACT"), senders.xero_event("CREDITNOTE"))

    response = ingest.post(senders.xero("xero", XERO_OLD_KEY, body))

    assert (response["statusCode"], response["body"]) == (200, "")
    notices = [m["detail"]["data"] for m in ingest.messages_on_bus()]
    assert [(n["system"], n["record_type"], n["record_ids"], n["vendor_source"]) for n in notices] == [
        ("erp", "invoice", [invoice["resourceId"]], "xero")
    ]
    record = _audit(ingest)
    assert [i["reason"] for i in record["items"]] == ["not_system_of_record", "not_mapped"]
    assert record["delivery_id"].startswith("xero-")


def test_a_replayed_xero_delivery_has_no_second_effect(ingest: Ingest) -> None:
    sent = senders.xero("xero", XERO_KEY, senders.xero_payload(senders.xero_event()))
    ingest.post(sent)
    before = ingest.effects()

    again = ingest.post(sent)

    assert again["statusCode"] == 200
    assert ingest.effects() == before == (1, 1, 0)  # one ChangeNotified, nothing left unprocessed


# --------------------------------------------------------------------------- QuickBooks


@pytest.mark.parametrize("token", [QBO_TOKEN, QBO_OLD_TOKEN], ids=["current", "previous"])
def test_quickbooks_legacy_invoices_and_payments_become_change_notices(ingest: Ingest, token: str) -> None:
    body = senders.quickbooks_legacy(
        ("Invoice", "130", "Create"), ("Payment", "131", "Create"), ("Customer", "5", "Update")
    )

    response = ingest.post(senders.quickbooks("quickbooks", token, body))

    assert response["statusCode"] == 200
    notices = [m["detail"]["data"] for m in ingest.messages_on_bus()]
    assert sorted((n["record_type"], n["record_ids"]) for n in notices) == [("invoice", ["130"]), ("payment", ["131"])]
    assert all(n["system"] == "erp" and n["vendor_source"] == "quickbooks" for n in notices)
    items = _audit(ingest)["items"]
    assert [(i["vendor_event_type"], i["reason"]) for i in items] == [("Customer.Update", "not_system_of_record")]
    assert items[0]["reference"] == "realm/9130357766900566/customer/5"


def test_quickbooks_cloudevents_become_the_same_change_notices(ingest: Ingest) -> None:
    body = senders.quickbooks_cloudevents("qbo.invoice.updated.v1", "qbo.payment.created.v1", "qbo.bill.deleted.v1")
    sent = json.loads(body)
    response = ingest.post(senders.quickbooks("quickbooks", QBO_TOKEN, body))

    assert response["statusCode"] == 200
    notices = [m["detail"]["data"] for m in ingest.messages_on_bus()]
    assert sorted((n["record_type"], n["record_ids"]) for n in notices) == [
        ("invoice", [sent[0]["intuitentityid"]]),
        ("payment", [sent[1]["intuitentityid"]]),
    ]
    assert [(i["vendor_event_type"], i["reason"]) for i in _audit(ingest)["items"]] == [("Bill.Delete", "not_mapped")]


def test_quickbooks_one_change_in_either_format_is_one_event(ingest: Ingest) -> None:
    legacy = senders.quickbooks_legacy(("Invoice", "77", "Update"))
    cloud = json.loads(senders.quickbooks_cloudevents("qbo.invoice.updated.v1"))
    cloud[0].update({"intuitentityid": "77", "time": "2026-01-05T09:00:00.000Z"})
    for body in (legacy, json.dumps(cloud).encode()):
        assert ingest.post(senders.quickbooks("quickbooks", QBO_TOKEN, body))["statusCode"] == 200

    ids = [m["detail"]["id"] for m in ingest.messages_on_bus()]
    assert ids and len(set(ids)) == 1


# --------------------------------------------------------------------------- Salesforce


def test_salesforce_account_becomes_account_changed_and_gets_the_soap_ack(ingest: Ingest) -> None:
    fields = {
        "Id": "0015e00000ZkM3hAAF",
        "Name": "Acme Corporation",
        "BillingStreet": "1 Market St",
        "BillingCity": "San Francisco",
        "BillingPostalCode": "94105",
        "BillingStateCode": "CA",
        "BillingCountryCode": "US",
        "CurrencyIsoCode": "USD",
        "ParentId": None,
    }
    body = senders.salesforce_message(SF_ORG, ("Account", fields))

    response = ingest.post(senders.salesforce("salesforce", SF_TOKEN, body))

    assert response["statusCode"] == 200
    assert header_of(response, "Content-Type").startswith("text/xml")
    assert ACK in response["body"].encode() and b"<Ack>true</Ack>" in response["body"].encode()
    [routed] = ingest.messages_on_bus()
    assert routed["source"] == "concord.crm" and routed["detail-type"] == "AccountChanged"
    data = routed["detail"]["data"]
    assert data["account_id"] == "0015e00000ZkM3hAAF" and data["name"] == "Acme Corporation"
    assert data["billing_address"] == {
        "street": "1 Market St",
        "city": "San Francisco",
        "postal_code": "94105",
        "region": "CA",
        "country": "US",
    }
    assert data["currency"] == "USD" and data["parent_account_id"] is None
    assert routed["detail"]["legal_entity"] == "acme-us"
    assert ingest.audit_items() == []


def test_salesforce_replay_and_retry_with_a_new_session_publish_once(ingest: Ingest) -> None:
    body = senders.salesforce_message(SF_ORG, ("Account", {"Name": "Acme"}))
    first = ingest.post(senders.salesforce("salesforce", SF_TOKEN, body))
    with_session = body.replace(b'<SessionId xsi:nil="true"/>', b"<SessionId>00D!AQ0AQH0dMHZ</SessionId>")
    replayed = ingest.post(senders.salesforce("salesforce", SF_OLD_TOKEN, with_session))

    assert first["statusCode"] == replayed["statusCode"] == 200
    assert ingest.bus_count() == 1


def test_salesforce_mixed_notifications(ingest: Ingest) -> None:
    body = senders.salesforce_message(
        SF_OTHER_ALLOWED_ORG + "AAA",
        ("Account", {"Name": "Acme"}),
        ("Account", {"Id": "001000000000000AAA", "BillingCity": "Berlin"}),  # no Name
        (
            "Account",
            {
                "Id": "001000000000000BBB",
                "Name": "Bad address",
                "BillingStreet": "x",
                "BillingCity": "y",
                "BillingCountry": "Germany",
            },
        ),
        ("Account", {"Name": "Bad currency", "CurrencyIsoCode": "euro"}),
        ("Opportunity", {"Id": "006000000000000CCC", "Name": "Deal", "IsWon": "true", "StageName": "Closed Won"}),
        ("Opportunity", {"Name": "Deal 2", "IsWon": "false", "StageName": "Prospecting"}),
        ("Contact", {"LastName": "Doe"}),
    )
    response = ingest.post(senders.salesforce("salesforce", SF_TOKEN, body))

    assert response["statusCode"] == 200
    routed = ingest.messages_on_bus()
    assert sorted(m["detail-type"] for m in routed) == [
        "AccountChanged",
        "ChangeNotified",
        "ChangeNotified",
        "ChangeNotified",
    ]
    # What the message cannot complete is named for enrichment (read from the CRM), not dropped.
    notices = sorted(
        (m["detail"]["data"]["record_type"], m["detail"]["data"]["record_ids"])
        for m in routed
        if m["detail-type"] == "ChangeNotified"
    )
    assert notices == [
        ("customer", ["001000000000000AAA"]),
        ("customer", ["001000000000000BBB"]),
        ("opportunity", ["006000000000000CCC"]),
    ]
    assert all(
        m["source"] == "concord.concord"
        and m["detail"]["data"]["system"] == "crm"
        and m["detail"]["data"]["vendor_source"] == "salesforce"
        for m in routed
        if m["detail-type"] == "ChangeNotified"
    )
    items = _audit(ingest)["items"]
    assert [(i["vendor_event_type"], i["reason"]) for i in items] == [
        ("Account", "invalid_fields"),
        ("Opportunity", "not_mapped"),
        ("Contact", "not_mapped"),
    ]
    assert "euro" not in json.dumps(items, default=str)


def test_salesforce_a_redelivered_won_opportunity_is_the_same_change_notice(ingest: Ingest) -> None:
    body = senders.salesforce_message(SF_ORG, ("Opportunity", {"Id": "006000000000000CCC", "IsWon": "true"}))
    ingest.post(senders.salesforce("salesforce", SF_TOKEN, body))
    other_action = body.replace(b"04k5e000000CaRkAAK", b"04k5e000000CaRzAAK")  # a new delivery of the same notification
    ingest.post(senders.salesforce("salesforce", SF_TOKEN, other_action))

    ids = {m["detail"]["id"] for m in ingest.messages_on_bus()}
    assert len(ingest.messages_on_bus()) == 2 and len(ids) == 1


# --------------------------------------------------------------------------- Business Central


def test_business_central_handshake_echoes_the_validation_token(ingest: Ingest) -> None:
    response = ingest.post(senders.business_central_handshake("businesscentral", "a1b2-c3d4_e5"))

    assert response["statusCode"] == 200
    assert response["body"] == "a1b2-c3d4_e5"
    assert header_of(response, "Content-Type").startswith("text/plain")
    assert ingest.effects() == (0, 0, 0)


@pytest.mark.parametrize("state", [BC_STATE, BC_OLD_STATE], ids=["current", "previous"])
def test_business_central_invoices_and_payments_become_change_notices_the_rest_is_recorded(
    ingest: Ingest, state: str
) -> None:
    body = senders.business_central_payload(
        state,
        ("salesInvoices", "created"),
        ("customerPayments", "updated"),
        ("customers", "updated"),
        ("salesInvoices", "deleted"),
        ("items", "updated"),
    )
    named = [item["resource"].rsplit("(", 1)[1].rstrip(")") for item in json.loads(body)["value"][:2]]
    response = ingest.post(senders.business_central("businesscentral", body))

    assert response["statusCode"] == 200  # what Business Central expects: anything else may delete the subscription
    notices = [m["detail"]["data"] for m in ingest.messages_on_bus()]
    assert sorted((n["record_type"], n["record_ids"]) for n in notices) == [
        ("invoice", [named[0]]),
        ("payment", [named[1]]),
    ]
    assert all(n["system"] == "erp" and n["vendor_source"] == "businesscentral" for n in notices)
    assert [(i["vendor_event_type"], i["reason"]) for i in _audit(ingest)["items"]] == [
        ("customers.updated", "not_system_of_record"),
        ("salesInvoices.deleted", "not_mapped"),
        ("items.updated", "not_mapped"),
    ]


def test_business_central_collection_notification_is_a_notice_without_ids_for_a_delta_read(ingest: Ingest) -> None:
    """Over 1,000 changes name no record: enrichment reads the record type from its checkpoint."""
    body = json.dumps(
        {
            "value": [
                {
                    "subscriptionId": "s",
                    "clientState": BC_STATE,
                    "changeType": "collection",
                    "resource": "/api/v2.0/companies(7dbba574-5f69-4167-a43e-fb975045de15)/salesInvoices?$filter=lastDateTimeModified%20gt%202018-10-15T11:00:00Z",  # noqa: E501 - the vendor's documented example, byte for byte
                }
            ]
        }
    ).encode()

    response = ingest.post(senders.business_central("businesscentral", body))

    assert response["statusCode"] == 200
    (notice,) = ingest.messages_on_bus()
    assert notice["detail-type"] == "ChangeNotified"
    assert notice["detail"]["data"] == {
        "system": "erp",
        "record_type": "invoice",
        "record_ids": [],
        "vendor_source": "businesscentral",
    }


def test_business_central_redelivered_notification_is_the_same_change_notice(ingest: Ingest) -> None:
    body = senders.business_central_payload(BC_STATE, ("salesInvoices", "updated"))
    first = ingest.post(senders.business_central("businesscentral", body))
    again = ingest.post(senders.business_central("businesscentral", body))

    assert first["statusCode"] == again["statusCode"] == 200
    assert len(ingest.messages_on_bus()) == 1


# --------------------------------------------------------------------------- failures defer


def test_an_unreachable_audit_table_defers_and_the_retry_records_once(
    ingest: Ingest, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_record = AuditTrail.record_unprocessed_delivery
    calls: list[int] = []

    def record_once_unreachable(self: AuditTrail, *args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")
        real_record(self, *args, **kwargs)

    monkeypatch.setattr(AuditTrail, "record_unprocessed_delivery", record_once_unreachable)
    # A customer change: recorded as unprocessed (only invoices and payments are enriched).
    sent = senders.quickbooks("quickbooks", QBO_TOKEN, senders.quickbooks_legacy(("Customer", "42", "Update")))

    deferred = ingest.post(sent)
    assert deferred["statusCode"] == 503 and int(header_of(deferred, "Retry-After")) > 0
    assert ingest.effects() == (0, 0, 0)

    assert ingest.post(sent)["statusCode"] == 200
    assert ingest.effects() == (0, 1, 1)


def test_an_unreachable_bus_defers_a_salesforce_delivery(ingest: Ingest, monkeypatch: pytest.MonkeyPatch) -> None:
    from concord.aws.clients import client

    monkeypatch.setattr(
        client("events"),
        "put_events",
        lambda **_: (_ for _ in ()).throw(
            EndpointConnectionError(endpoint_url="https://events.us-east-1.amazonaws.com")
        ),
    )
    response = ingest.post(senders.salesforce("salesforce", SF_TOKEN, senders.salesforce_message(SF_ORG)))
    assert response["statusCode"] == 503
    assert ingest.effects() == (0, 0, 0)


def test_a_vendor_secret_of_the_wrong_shape_defers(ingest: Ingest) -> None:
    boto3.client("secretsmanager").put_secret_value(
        SecretId="concord/test/webhooks/xero", SecretString=json.dumps({"signing_secrets": ["whsec_x"]})
    )
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()
    response = ingest.post(senders.xero("xero", XERO_KEY, senders.xero_payload(senders.xero_event())))
    assert response["statusCode"] == 503


def test_the_canonical_answer_is_unchanged(ingest: Ingest) -> None:
    from .harness import CRM_SECRET

    sent = senders.standard_webhooks("crm", CRM_SECRET, senders.canonical_body(), delivery_id="msg_77")
    response = ingest.post(sent)
    assert response["statusCode"] == 202
    assert body_of(response) == {
        "status": "accepted",
        "event_id": event_id_for_delivery("crm", "msg_77"),
        "event_type": "AccountChanged",
    }
    assert ingest.audit_items() == []
