"""The QuickBooks connector against the in-process sandbox: every request it sends and every
answer it gets validates against Intuit's XSDs (the recorder checks each exchange)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest

from concord.domain import Customer, CustomerUpdate, InvoiceLine
from concord.errors import ConfigurationError
from concord.events.types import Address

from .sandbox_systems import QuickBooksSystems, quickbooks_systems

pytestmark = pytest.mark.enable_socket


@pytest.fixture
def systems() -> Iterator[QuickBooksSystems]:
    with quickbooks_systems() as built:
        yield built


def _customer(n: str) -> Customer:
    return Customer(
        account_id=f"acct-{n}",
        name=f"Client {n}",
        billing_address=Address(street="1 Main St", city="Springfield", postal_code="01101", region="MA", country="US"),
        tax_id=f"TAX-{n}",
        currency="USD",
        legal_entity="us-01",
    )


def _lines(project_ref: str, hours: list[float]) -> list[InvoiceLine]:
    return [
        InvoiceLine(description=f"{h} h", quantity=h, service_item="CONSULT-HR", concord_ref=f"time:{project_ref}:{n}")
        for n, h in enumerate(hours)
    ]


def test_customers_are_created_once_per_ref_found_and_updated(systems: QuickBooksSystems) -> None:
    erp = systems.erp
    created = erp.upsert_customer(_customer("1"), "customer:crm:1", None)
    retried = erp.upsert_customer(_customer("1"), "customer:crm:1", None)  # same requestid: first answer
    erp.update_customer(created.customer_id, CustomerUpdate(name="Client One"))
    erp.set_payment_term(created.customer_id, "Net 15")

    assert retried.customer_id == created.customer_id
    assert erp.find_customer(tax_id="TAX-1", name="nobody") == erp.get_customer(created.customer_id)
    assert erp.get_customer(created.customer_id).name == "Client One"
    assert systems.finance.customer_name(created.customer_id) == "Client One"
    writes = [r for r, _ in systems.recorder.exchanges if r.method == "POST" and "/v3/company/" in r.url.path]
    assert all(r.url.params.get("requestid") and r.url.params.get("minorversion") for r in writes)


def test_a_stale_sync_token_rereads_and_retries_once(systems: QuickBooksSystems) -> None:
    erp = systems.erp
    created = erp.upsert_customer(_customer("2"), "customer:crm:2", None)
    original = erp.client.read
    calls = {"n": 0}

    def read_then_change_behind(entity: str, record_id: str) -> dict[str, object]:
        record = original(entity, record_id)
        calls["n"] += 1
        if calls["n"] == 1:  # someone else writes between Concord's read and its write
            systems.finance._call(
                "POST", "/customer", {"Id": record_id, "SyncToken": record["SyncToken"], "sparse": True, "Notes": "x"}
            )
        return record

    erp.client.read = read_then_change_behind  # type: ignore[method-assign]
    erp.update_customer(created.customer_id, CustomerUpdate(name="Client Two"))

    erp.client.read = original  # type: ignore[method-assign]
    assert calls["n"] == 2 and erp.get_customer(created.customer_id).name == "Client Two"


def test_the_draft_is_an_estimate_until_finance_converts_it(systems: QuickBooksSystems) -> None:
    erp = systems.erp
    customer = erp.upsert_customer(_customer("3"), "customer:crm:3", None)
    project = "project:crm:3"
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    cursor = erp.start_cursor("invoice", since)
    draft = erp.open_invoice_draft(customer.customer_id, "USD", project)

    first = erp.add_invoice_lines(draft, _lines(project, [1.0, 2.0]))
    more = erp.add_invoice_lines(draft, _lines(project, [1, 1, 4.0])[2:])
    assert erp.open_invoice_draft(customer.customer_id, "USD", project) == draft
    assert erp.posted_invoice(draft) is None and not erp.get_invoice(draft).posted
    assert systems.finance.billed_hours(project) == Decimal(7)

    invoice_id = systems.finance.post_invoice(project)
    changes = erp.changes_since("invoice", cursor, 10).changes
    posted = erp.posted_invoice(invoice_id)

    assert len(set(first.values()) | set(more.values())) == 3
    assert [c.record_id for c in changes] == [invoice_id]
    assert posted is not None and posted.invoice_id == draft and posted.total.amount == Decimal(1050)
    assert erp.open_invoice_draft(customer.customer_id, "USD", project) == "project:crm:3#2"
    assert erp.changes_of("invoice", [invoice_id, "999"])[0].record_id == invoice_id


def test_a_payment_is_read_against_the_draft_it_paid(systems: QuickBooksSystems) -> None:
    erp = systems.erp
    customer = erp.upsert_customer(_customer("4"), "customer:crm:4", None)
    draft = erp.open_invoice_draft(customer.customer_id, "USD", "project:crm:4")
    erp.add_invoice_lines(draft, _lines("project:crm:4", [2.0]))
    invoice_id = systems.finance.post_invoice("project:crm:4")
    cursor = erp.start_cursor("payment", dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    systems.finance.record_payment(invoice_id, Decimal(100))

    [change] = erp.changes_since("payment", cursor, 10).changes
    received = erp.received_payment(change.record_id)

    assert received is not None and received.invoice_id == draft
    assert (received.amount.amount, received.invoice_amount_due.amount) == (Decimal(100), Decimal(200))


def test_project_accounting_is_a_declared_gap(systems: QuickBooksSystems) -> None:
    assert not systems.erp.capabilities.contract_objects
    with pytest.raises(ConfigurationError):
        systems.erp.get_contract_terms("project:crm:5")
