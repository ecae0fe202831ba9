"""Every request the Business Central connector sends, and every answer the sandbox gives, is
valid against Microsoft's v1.0 OpenAPI document (spec.py: the v2.0 differences are listed
there), through a whole quote-to-cash run and its failure paths."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import httpx
import pytest

from concord.domain import Customer, CustomerUpdate, InvoiceLine
from concord.errors import ConcordError
from concord.events.types import Address

from . import spec
from .sandbox_systems import BusinessCentralSystems


def _run_everything(systems: BusinessCentralSystems) -> None:
    erp = systems.erp
    cursor = {
        kind: erp.start_cursor(kind, dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        for kind in ("customer", "invoice", "payment")
    }
    acme = Customer(
        account_id="a",
        name="Acme O'Brien",
        tax_id="12-3456789",
        currency="USD",
        legal_entity="us-01",
        billing_address=Address(street="1 Main St", city="Springfield", region="IL", postal_code="62701", country="US"),
    )
    made = erp.upsert_customer(acme, "customer:crm:a", None)
    erp.upsert_customer(acme, "customer:crm:a", made.customer_id)
    erp.update_customer(made.customer_id, CustomerUpdate(name="Acme", currency="EUR"))
    erp.update_customer(made.customer_id, CustomerUpdate(currency="USD"))
    erp.set_payment_term(made.customer_id, "30 DAYS")
    erp.find_customer(tax_id="12-3456789", name="Acme")
    draft = erp.open_invoice_draft(made.customer_id, "USD", "project:crm:006Aa000004bGxYIAU")
    erp.add_invoice_lines(
        draft,
        [
            InvoiceLine(description="Build", quantity=7.5, service_item="CONSULT-HR", concord_ref="time:1"),
            InvoiceLine(
                description="Licence",
                quantity=1,
                service_item="LICENSE",
                unit_price={"amount": Decimal(900), "currency": "USD"},  # type: ignore[arg-type]
                concord_ref="time:2",
            ),
        ],
    )
    with pytest.raises(ConcordError):
        erp.add_invoice_lines(draft, [InvoiceLine(description="x", quantity=1, service_item="NOPE", concord_ref="t:3")])
    erp.get_invoice(draft)
    systems.finance.post(draft)
    payment = systems.finance.pay(draft, Decimal(500))
    erp.posted_invoice(draft)
    erp.received_payment(payment)
    for kind, start in cursor.items():
        page = erp.changes_since(kind, start, 10)
        erp.changes_of(kind, [change.record_id for change in page.changes] + ["00000000-0000-0000-0000-00000000abcd"])
    erp.deactivate_customer(made.customer_id, "gone")
    with pytest.raises(ConcordError):
        erp.get_customer("00000000-0000-0000-0000-00000000abcd")


def test_every_connector_request_and_sandbox_answer_matches_the_spec(systems: BusinessCentralSystems) -> None:
    _run_everything(systems)

    api_calls = [
        (request, response) for request, response in systems.recorder.exchanges if "/oauth2/" not in request.url.path
    ]
    assert len(api_calls) > 25
    for request, response in api_calls:
        spec.check_exchange(request, response)
    kinds = {
        spec.operation(request.method, request.url.path).template
        for request, _ in api_calls
        if not request.url.path.endswith("$batch")
    }
    assert {
        "/companies({company_id})/customers",
        "/companies({company_id})/customers({customer_id})",
        "/companies({company_id})/salesInvoices",
        "/companies({company_id})/salesInvoices({salesInvoice_id})",
        "/companies({company_id})/paymentTerms",
        "/companies({company_id})/customerPayments",
        "/companies({company_id})/customerPayments({customerPayment_id})",
    } <= kinds


def test_the_token_request_is_the_entra_client_credentials_grant(systems: BusinessCentralSystems) -> None:
    systems.erp.find_customer(tax_id=None, name="anyone")

    token_request = systems.recorder.exchanges[0][0]
    form = dict(httpx.QueryParams(token_request.content.decode()))
    assert token_request.url.path.endswith("/concord-sandbox.onmicrosoft.com/oauth2/v2.0/token")
    assert (
        form["grant_type"] == "client_credentials"
        and form["scope"] == "https://api.businesscentral.dynamics.com/.default"
    )


def test_finance_and_reference_reads_match_the_spec(systems: BusinessCentralSystems) -> None:
    """What the scenario's finance user reads and writes, answered by the sandbox."""
    http = systems.finance.company._http
    for path in (
        "/customers",
        "/items",
        "/paymentTerms",
        "/customerPaymentJournals",
        "/customerPayments",
        "/salesInvoices",
    ):
        answer = http.get(path)
        spec.check_response("GET", str(answer.request.url), answer.status_code, answer.json())
    refused = http.post("/customers", json={"displayName": "x", "noSuchField": 1})
    spec.check_response("POST", str(refused.request.url), refused.status_code, refused.json())
    assert refused.status_code == 400


def test_the_validator_refuses_what_v1_and_the_listed_v2_fields_do_not_allow() -> None:
    """The checks can fail: an unknown field, a wrong type, an undeclared path or query."""
    path = "https://x/v2.0/t/e/api/v2.0/companies(5b3a0a1e-0d8e-ef11-8a6a-6045bdacc1a1)/customers"
    with pytest.raises(AssertionError, match="concordRef"):
        spec.check_request("POST", path, {"displayName": "A", "concordRef": "x"})
    with pytest.raises(AssertionError):
        spec.check_request("POST", path, {"displayName": 5})
    with pytest.raises(AssertionError, match="undeclared query"):
        spec.check_request("GET", path + "?$apply=groupby", None)
    with pytest.raises(AssertionError, match="no path"):
        spec.check_request("GET", path.replace("customers", "customerz"), None)
    spec.check_request("POST", path, {"displayName": "A", "addressLine1": "1 Main"})  # a listed v2.0 field
