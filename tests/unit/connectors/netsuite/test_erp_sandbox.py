"""The NetSuite ERP connector against the NetSuite sandbox, finance played by the local
scenario's clerk: customers by external id, the sales order as the emulated draft, the invoice
finance bills from it reported under the draft's id, payments, change capture and the
declared gaps."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest

from concord.connectors.kit.errors import Throttled
from concord.domain import ContractTerms, Customer, InvoiceLine
from concord.errors import ConfigurationError, ValidationFailed
from concord.events.payloads import ContractType
from concord.events.types import Address

from .sandbox_systems import NetSuiteSystems, netsuite_systems

_n = itertools.count(1)


def customer(name: str = "Acme", tax_id: str = "12-3456789") -> Customer:
    return Customer(
        account_id=f"a{next(_n)}",
        name=name,
        tax_id=tax_id,
        currency="USD",
        legal_entity="us",
        billing_address=Address(street="1 Main St", city="Boston", postal_code="02110", country="US"),
    )


def lines(*refs: str) -> list[InvoiceLine]:
    return [
        InvoiceLine(description=f"work {ref}", quantity=n + 1, service_item="CONSULT-HR", concord_ref=ref)
        for n, ref in enumerate(refs)
    ]


def billed_project(systems: NetSuiteSystems, project_ref: str = "project:crm:o1") -> tuple[str, str]:
    """(customer id, draft id) of a project with two lines on its sales order."""
    erp = systems.erp
    customer_id = erp.upsert_customer(customer(), f"customer:crm:{next(_n)}", None).customer_id
    draft = erp.open_invoice_draft(customer_id, "USD", project_ref)
    erp.add_invoice_lines(draft, lines(f"{project_ref}:t1", f"{project_ref}:t2"))
    return customer_id, draft


def test_a_retried_create_finds_the_customer_the_first_made(systems: NetSuiteSystems) -> None:
    first = systems.erp.upsert_customer(customer(), "customer:crm:A1", None)
    again = systems.erp.upsert_customer(customer(name="Acme Corp"), "customer:crm:A1", None)

    assert again.customer_id == first.customer_id and again.name == "Acme Corp"
    assert again.billing_address is not None and again.billing_address.postal_code == "02110"


def test_inactive_customers_are_found_by_tax_id_then_by_name(systems: NetSuiteSystems) -> None:
    created = systems.erp.upsert_customer(customer(name="Globex", tax_id="98-7654321"), "customer:crm:G", None)
    systems.erp.deactivate_customer(created.customer_id, "merged")

    assert systems.erp.find_customer(tax_id="98-7654321", name="nobody").customer_id == created.customer_id
    assert systems.erp.find_customer(tax_id=None, name="Globex").customer_id == created.customer_id
    assert systems.erp.find_customer(tax_id="00-0000000", name="O'Brien") is None  # a quote stays inside the literal


def test_payment_terms_are_set_by_name_and_give_the_invoice_its_due_date(systems: NetSuiteSystems) -> None:
    customer_id, draft = billed_project(systems)
    systems.erp.set_payment_term(customer_id, "Net 60")
    with pytest.raises(ValidationFailed):
        systems.erp.set_payment_term(customer_id, "Net 7 years")

    systems.clerk.post(systems.clerk.draft_invoice("project:crm:o1")["id"])

    posted = systems.erp.posted_invoice(draft)
    assert posted is not None and posted.due_on - posted.invoiced_on == dt.timedelta(days=60)


def test_lines_go_on_one_sales_order_once_per_reference(systems: NetSuiteSystems) -> None:
    customer_id, draft = billed_project(systems)
    more = lines("project:crm:o1:t1", "project:crm:o1:t3")

    again = systems.erp.add_invoice_lines(draft, more)

    assert systems.erp.open_invoice_draft(customer_id, "USD", "project:crm:o1") == draft
    assert set(again) == {"project:crm:o1:t1", "project:crm:o1:t3"}
    order = systems.clerk.draft_invoice("project:crm:o1")
    assert len(order["lines"]) == 3 and order["total_amount"] == Decimal(150 * (1 + 2 + 2))
    assert systems.erp.billed_refs(["project:crm:o1:t1", "project:crm:o1:t3", "nope"]) == {
        "project:crm:o1:t1": 1.0,
        "project:crm:o1:t3": 2.0,
    }


def test_an_unknown_item_adds_nothing_and_an_open_draft_keeps_its_currency(systems: NetSuiteSystems) -> None:
    customer_id = systems.erp.upsert_customer(customer(), "customer:crm:X", None).customer_id
    draft = systems.erp.open_invoice_draft(customer_id, "USD", "project:crm:x")
    bad = InvoiceLine(description="?", quantity=1, service_item="NO-SUCH-ITEM", concord_ref="r1")

    with pytest.raises(ValidationFailed):
        systems.erp.add_invoice_lines(draft, [*lines("r0"), bad])
    assert systems.clerk.draft_invoice("project:crm:x") is None
    systems.erp.add_invoice_lines(draft, lines("r2"))
    with pytest.raises(ValidationFailed):
        systems.erp.open_invoice_draft(customer_id, "EUR", "project:crm:x")


def test_the_invoice_finance_bills_is_reported_under_the_drafts_id_until_paid(systems: NetSuiteSystems) -> None:
    customer_id, draft = billed_project(systems)
    assert systems.erp.posted_invoice(draft) is None and not systems.erp.get_invoice(draft).posted
    invoices = systems.erp.start_cursor("invoice", dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))

    invoice_id = systems.clerk.post(systems.clerk.draft_invoice("project:crm:o1")["id"])
    (change,) = systems.erp.changes_since("invoice", invoices, 10).changes
    payments = systems.erp.start_cursor("payment", dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    payment_id = systems.clerk.pay(invoice_id, Decimal("100"))
    (paid,) = systems.erp.changes_since("payment", payments, 10).changes

    posted = systems.erp.posted_invoice(change.record_id)
    assert change.record_id == invoice_id and posted is not None
    assert (posted.invoice_id, posted.customer_id, posted.total.amount) == (draft, customer_id, Decimal(450))
    payment = systems.erp.received_payment(paid.record_id)
    assert paid.record_id == payment_id and payment is not None and payment.invoice_id == draft
    assert (payment.amount.amount, payment.invoice_amount_due.amount) == (Decimal(100), Decimal(350))
    record = systems.erp.get_invoice(draft)
    assert record.posted and record.number and record.amount_due.amount == Decimal(350)
    assert systems.erp.open_invoice_draft(customer_id, "USD", "project:crm:o1") == "project:crm:o1:open:2"
    with pytest.raises(ValidationFailed):  # the billed order takes no more lines
        systems.erp.add_invoice_lines(draft, lines("project:crm:o1:late"))


def test_change_capture_pages_of_one_neither_skip_nor_repeat(systems: NetSuiteSystems) -> None:
    cursor = systems.erp.start_cursor("customer", dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    made = {
        systems.erp.upsert_customer(customer(name=f"C{n}"), f"customer:crm:c{n}", None).customer_id for n in range(3)
    }

    seen: list[str] = []
    for _ in range(10):
        page = systems.erp.changes_since("customer", cursor, 1)
        seen += [change.record_id for change in page.changes]
        cursor = page.cursor
        if not page.more and not page.changes:
            break

    assert sorted(seen) == sorted(made)
    assert systems.erp.changes_of("customer", [*made, "nope", "999999"]) and all(
        c.created_at for c in systems.erp.changes_of("customer", list(made))
    )


def test_project_accounting_is_a_declared_gap(systems: NetSuiteSystems) -> None:
    assert not systems.erp.capabilities.contract_objects
    with pytest.raises(ConfigurationError):
        systems.erp.set_contract_terms(
            "project:crm:o1", "1", ContractTerms(contract_type=ContractType("fixed_fee"), billing_owner="Jane")
        )


def test_the_accounts_concurrency_limit_throttles_the_connector() -> None:
    with netsuite_systems() as systems:
        systems.erp.find_customer(tax_id=None, name="warm up")  # the token is fetched
        systems.server.tenant("erp").hold(5)  # the firm's other integrations use every slot
        with pytest.raises(Throttled):
            systems.erp.find_customer(tax_id=None, name="anyone")
        systems.server.tenant("erp").hold(0)
        assert systems.erp.find_customer(tax_id=None, name="anyone") is None
