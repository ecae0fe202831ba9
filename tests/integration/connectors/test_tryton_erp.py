"""TrytonErp (ErpPort) against the real `erp` database."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest

from concord.connectors.tryton import AmbiguousMatch, RecordNotFound, TrytonErp, TrytonRpcClient
from concord.connectors.tryton.names import DEACTIVATION_NOTE
from concord.domain import (
    BatchLimits,
    Customer,
    DraftInvoices,
    ErpCapabilities,
    InvoiceDraft,
    InvoiceLine,
    LineRefs,
)
from concord.errors import PermanentError, ValidationFailed
from concord.events.types import Address, Money
from concord.local.scenarios.tryton_books import InvoiceDesk

from .conftest import PRODUCT_CODE, drain

pytestmark = pytest.mark.usefixtures("fresh_databases")
PAYMENT_METHOD = "Bank transfer"  # seeded for the pay wizard


def _customer(
    name: str | None = None, tax_id: str | None = "94-3123456", street: str = "500 Market Street"
) -> Customer:
    return Customer(
        account_id="17",
        name=name or f"Customer {uuid.uuid4().hex[:8]} LLC",
        billing_address=Address(street=street, city="San Francisco", postal_code="94105", region="CA", country="US"),
        tax_id=tax_id,
        currency="USD",
        legal_entity="us-01",
    )


def _parties(erp: TrytonErp, ref: str) -> list[dict[str, Any]]:
    return mapping_rows(
        erp.client, "party.party", [["concord_ref", "=", ref]], ["name", "active", "addresses", "identifiers"]
    )


def mapping_rows(client: TrytonRpcClient, model: str, domain: list[Any], fields: list[str]) -> list[dict[str, Any]]:
    return client.call(
        f"model.{model}.search_read",
        domain,
        0,
        None,
        None,
        fields,  # type: ignore[no-any-return]
        context={"active_test": False},
    )


def test_capabilities() -> None:
    capabilities = TrytonErp.__new__(TrytonErp).capabilities

    assert capabilities == ErpCapabilities(
        draft_invoices=DraftInvoices.NATIVE,
        line_refs=LineRefs.STORED,
        revenue_schedules=False,
        contract_objects=True,
        billing_terms_per_customer=True,
        batch_limits=BatchLimits(invoice_lines=100),
        service_items=True,
        contacts=True,
    )


def test_upsert_customer_creates_party_with_address_and_tax_identifier(erp: TrytonErp) -> None:
    ref = f"cus-{uuid.uuid4()}"
    customer = _customer()

    created = erp.upsert_customer(customer, ref, None)

    assert (created.name, created.tax_id, created.external_ref) == (customer.name, "94-3123456", ref)
    (party,) = _parties(erp, ref)
    assert str(party["id"]) == created.customer_id
    (address,) = erp.client.search_read(
        "party.address", [["party", "=", party["id"]]], ["street", "city", "postal_code", "country.code", "invoice"]
    )
    assert (
        address["street"],
        address["city"],
        address["postal_code"],
        address["country."]["code"],
        address["invoice"],
    ) == ("500 Market Street", "San Francisco", "94105", "US", 1)
    (identifier,) = erp.client.search_read("party.identifier", [["party", "=", party["id"]]], ["type", "code"])
    assert (identifier["type"], identifier["code"]) == ("us_ein", "94-3123456")


def test_upsert_customer_twice_gives_one_party_and_updates_it(erp: TrytonErp) -> None:
    ref = f"cus-{uuid.uuid4()}"
    first = erp.upsert_customer(_customer(name="Contoso Advisory LLC"), ref, None)

    again = erp.upsert_customer(_customer(name="Contoso Advisory LLC"), ref, None)
    moved = erp.upsert_customer(_customer(name="Contoso Advisory Group LLC", street="1 Infinite Loop"), ref, None)

    assert again == first
    assert moved.customer_id == first.customer_id and moved.name == "Contoso Advisory Group LLC"
    (party,) = _parties(erp, ref)
    assert len(party["addresses"]) == 1 and len(party["identifiers"]) == 1
    (address,) = erp.client.search_read("party.address", [["party", "=", party["id"]]], ["street"])
    assert address["street"] == "1 Infinite Loop"


def test_upsert_customer_keeps_a_tax_id_tryton_cannot_validate_untyped(erp: TrytonErp) -> None:
    ref = f"cus-{uuid.uuid4()}"

    created = erp.upsert_customer(_customer(tax_id="00-0000000"), ref, None)

    assert created.tax_id == "00-0000000"
    (identifier,) = erp.client.search_read(
        "party.identifier", [["party", "=", int(created.customer_id)]], ["type", "code"]
    )
    assert identifier == {"id": identifier["id"], "type": None, "code": "00-0000000"}


def test_find_customer_by_tax_id_when_not_linked(erp: TrytonErp) -> None:
    # Given a party entered by hand in the ERP: no concord_ref, an EIN with another layout
    (party_id,) = erp.client.create(
        "party.party",
        [{"name": "Fabrikam Consulting Inc", "identifiers": [["create", [{"type": "us_ein", "code": "953123456"}]]]}],
    )

    # When Concord looks for its customer by tax id and a different name
    found = erp.find_customer(tax_id="95-3123456", name="Fabrikam Inc.")

    # Then the tax id finds it
    assert found is not None
    assert (found.customer_id, found.external_ref) == (str(party_id), None)
    assert found.tax_id == "95-3123456"  # as Tryton formats an EIN


def test_upsert_of_the_party_found_by_tax_id_links_and_updates_it(erp: TrytonErp) -> None:
    (party_id,) = erp.client.create(
        "party.party",
        [{"name": "Litware Partners", "identifiers": [["create", [{"type": "us_ein", "code": "91-1144442"}]]]}],
    )
    ref = f"cus-{uuid.uuid4()}"
    found = erp.find_customer(tax_id="911144442", name="Litware Partners LLC")
    assert found is not None and found.customer_id == str(party_id)

    linked = erp.upsert_customer(_customer(name="Litware Partners LLC", tax_id="911144442"), ref, found.customer_id)

    assert linked.customer_id == str(party_id)
    assert (linked.name, linked.external_ref) == ("Litware Partners LLC", ref)
    assert len(erp.client.search_read("party.identifier", [["party", "=", party_id]], ["id"])) == 1


def test_find_customer_by_name_and_upsert_by_ref_is_idempotent(erp: TrytonErp) -> None:
    ref = f"cus-{uuid.uuid4()}"
    name = f"Adatum {uuid.uuid4().hex[:6]} Corp"
    assert erp.find_customer(tax_id=None, name=name) is None

    created = erp.upsert_customer(_customer(name=name, tax_id=None), ref, None)
    # a create retried after a crash (no customer_id yet) finds the first by its concord_ref
    again = erp.upsert_customer(_customer(name=name, tax_id=None), ref, None)

    assert again == created
    assert erp.find_customer(tax_id=None, name=name) == created
    assert erp.find_customer(tax_id=None, name="other") is None
    assert len(_parties(erp, ref)) == 1


def test_upsert_by_customer_id_keeps_another_concord_ref(erp: TrytonErp) -> None:
    first_ref, second_ref = f"cus-{uuid.uuid4()}", f"cus-{uuid.uuid4()}"
    created = erp.upsert_customer(_customer(), first_ref, None)

    updated = erp.upsert_customer(_customer(name="Renamed Holdings LLC"), second_ref, created.customer_id)

    assert (updated.customer_id, updated.name, updated.external_ref) == (
        created.customer_id,
        "Renamed Holdings LLC",
        first_ref,
    )
    assert _parties(erp, second_ref) == []


def test_upsert_of_a_missing_customer_id_is_permanent(erp: TrytonErp) -> None:
    with pytest.raises(RecordNotFound):
        erp.upsert_customer(_customer(), f"cus-{uuid.uuid4()}", "424242")


def test_find_customer_with_two_name_matches_is_ambiguous(erp: TrytonErp) -> None:
    name = f"Twin {uuid.uuid4().hex[:6]} Ltd"
    erp.client.create("party.party", [{"name": name}, {"name": name}])

    with pytest.raises(AmbiguousMatch) as caught:
        erp.find_customer(tax_id=None, name=name)

    assert isinstance(caught.value, PermanentError)


def test_deactivate_customer_archives_with_reason_and_upsert_reactivates(erp: TrytonErp) -> None:
    ref = f"cus-{uuid.uuid4()}"
    created = erp.upsert_customer(_customer(), ref, None)

    erp.deactivate_customer(created.customer_id, "saga compensation: project creation failed")
    erp.deactivate_customer(created.customer_id, "saga compensation: project creation failed")

    (party,) = _parties(erp, ref)
    assert not party["active"]
    notes = erp.client.search_read("ir.note", [["resource", "=", f"party.party,{created.customer_id}"]], ["message"])
    assert [n["message"].rsplit(" (", 1)[0] for n in notes] == [
        f"{DEACTIVATION_NOTE}saga compensation: project creation failed"
    ]
    # still found (archived parties are the same customer), and a later upsert brings it back
    assert erp.find_customer(tax_id=None, name=created.name) == created
    erp.upsert_customer(_customer(name=created.name), ref, created.customer_id)
    assert _parties(erp, ref)[0]["active"]


def test_deactivate_missing_customer_is_permanent(erp: TrytonErp) -> None:
    with pytest.raises(RecordNotFound):
        erp.deactivate_customer("424242", "x")


def test_set_payment_term(erp: TrytonErp) -> None:
    created = erp.upsert_customer(_customer(), f"cus-{uuid.uuid4()}", None)

    erp.set_payment_term(created.customer_id, "Net 60 days")

    (party,) = erp.client.search_read(
        "party.party", [["id", "=", int(created.customer_id)]], ["customer_payment_term.name"]
    )
    assert party["customer_payment_term."]["name"] == "Net 60 days"
    with pytest.raises(ValidationFailed):
        erp.set_payment_term(created.customer_id, "Net 45 fortnights")


def _draft(customer_id: str, hours: str = "8", project_id: str | None = "PRJ-1") -> InvoiceDraft:
    return InvoiceDraft(
        customer_id=customer_id,
        currency="USD",
        project_id=project_id,
        lines=[
            InvoiceLine(
                description="Consulting, week 14",
                quantity=float(hours),
                unit_price=Money(amount=Decimal("150.00"), currency="USD"),
                service_item=PRODUCT_CODE,
                source_records=["TE-1", "TE-2"],
            )
        ],
    )


def test_create_post_and_get_invoice(erp: TrytonErp, books: InvoiceDesk) -> None:
    customer = erp.upsert_customer(_customer(), f"cus-{uuid.uuid4()}", None)

    draft = books.create_invoice(_draft(customer.customer_id))
    posted = books.post_invoice(draft.invoice_id)
    again = books.post_invoice(draft.invoice_id)

    assert (draft.posted, draft.number, draft.total.amount, draft.amount_due.amount, draft.due_on) == (
        False,
        None,
        Decimal("1200.00"),
        Decimal("1200.00"),
        None,
    )
    assert posted.posted and posted.number
    assert posted.total == Money(amount=Decimal("1200.00"), currency="USD")
    assert posted.amount_due == posted.total
    assert posted.due_on == dt.date.today() + dt.timedelta(days=30)  # Net 30 days (default)
    assert again == posted == erp.get_invoice(draft.invoice_id)
    (invoice,) = erp.client.search_read(
        "account.invoice", [["id", "=", int(draft.invoice_id)]], ["reference", "party", "state", "lines"]
    )
    assert (invoice["reference"], invoice["party"], invoice["state"]) == ("PRJ-1", int(customer.customer_id), "posted")
    (line,) = erp.client.search_read(
        "account.invoice.line", [["invoice", "=", invoice["id"]]], ["product.code", "quantity", "unit_price", "note"]
    )
    assert (line["product."]["code"], line["quantity"], line["unit_price"]) == (PRODUCT_CODE, 8.0, Decimal("150.00"))
    assert "TE-1, TE-2" in line["note"]


def test_create_invoice_with_concord_ref_is_idempotent(erp: TrytonErp, books: InvoiceDesk) -> None:
    customer = erp.upsert_customer(_customer(), f"cus-{uuid.uuid4()}", None)
    ref = f"inv-{uuid.uuid4()}"

    first = books.create_invoice(_draft(customer.customer_id), concord_ref=ref)
    second = books.create_invoice(_draft(customer.customer_id), concord_ref=ref)

    assert second == first
    assert len(erp.client.search_read("account.invoice", [["concord_ref", "=", ref]], ["id"])) == 1


def test_create_invoice_for_missing_customer_or_product_is_permanent(erp: TrytonErp, books: InvoiceDesk) -> None:
    customer = erp.upsert_customer(_customer(), f"cus-{uuid.uuid4()}", None)
    with pytest.raises(RecordNotFound):
        books.create_invoice(_draft("424242"))
    unknown = _draft(customer.customer_id).model_copy(
        update={
            "lines": [
                InvoiceLine(
                    description="x",
                    quantity=1,
                    unit_price=Money(amount=Decimal(1), currency="USD"),
                    service_item="NO-SUCH",
                )
            ]
        }
    )
    with pytest.raises(ValidationFailed):
        books.create_invoice(unknown)


def test_get_invoice_missing_is_permanent(erp: TrytonErp) -> None:
    with pytest.raises(RecordNotFound):
        erp.get_invoice("424242")


def _pay(client: TrytonRpcClient, invoice_id: int, amount: Decimal) -> None:
    """The pay wizard over RPC: create, execute start -> choice (-> pay if partial), delete."""
    (method,) = client.search_read("account.invoice.payment.method", [["name", "=", PAYMENT_METHOD]], ["id"])
    context = {"active_id": invoice_id, "active_ids": [invoice_id], "active_model": "account.invoice"}
    session, start, _ = client.call("wizard.account.invoice.pay.create")
    try:
        view = client.call("wizard.account.invoice.pay.execute", session, {}, start, context=context)["view"]
        data = {
            start: {
                **{k: v for k, v in view["defaults"].items() if not k.endswith(".")},
                "payment_method": method["id"],
                "amount": amount,
            }
        }
        answer = client.call("wizard.account.invoice.pay.execute", session, data, "choice", context=context)
        if answer.get("view", {}).get("state") == "ask":  # a partial payment
            ask = {k: v for k, v in answer["view"]["defaults"].items() if not k.endswith(".")}
            data["ask"] = {**ask, "type": "partial"}
            client.call("wizard.account.invoice.pay.execute", session, data, "pay", context=context)
    finally:
        client.call("wizard.account.invoice.pay.delete", session)


def test_payments_since_reports_partial_and_final_payments(erp: TrytonErp, books: InvoiceDesk) -> None:
    # Given a posted invoice of 1200.00
    customer = erp.upsert_customer(_customer(), f"cus-{uuid.uuid4()}", None)
    invoice = books.post_invoice(books.create_invoice(_draft(customer.customer_id)).invoice_id)

    def of_invoice() -> list[Any]:
        return [p for p in books.payments_since(dt.date.today()) if p.invoice_id == invoice.invoice_id]

    # When it is paid 200.00 then 1000.00
    _pay(erp.client, int(invoice.invoice_id), Decimal("200.00"))
    first = of_invoice()
    _pay(erp.client, int(invoice.invoice_id), Decimal("1000.00"))
    second = [p for p in of_invoice() if p not in first and p.payment_id not in {f.payment_id for f in first}]

    # Then each payment comes once, with what is left to pay now
    (partial,) = first
    assert (partial.invoice_id, partial.amount.amount, partial.received_on) == (
        invoice.invoice_id,
        Decimal("200.00"),
        dt.date.today(),
    )
    (final,) = second
    assert final.amount == Money(amount=Decimal("1000.00"), currency="USD")
    assert final.invoice_amount_due.amount == Decimal("0")
    paid = erp.get_invoice(invoice.invoice_id)
    assert paid.posted and paid.amount_due.amount == Decimal("0")


def test_changes_since_invoices_across_ties(erp: TrytonErp) -> None:
    customer = erp.upsert_customer(_customer(), f"cus-{uuid.uuid4()}", None)
    _, cursor = drain(erp, "invoice")
    # Two invoices in one transaction: one create call
    (party,) = erp.client.search_read("party.party", [["id", "=", int(customer.customer_id)]], ["addresses"])
    journal = erp.client.search_read("account.journal", [["type", "=", "revenue"]], ["id"])[0]
    (config,) = erp.client.call("model.account.configuration.read", [1], ["default_account_receivable"])
    ids = erp.client.create(
        "account.invoice",
        [
            {
                "type": "out",
                "party": int(customer.customer_id),
                "invoice_address": party["addresses"][0],
                "journal": journal["id"],
                "account": config["default_account_receivable"],
            }
            for _ in range(3)
        ],
    )

    seen = []
    while (page := erp.changes_since("invoice", cursor, 1)).changes:
        seen.extend(page.changes)
        cursor = page.cursor
        assert len(seen) <= 3

    assert [c.record_id for c in seen] == [str(i) for i in ids]
    assert len({c.written_at for c in seen}) == 1


def test_find_customer_by_a_national_vat_number_stored_without_prefix(erp: TrytonErp) -> None:
    # Given a UK customer Concord created: Tryton stores a gb_vat as "980 7806 84"
    uk = Customer(
        account_id="18",
        name="Tailspin Toys Ltd",
        billing_address=Address(street="1 High Street", city="London", postal_code="EC1A 1BB", country="GB"),
        tax_id="GB980780684",
        legal_entity="us-01",
    )
    created = erp.upsert_customer(uk, f"cus-{uuid.uuid4()}", None)
    (identifier,) = erp.client.search_read(
        "party.identifier", [["party", "=", int(created.customer_id)]], ["type", "code_compact"]
    )
    assert (identifier["type"], identifier["code_compact"]) == ("gb_vat", "980780684")

    # When it is looked up by the VAT number as the CRM spells it, Then it is found
    found = erp.find_customer(tax_id="GB 980 7806 84", name="other")
    assert found is not None and found.customer_id == created.customer_id
