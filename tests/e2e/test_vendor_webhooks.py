"""Every vendor's genuine deliveries on the local stack, accepted exactly once, and a
representative subset of the bad-input catalog: each refused with its 4xx, nothing on the bus.

The local stack seeds documented demo secrets per scheme (concord.local.demo_secrets).
"""

from __future__ import annotations

import time
import uuid
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from concord.events import event_id_for_delivery
from concord.local.demo_secrets import DEMO_SALESFORCE_ORG_ID, demo_signing_secret, demo_vendor_secret
from concord.local.inspect import LocalView

from ..unit.vendors import senders
from ..unit.vendors.bad_inputs import Case, Credentials, build_cases
from ..unit.vendors.senders import Sent

pytestmark = pytest.mark.e2e

CREDENTIALS = Credentials(
    crm_secret=demo_signing_secret("crm"),
    hubspot_secret=demo_vendor_secret("hubspot", "client-secret"),
    xero_key=demo_vendor_secret("xero", "webhook-key"),
    quickbooks_token=demo_vendor_secret("quickbooks", "verifier-token"),
    salesforce_token=demo_vendor_secret("salesforce", "endpoint-token"),
    salesforce_org=DEMO_SALESFORCE_ORG_ID,
    business_central_state=demo_vendor_secret("businesscentral", "client-state"),
)


def send(http: httpx.Client, view: LocalView, sent: Sent, path: str | None = None) -> httpx.Response:
    base = view.state.webhook_url.removesuffix("/webhooks")
    # Over the wire headers and query are bytes: non-ASCII text (unicode and surrogate cases,
    # lone surrogates included) goes as UTF-8, percent-encoded in the query.
    headers = {k: v if v.isascii() else v.encode("utf-8", "surrogatepass") for k, v in sent.headers.items()}
    query = urlencode({k: v.encode("utf-8", "surrogatepass") for k, v in sent.query.items()})
    url = base + (path or f"/webhooks/{sent.source}") + (f"?{query}" if query else "")
    return http.post(url, content=sent.body, headers=headers)


def url_of(view: LocalView) -> Any:
    return lambda source: f"{view.state.webhook_url}/{source}"


def settle(view: LocalView) -> list[dict[str, Any]]:
    """What reached the bus, after giving the tap a moment."""
    time.sleep(0.5)
    return view.drain_tap()


# --------------------------------------------------------------------------- genuine deliveries


