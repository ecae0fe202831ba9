"""TrytonErp's ports for the event-driven flows, against the real `erp` database: customer
master updates, a project's draft invoice and batched lines, posted invoices and payments as
polling reads them, project contract terms and cost forecast."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest

from concord.connectors.tryton import RecordNotFound, TrytonErp, TrytonPermanentError
from concord.domain import (
    Customer,
    CustomerUpdate,
    InvoiceLine,
)
from concord.errors import DraftClosed, ValidationFailed
from concord.events.types import Address, Money
from concord.local.scenarios.tryton_books import InvoiceDesk

from .conftest import PRODUCT_CODE, Calls, drain
from .test_tryton_erp import _pay

pytestmark = pytest.mark.usefixtures("fresh_databases")
EXPENSE_CODE = "EXP-REBILL"


def _customer(erp: TrytonErp, *, tax_id: str | None = "94-3123456") -> str:
    customer = Customer(
        account_id="17",
        name=f"Customer {uuid.uuid4().hex[:8]} LLC",
        billing_address=Address(
            street="500 Market Street", city="San Francisco", postal_code="94105", region="CA", country="US"
        ),
        tax_id=tax_id,
        currency="USD",
        legal_entity="us-01",
    )
    return erp.upsert_customer(customer, f"cus-{uuid.uuid4()}", None).customer_id


def _lines(
    count: int, *, prefix: str | None = None, price: str | None = "150.00", code: str = PRODUCT_CODE
) -> list[InvoiceLine]:
    prefix = prefix or f"time:{uuid.uuid4().hex[:8]}"
    return [
        InvoiceLine(
            description=f"Consulting, entry {n}",
            quantity=1.5,
            service_item=code,
            unit_price=Money(amount=Decimal(price), currency="USD") if price else None,
            source_records=[f"TE-{n}"],
            concord_ref=f"{prefix}-{n}",
        )
        for n in range(count)
    ]


def _invoice_lines(erp: TrytonErp, invoice_id: str) -> list[dict[str, Any]]:
    return erp.client.search_read(
        "account.invoice.line",
        [["invoice", "=", int(invoice_id)]],
        ["concord_ref", "product.code", "quantity", "unit_price", "unit.name", "account", "currency.code", "note"],
        order=[("id", "ASC")],
    )


# -- customers -----------------------------------------------------------------------------


def test_get_customer_has_billing_address_tax_id_currency_and_ref(erp: TrytonErp) -> None:
    customer_id = _customer(erp)

    customer = erp.get_customer(customer_id)

    assert customer.customer_id == customer_id
    assert customer.tax_id == "94-3123456"
    assert customer.currency == "USD"  # the company's: no customer currency set
    assert customer.external_ref and customer.external_ref.startswith("cus-")
    assert customer.billing_address == Address(
        street="500 Market Street", city="San Francisco", postal_code="94105", country="US"
    )
    with pytest.raises(RecordNotFound):
        erp.get_customer("424242")


def test_update_customer_writes_only_what_is_set_and_replaces_the_tax_id(erp: TrytonErp, calls: Calls) -> None:
    customer_id = _customer(erp)
    before = erp.get_customer(customer_id)
    moved = Address(street="1 Infinite Loop", city="Cupertino", postal_code="95014", country="US")

    erp.update_customer(
        customer_id, CustomerUpdate(name="Renamed Advisory LLC", billing_address=moved, tax_id="04-2103594")
    )

    after = erp.get_customer(customer_id)
    assert (after.name, after.billing_address, after.tax_id) == ("Renamed Advisory LLC", moved, "04-2103594")
    assert (after.external_ref, after.currency) == (before.external_ref, before.currency)
    identifiers = erp.client.search_read("party.identifier", [["party", "=", int(customer_id)]], ["type", "code"])
    assert [(i["type"], i["code"]) for i in identifiers] == [("us_ein", "04-2103594")]
    assert len(erp.client.search_read("party.address", [["party", "=", int(customer_id)]], ["id"])) == 1

    # A repeat writes nothing (reads only)
    _, methods = calls.during(
        lambda: erp.update_customer(
            customer_id,
            CustomerUpdate(name="Renamed Advisory LLC", billing_address=moved, tax_id="042103594", currency="USD"),
        )
    )
    assert [m for m in methods if not m.endswith(".search_read")] == []
    # Only the name: the rest is left alone
    erp.update_customer(customer_id, CustomerUpdate(name="Renamed Again LLC"))
    assert erp.get_customer(customer_id).model_dump(exclude={"name"}) == after.model_dump(exclude={"name"})


def test_update_customer_adds_a_tax_id_to_a_party_without_one_and_sets_currency(erp: TrytonErp) -> None:
    customer_id = _customer(erp, tax_id=None)
    if not erp.client.search_read("currency.currency", [["code", "=", "EUR"]], ["id"]):
        erp.client.create("currency.currency", [{"name": "Euro", "code": "EUR", "symbol": "€"}])
    with pytest.raises(ValidationFailed):
        erp.update_customer(customer_id, CustomerUpdate(currency="XTS"))

    erp.update_customer(customer_id, CustomerUpdate(tax_id="00-0000000", currency="EUR"))
    erp.update_customer(customer_id, CustomerUpdate(tax_id="94-3123456"))

    customer = erp.get_customer(customer_id)
    assert (customer.tax_id, customer.currency) == ("94-3123456", "EUR")
    identifiers = erp.client.search_read("party.identifier", [["party", "=", int(customer_id)]], ["type", "code"])
    assert [(i["type"], i["code"]) for i in identifiers] == [("us_ein", "94-3123456")]


# -- draft invoice and batched lines -------------------------------------------------------


def test_open_invoice_draft_is_one_per_project_until_posted(erp: TrytonErp, books: InvoiceDesk) -> None:
    customer_id = _customer(erp)
    project_ref = f"prj-{uuid.uuid4()}"

    first = erp.open_invoice_draft(customer_id, "USD", project_ref)
    again = erp.open_invoice_draft(customer_id, "USD", project_ref)
    other = erp.open_invoice_draft(customer_id, "USD", f"prj-{uuid.uuid4()}")

    assert again == first != other
    (invoice,) = erp.client.search_read(
        "account.invoice",
        [["id", "=", int(first)]],
        ["state", "type", "party", "reference", "concord_ref", "lines", "currency.code"],
    )
    assert (
        invoice["state"],
        invoice["type"],
        invoice["party"],
        invoice["reference"],
        invoice["concord_ref"],
        invoice["lines"],
        invoice["currency."]["code"],
    ) == ("draft", "out", int(customer_id), project_ref, f"{project_ref}:open:1", [], "USD")

    # After posting, a connector that remembered the draft learns it from the refused lines
    # (a retry may fix it: the next call opens a new draft); a fresh connector looks it up
    erp.add_invoice_lines(first, _lines(1))
    books.post_invoice(first)
    remembered = erp.open_invoice_draft(customer_id, "USD", project_ref)
    assert remembered == first
    with pytest.raises(DraftClosed, match="posted"):
        erp.add_invoice_lines(remembered, _lines(1))
    second = erp.open_invoice_draft(customer_id, "USD", project_ref)
    assert second != first
    assert TrytonErp(erp.client).open_invoice_draft(customer_id, "USD", project_ref) == second
    assert erp.open_invoice_draft(customer_id, "USD", project_ref) == second
    (row,) = erp.client.search_read("account.invoice", [["id", "=", int(second)]], ["concord_ref", "state"])
    assert (row["concord_ref"], row["state"]) == (f"{project_ref}:open:2", "draft")
    # ...and a draft of that project for another customer is for a person to sort out
    with pytest.raises(ValidationFailed):
        erp.open_invoice_draft(_customer(erp), "USD", project_ref)


def test_open_invoice_draft_racing_a_concurrent_call_returns_its_draft(erp: TrytonErp, tryton_client: Any) -> None:
    customer_id = _customer(erp)
    project_ref = f"prj-{uuid.uuid4()}"
    rival = TrytonErp(tryton_client("erp"))
    # The rival's create lands between this call's search and its create
    search = erp._open_drafts
    raced = []

    def search_then_lose_the_race(ref: str) -> Any:
        found = search(ref)
        if not raced:
            raced.append(rival.open_invoice_draft(customer_id, "USD", project_ref))
        return found

    erp._open_drafts = search_then_lose_the_race  # type: ignore[method-assign]

    mine = erp.open_invoice_draft(customer_id, "USD", project_ref)

    assert [mine] == raced
    assert len(erp.client.search_read("account.invoice", [["reference", "=", project_ref]], ["id"])) == 1


def test_add_invoice_lines_in_one_call_once_each(erp: TrytonErp, calls: Calls) -> None:
    customer_id = _customer(erp)
    invoice_id = erp.open_invoice_draft(customer_id, "USD", f"prj-{uuid.uuid4()}")
    warm = _lines(1)  # products and categories read once per REFERENCE_DATA_SECONDS
    erp.add_invoice_lines(invoice_id, warm)
    batch = _lines(20)

    added, methods = calls.during(lambda: erp.add_invoice_lines(invoice_id, batch))

    assert methods == ["model.account.invoice.line.create"]
    rows = _invoice_lines(erp, invoice_id)
    assert added == {r["concord_ref"]: str(r["id"]) for r in rows[1:]}
    assert len(rows) == 21
    row = rows[1]
    assert (
        row["product."]["code"],
        row["quantity"],
        row["unit_price"],
        row["unit."]["name"],
        row["currency."]["code"],
    ) == (PRODUCT_CODE, 1.5, Decimal("150.00"), "Hour", "USD")
    assert row["account"] and "TE-0" in row["note"]

    # A retry of the batch (and of part of it) adds nothing: the ERP refuses the create
    # (concord_ref is unique), one search finds every line
    again, methods = calls.during(lambda: erp.add_invoice_lines(invoice_id, batch[:5] + batch))
    assert again == added
    assert methods == ["model.account.invoice.line.create", "model.account.invoice.line.search_read"]

    # ...and of a batch partly added, only the rest is created
    more = _lines(3)
    mixed, methods = calls.during(lambda: erp.add_invoice_lines(invoice_id, batch[:2] + more))
    assert len(mixed) == 5 and all(mixed[line.concord_ref] == added[line.concord_ref] for line in batch[:2])
    assert methods == [
        "model.account.invoice.line.create",
        "model.account.invoice.line.search_read",
        "model.account.invoice.line.create",
    ]
    assert len(_invoice_lines(erp, invoice_id)) == 24


def test_add_invoice_lines_prices_at_list_price_and_bills_expenses(erp: TrytonErp) -> None:
    invoice_id = erp.open_invoice_draft(_customer(erp), "USD", f"prj-{uuid.uuid4()}")
    expense = InvoiceLine(
        description="Flight SFO-JFK",
        quantity=1,
        service_item=EXPENSE_CODE,
        unit_price=Money(amount=Decimal("412.30"), currency="USD"),
        concord_ref=f"expense:{uuid.uuid4()}",
    )

    erp.add_invoice_lines(invoice_id, [*_lines(1, price=None), expense])

    rows = _invoice_lines(erp, invoice_id)
    assert [(r["product."]["code"], r["unit_price"], r["unit."]["name"]) for r in rows] == [
        (PRODUCT_CODE, Decimal("150.00"), "Hour"),
        (EXPENSE_CODE, Decimal("412.30"), "Unit"),
    ]
    assert erp.get_invoice(invoice_id).total.amount == Decimal("637.30")


def test_add_invoice_lines_is_all_or_nothing(erp: TrytonErp) -> None:
    invoice_id = erp.open_invoice_draft(_customer(erp), "USD", f"prj-{uuid.uuid4()}")
    good = _lines(9)
    bad = _lines(1, code="NO-SUCH")[0]
    euro = _lines(1, price="10.00")[0].model_copy(update={"unit_price": Money(amount=Decimal("10.00"), currency="EUR")})

    with pytest.raises(ValidationFailed, match="NO-SUCH"):
        erp.add_invoice_lines(invoice_id, [*good[:4], bad, *good[4:]])
    with pytest.raises(ValidationFailed, match="EUR"):
        erp.add_invoice_lines(invoice_id, [*good, euro])
    with pytest.raises(ValidationFailed, match="concord_ref"):
        erp.add_invoice_lines(invoice_id, [*good, good[0].model_copy(update={"concord_ref": None})])
    assert _invoice_lines(erp, invoice_id) == []

    # The caller splits the batch: the good lines go in
    assert len(erp.add_invoice_lines(invoice_id, good)) == 9


def test_add_invoice_lines_to_a_posted_invoice_is_refused(
    erp: TrytonErp, tryton_client: Any, books: InvoiceDesk
) -> None:
    customer_id = _customer(erp)
    invoice_id = erp.open_invoice_draft(customer_id, "USD", f"prj-{uuid.uuid4()}")
    erp.add_invoice_lines(invoice_id, _lines(1))
    books.post_invoice(invoice_id)
    late = _lines(2)

    # whether the connector knew the invoice (cached) or not (a fresh one)
    for connector in (erp, TrytonErp(tryton_client("erp"))):
        with pytest.raises(ValidationFailed, match="posted"):
            connector.add_invoice_lines(invoice_id, late)
    assert len(_invoice_lines(erp, invoice_id)) == 1
    assert (
        erp.client.search_read(
            "account.invoice.line", [["concord_ref", "in", [line.concord_ref for line in late]]], ["id"]
        )
        == []
    )


def test_add_invoice_lines_over_the_batch_limit_is_refused(erp: TrytonErp) -> None:
    assert erp.capabilities.batch_limits.invoice_lines == 100
    with pytest.raises(ValidationFailed):
        erp.add_invoice_lines("1", _lines(erp.capabilities.batch_limits.invoice_lines + 1))


def test_invoice_line_concord_ref_is_unique(erp: TrytonErp) -> None:
    invoice_id = erp.open_invoice_draft(_customer(erp), "USD", f"prj-{uuid.uuid4()}")
    (line,) = _lines(1)
    erp.add_invoice_lines(invoice_id, [line])
    (row,) = _invoice_lines(erp, invoice_id)

    with pytest.raises(TrytonPermanentError, match="Concord reference"):
        erp.client.create(
            "account.invoice.line",
            [
                {
                    "invoice": int(invoice_id),
                    "type": "line",
                    "description": "twin",
                    "quantity": 1.0,
                    "unit_price": Decimal(1),
                    "account": row["account"],
                    "concord_ref": line.concord_ref,
                }
            ],
        )


# -- posted invoices and payments, as polling reads them -----------------------------------


def test_posted_invoice_and_received_payment(erp: TrytonErp, calls: Calls, books: InvoiceDesk) -> None:
    customer_id = _customer(erp)
    invoice_id = erp.open_invoice_draft(customer_id, "USD", f"prj-{uuid.uuid4()}")
    erp.add_invoice_lines(invoice_id, _lines(4))  # 4 x 1.5 h x 150 = 900
    assert erp.posted_invoice(invoice_id) is None  # a draft
    assert erp.posted_invoice("424242") is None

    posted = books.post_invoice(invoice_id)
    event, methods = calls.during(lambda: erp.posted_invoice(invoice_id))

    assert len(methods) == 1
    assert event is not None
    (row,) = erp.client.search_read("account.invoice", [["id", "=", int(invoice_id)]], ["number", "invoice_date"])
    assert event.model_dump() == {
        "invoice_id": invoice_id,
        "number": row["number"],
        "customer_id": customer_id,
        "invoiced_on": row["invoice_date"],
        "due_on": posted.due_on,
        "total": Money(amount=Decimal("900.00"), currency="USD").model_dump(),
    }

    # Paid in two parts: each payment line is a PaymentReceived
    _, cursor = drain(erp, "payment")
    _pay(erp.client, int(invoice_id), Decimal("300.00"))
    page = erp.changes_since("payment", cursor, 10)
    (first,) = page.changes
    partial, methods = calls.during(lambda: erp.received_payment(first.record_id))
    assert len(methods) == 2
    assert partial is not None and (partial.amount.amount, partial.invoice_amount_due.amount, partial.invoice_id) == (
        Decimal("300.00"),
        Decimal("600.00"),
        invoice_id,
    )
    assert first.created_at is not None
    _pay(erp.client, int(invoice_id), Decimal("600.00"))
    changes = erp.changes_since("payment", page.cursor, 10).changes
    # the full payment reconciles both payment lines: the first one is written again
    payments = {c.record_id: erp.received_payment(c.record_id) for c in changes}
    assert first.record_id in payments and len(payments) == 2
    assert sorted(p.amount.amount for p in payments.values() if p) == [Decimal("300.00"), Decimal("600.00")]
    assert {p.invoice_amount_due.amount for p in payments.values() if p} == {Decimal(0)}
    # not payments: the invoice's own receivable line, an unknown line
    (invoice,) = erp.client.search_read("account.invoice", [["id", "=", int(invoice_id)]], ["lines_to_pay"])
    assert [erp.received_payment(str(i)) for i in invoice["lines_to_pay"]] == [None]
    assert erp.received_payment("424242") is None


def test_changes_since_invoice_gives_created_at(erp: TrytonErp) -> None:
    invoice_id = erp.open_invoice_draft(_customer(erp), "USD", f"prj-{uuid.uuid4()}")

    changes = [c for c in drain(erp, "invoice")[0] if c.record_id == invoice_id]

    (row,) = erp.client.search_read("account.invoice", [["id", "=", int(invoice_id)]], ["create_date"])
    assert [c.created_at for c in changes] == [row["create_date"].replace(tzinfo=dt.UTC)]


def test_billed_refs_names_the_lines_on_invoices_with_their_quantity(erp: TrytonErp) -> None:
    invoice_id = erp.open_invoice_draft(_customer(erp), "USD", f"prj-{uuid.uuid4()}")
    lines = _lines(3, prefix=f"time:{uuid.uuid4().hex[:8]}")
    erp.add_invoice_lines(invoice_id, lines)
    refs = [line.concord_ref or "" for line in lines]
    billed = erp.billed_refs([*refs, "time:never-billed"])
    assert billed == {ref: line.quantity for ref, line in zip(refs, lines, strict=True)}
    assert erp.billed_refs([]) == {}
