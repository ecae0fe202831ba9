"""Every request the Xero connector sends, and every answer the sandbox gives, is valid against
Xero's OpenAPI document (spec.py lists where Xero's behaviour and its document differ), through
a whole port-contract-style run and its failure paths."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import httpx
import pytest

from concord.domain import Customer, CustomerUpdate, InvoiceLine
from concord.errors import ConcordError, ValidationFailed
from concord.events.types import Address
from concord.local.sandboxes.xero import XeroSandbox

from . import spec
from .sandbox_systems import XeroSystems, xero_systems

UNKNOWN = "00000000-0000-0000-0000-00000000abcd"


def _run_everything(systems: XeroSystems) -> None:
    erp = systems.erp
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2)
    cursors = {kind: erp.start_cursor(kind, since) for kind in ("customer", "invoice", "payment")}
    acme = Customer(
        account_id="a",
        name='Acme "Quoted" O\'Brien',
        tax_id="12-3456789",
        currency="USD",
        legal_entity="us-01",
        billing_address=Address(street="1 Main St", city="Springfield", region="IL", postal_code="62701", country="US"),
    )
    made = erp.upsert_customer(acme, "customer:crm:a", None)
    erp.upsert_customer(acme, "customer:crm:a", None)  # found by its ContactNumber
    erp.update_customer(made.customer_id, CustomerUpdate(name="Acme", currency="EUR"))
    erp.set_payment_term(made.customer_id, "Net 30 days")
    erp.find_customer(tax_id="12-3456789", name="Acme")
    erp.find_customer(tax_id=None, name="Nobody")
    draft = erp.open_invoice_draft(made.customer_id, "USD", "project:crm:006Aa000004bGxYIAU")
    lines = [
        InvoiceLine(description="Build", quantity=7.5, service_item="CONSULT-HR", concord_ref="time:1"),
        InvoiceLine(
            description="Licence",
            quantity=1,
            service_item="LICENSE",
            unit_price={"amount": Decimal(900), "currency": "USD"},  # type: ignore[arg-type]
            concord_ref="time:2",
        ),
    ]
    erp.add_invoice_lines(draft, lines[:1])
    erp.add_invoice_lines(draft, lines[1:])
    with pytest.raises(ValidationFailed):
        erp.add_invoice_lines(draft, [InvoiceLine(description="x", quantity=1, service_item="NOPE", concord_ref="t:3")])
    erp.get_invoice(draft)
    systems.finance.post(draft)
    payment = systems.finance.pay(draft, Decimal(500))
    erp.posted_invoice(draft)
    erp.received_payment(payment)
    for kind, start in cursors.items():
        page = erp.changes_since(kind, start, 10)
        erp.changes_of(kind, [change.record_id for change in page.changes] + [UNKNOWN])
    erp.deactivate_customer(made.customer_id, "gone")
    with pytest.raises(ConcordError):
        erp.get_customer(UNKNOWN)


def test_every_connector_request_and_sandbox_answer_matches_the_spec(systems: XeroSystems) -> None:
    _run_everything(systems)

    api_calls = [(rq, rs) for rq, rs in systems.recorder.exchanges if "/connect/token" not in rq.url.path]
    templates = {spec.check_exchange(request, response) for request, response in api_calls}

    assert len(api_calls) > 25
    assert {
        "/Contacts",
        "/Contacts/{ContactID}",
        "/Invoices",
        "/Invoices/{InvoiceID}",
        "/Payments",
        "/Payments/{PaymentID}",
    } <= templates
    statuses = {response.status_code for _, response in api_calls}
    assert {200, 400, 404} <= statuses  # the refused line (400) and the unknown contact (404) too


def test_every_post_and_put_carries_a_key_and_a_retry_carries_the_same(systems: XeroSystems) -> None:
    customer = Customer(account_id="k", name="Keyed", legal_entity="us-01")
    systems.erp.upsert_customer(customer, "customer:crm:k", None)

    api_calls = [rq for rq, _ in systems.recorder.exchanges if "/connect/token" not in rq.url.path]
    writes = [rq for rq in api_calls if rq.method in ("POST", "PUT")]
    key = writes[0].headers["Idempotency-Key"]
    again = systems.erp.client.save_each(
        "create contact", "PUT", "Contacts", "Contacts", [spec_contact("Keyed", "customer:crm:k")], "customer:crm:k"
    )

    assert writes and all(rq.headers.get("Idempotency-Key") for rq in writes)
    assert systems.recorder.exchanges[-1][0].headers["Idempotency-Key"] == key
    # the sandbox answered the replay with the first answer: the same contact, not a name clash
    assert isinstance(again[0], dict) and again[0]["Name"] == "Keyed"


def spec_contact(name: str, number: str) -> dict[str, object]:
    return {"ContactNumber": number, "Name": name, "ContactStatus": "ACTIVE"}


def test_an_array_with_one_bad_element_saves_the_others_and_names_the_bad_one(systems: XeroSystems) -> None:
    batch = [spec_contact("First", "n:1"), {"ContactNumber": "n:2", "Name": ""}, spec_contact("Third", "n:3")]

    results = systems.erp.client.save_each("create contacts", "PUT", "Contacts", "Contacts", batch, "batch:1")

    assert isinstance(results[1], ValidationFailed) and "name must be specified" in str(results[1])
    assert [r["Name"] for r in results if isinstance(r, dict)] == ["First", "Third"]
    request, response = systems.recorder.exchanges[-1]
    assert request.url.params["summarizeErrors"] == "false" and response.status_code == 200
    spec.check_exchange(request, response)


def test_finance_reads_and_writes_match_the_spec(systems: XeroSystems) -> None:
    http = systems.finance.organisation._http
    for path in ("/Contacts", "/Invoices", "/Payments", "/Items"):
        answer = http.get(path)
        spec.check_response("GET", str(answer.request.url), answer.status_code, answer.headers, answer.json())
    refused = http.put("/Invoices", json={"Invoices": [{"Type": "ACCREC", "Contact": {"ContactID": UNKNOWN}}]})
    spec.check_response("PUT", str(refused.request.url), refused.status_code, refused.headers, refused.json())
    assert refused.status_code == 400 and refused.json()["Type"] == "ValidationException"


@pytest.mark.enable_socket
def test_a_throttled_answer_matches_the_listed_difference() -> None:
    with xero_systems(XeroSandbox(per_minute=2)) as systems:
        http = systems.finance.organisation._http
        answers = [http.get("/Contacts") for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    throttled = answers[-1]
    spec.check_response("GET", str(throttled.request.url), 429, throttled.headers, throttled.json())


def test_the_validator_refuses_what_the_document_does_not_allow() -> None:
    """The checks can fail: an unknown field, a wrong type, an undeclared query or path, no key."""
    url = "https://api.xero.com/api.xro/2.0/Contacts"
    headers = {"xero-tenant-id": "t", "Idempotency-Key": "k"}

    def put(body: object, **extra: str) -> httpx.Request:
        return httpx.Request("PUT", url, json=body, headers={**headers, **extra})

    with pytest.raises(AssertionError, match="concordRef"):
        spec.check_request(put({"Contacts": [{"Name": "A", "concordRef": "x"}]}))
    with pytest.raises(AssertionError):
        spec.check_request(put({"Contacts": [{"Name": 5}]}))
    with pytest.raises(AssertionError, match="undeclared query"):
        spec.check_request(httpx.Request("GET", url + "?filter=x", headers=headers))
    with pytest.raises(AssertionError, match="no path"):
        spec.check_request(httpx.Request("GET", url.replace("Contacts", "Contactz"), headers=headers))
    with pytest.raises(AssertionError, match="Idempotency-Key"):
        spec.check_request(httpx.Request("PUT", url, json={"Contacts": []}, headers={"xero-tenant-id": "t"}))
    spec.check_request(put({"Contacts": [{"Name": "A", "ContactNumber": "c:1"}]}))