def test_salesforce_account_reaches_the_bus_and_the_audit_trail_once(quiet_bus: LocalView, http: httpx.Client) -> None:
    account_id = "001" + uuid.uuid4().hex[:15]
    body = senders.salesforce_message(
        DEMO_SALESFORCE_ORG_ID, ("Account", {"Id": account_id, "Name": "Acme Corporation"})
    )
    sent = senders.salesforce("salesforce", CREDENTIALS.salesforce_token, body)

    answers = [send(http, quiet_bus, sent) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert all(b"<Ack>true</Ack>" in a.content for a in answers)
    on_bus = quiet_bus.wait_for(quiet_bus.drain_tap, timeout=10) + settle(quiet_bus)
    assert [(e["detail-type"], e["detail"]["data"]["account_id"]) for e in on_bus] == [("AccountChanged", account_id)]
    record = quiet_bus.wait_for(lambda: quiet_bus.audit.event(on_bus[0]["detail"]["id"]), timeout=30)
    assert record is not None and record.source_system == "crm"


def test_a_hubspot_company_change_is_one_change_notice_for_enrichment(quiet_bus: LocalView, http: httpx.Client) -> None:
    sent = senders.hubspot(
        "hubspot", CREDENTIALS.hubspot_secret, senders.hubspot_events(), url_of(quiet_bus)("hubspot")
    )

    first, again = send(http, quiet_bus, sent), send(http, quiet_bus, sent)

    assert first.status_code == 202, first.text
    assert (again.status_code, again.content) == (first.status_code, first.content)
    on_bus = quiet_bus.wait_for(quiet_bus.drain_tap, timeout=10) + settle(quiet_bus)
    assert [(e["detail-type"], e["detail"]["data"]["record_type"]) for e in on_bus] == [("ChangeNotified", "customer")]
    assert quiet_bus.audit.unprocessed_delivery(sent.source, first.json()["delivery_id"]) is None


def test_a_business_central_invoice_notification_is_one_change_notice_for_enrichment(
    quiet_bus: LocalView, http: httpx.Client
) -> None:
    sent = senders.business_central(
        "businesscentral", senders.business_central_payload(CREDENTIALS.business_central_state)
    )

    first, again = send(http, quiet_bus, sent), send(http, quiet_bus, sent)

    assert first.status_code in (200, 202), first.text  # exactly as Microsoft documents: a 2xx
    assert (again.status_code, again.content) == (first.status_code, first.content)
    on_bus = quiet_bus.wait_for(quiet_bus.drain_tap, timeout=10) + settle(quiet_bus)
    assert [(e["detail-type"], e["detail"]["data"]["record_type"]) for e in on_bus] == [("ChangeNotified", "invoice")]


def test_a_xero_invoice_event_is_one_change_notice_for_enrichment(quiet_bus: LocalView, http: httpx.Client) -> None:
    sent = senders.xero("xero", CREDENTIALS.xero_key, senders.xero_payload(senders.xero_event()))

    first, again = send(http, quiet_bus, sent), send(http, quiet_bus, sent)

    assert (first.status_code, first.content) == (200, b"")  # Xero expects an empty 200
    assert (again.status_code, again.content) == (first.status_code, first.content)
    on_bus = quiet_bus.wait_for(quiet_bus.drain_tap, timeout=10) + settle(quiet_bus)
    assert [(e["detail-type"], e["detail"]["data"]["record_type"]) for e in on_bus] == [("ChangeNotified", "invoice")]


@pytest.mark.parametrize("vendor", ["quickbooks", "quickbooks-cloudevents"])
def test_a_quickbooks_payment_is_one_change_notice_for_enrichment_in_either_payload(
    vendor: str, quiet_bus: LocalView, http: httpx.Client
) -> None:
    if vendor == "quickbooks":
        body = senders.quickbooks_legacy(("Payment", "7001", "Create"))
    else:
        body = senders.quickbooks_cloudevents("qbo.payment.created.v1")
    sent = senders.quickbooks("quickbooks", CREDENTIALS.quickbooks_token, body)

    first, again = send(http, quiet_bus, sent), send(http, quiet_bus, sent)

    assert first.status_code in (200, 202), first.text
    assert (again.status_code, again.content) == (first.status_code, first.content)
    on_bus = quiet_bus.wait_for(quiet_bus.drain_tap, timeout=10) + settle(quiet_bus)
    assert [(e["detail-type"], e["detail"]["data"]["record_type"]) for e in on_bus] == [("ChangeNotified", "payment")]


def test_a_quickbooks_customer_change_is_acknowledged_and_recorded_once(
    quiet_bus: LocalView, http: httpx.Client
) -> None:
    # Customers are the CRM's accounts: QuickBooks announcing one makes no event.
    sent = senders.quickbooks(
        "quickbooks", CREDENTIALS.quickbooks_token, senders.quickbooks_legacy(("Customer", "42", "Update"))
    )

    first, again = send(http, quiet_bus, sent), send(http, quiet_bus, sent)

    assert first.status_code in (200, 202), first.text
    assert (again.status_code, again.content) == (first.status_code, first.content)
    record = quiet_bus.audit.unprocessed_delivery(sent.source, first.json()["delivery_id"])
    assert record is not None and record.reasons == ["not_system_of_record"]
    assert settle(quiet_bus) == []


def test_xero_intent_to_receive(quiet_bus: LocalView, http: httpx.Client) -> None:
    good = send(http, quiet_bus, senders.xero("xero", CREDENTIALS.xero_key, senders.xero_intent_to_receive()))
    bad = send(http, quiet_bus, senders.xero("xero", "not-the-webhook-key-000", senders.xero_intent_to_receive()))
    assert (good.status_code, good.content) == (200, b"")
    assert bad.status_code == 401


def test_business_central_handshake(view: LocalView, http: httpx.Client) -> None:
    response = send(
        http, view, senders.business_central_handshake("businesscentral", "6a0f0c1e-2b3c-4d5e-8f90-a1b2c3d4e5f6")
    )
    assert response.status_code == 200
    assert response.text == "6a0f0c1e-2b3c-4d5e-8f90-a1b2c3d4e5f6"
    assert response.headers["content-type"].startswith("text/plain")


def test_the_canonical_crm_source_is_unchanged(quiet_bus: LocalView, http: httpx.Client) -> None:
    sent = senders.standard_webhooks(
        "crm", CREDENTIALS.crm_secret, senders.canonical_body(), delivery_id="msg_vendor_e2e_" + uuid.uuid4().hex
    )
    response = send(http, quiet_bus, sent)
    assert response.status_code == 202
    assert response.json()["event_id"] == event_id_for_delivery("crm", sent.headers["webhook-id"])


# --------------------------------------------------------------------------- bad inputs (representative subset)


def _subset(url: Any) -> list[Case]:
    """One case per (scheme, category), plus XML bombs and path injections, from the unit suite's catalog."""
    seen: set[tuple[str, str]] = set()
    chosen = []
    for case in build_cases(CREDENTIALS, url):
        key = (case.scheme, case.category)
        if key not in seen or case.id.endswith(("billion-laughs", "xxe-file", "path-dot-dot", "path-script")):
            seen.add(key)
            chosen.append(case)
    return chosen


SUBSET_IDS = [case.id for case in _subset(lambda source: f"http://placeholder/webhooks/{source}")]


@pytest.mark.parametrize("case_id", SUBSET_IDS)
def test_refused_on_the_local_stack(case_id: str, quiet_bus: LocalView, http: httpx.Client) -> None:
    # Built against this stack's URL (HubSpot signs the URL it calls).
    [case] = [c for c in _subset(url_of(quiet_bus)) if c.id == case_id]

    response = send(http, quiet_bus, case.make(), case.path)

    assert response.status_code == case.status, response.text
    assert response.json()["error"] in case.codes
    assert "Traceback" not in response.text
    assert settle(quiet_bus) == []


def test_the_whole_bad_input_catalog_is_refused_on_the_local_stack(quiet_bus: LocalView, http: httpx.Client) -> None:
    # Every case of the catalog over HTTP (the subset above checks the bus after each one;
    # here the bus is checked once, after all of them).
    cases = build_cases(CREDENTIALS, url_of(quiet_bus))
    wrong = []
    for case in cases:
        sent = case.make()
        response = send(http, quiet_bus, sent, case.path)
        error = (
            response.json().get("error")
            if response.headers.get("content-type", "").startswith("application/json")
            else None
        )
        if response.status_code != case.status or error not in case.codes or "Traceback" in response.text:
            wrong.append((case.id, response.status_code, response.text[:200]))

    assert len(cases) >= 300
    assert wrong == []
    assert settle(quiet_bus) == []


def test_genuine_deliveries_are_accepted_under_the_custom_domain_base_path(
    quiet_bus: LocalView, http: httpx.Client
) -> None:
    # The local front serves the API as a custom domain's base-path mapping too (BASE_PATH);
    # HubSpot signs the URL it called, base path included.
    base_path = "/concord"
    called = quiet_bus.state.webhook_url.removesuffix("/webhooks") + f"{base_path}/webhooks/hubspot"
    hubspot = senders.hubspot("hubspot", CREDENTIALS.hubspot_secret, senders.hubspot_events(), called)
    canonical = senders.standard_webhooks(
        "crm", CREDENTIALS.crm_secret, senders.canonical_body(), delivery_id="msg_base_path_" + uuid.uuid4().hex
    )

    hubspot_answer = send(http, quiet_bus, hubspot, f"{base_path}/webhooks/hubspot")
    canonical_answer = send(http, quiet_bus, canonical, f"{base_path}/webhooks/crm")

    assert hubspot_answer.status_code == 202, hubspot_answer.text
    assert canonical_answer.status_code == 202, canonical_answer.text
    assert sorted(e["detail-type"] for e in settle(quiet_bus)) == ["AccountChanged", "ChangeNotified"]
