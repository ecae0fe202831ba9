"""The Dynamics 365 Finance ERP connector against the Finance sandbox, finance played by the local
scenario's clerk: customers under deterministic accounts, the free text invoice as the native
draft with lines added in one $batch change set, posting and payment journals read back, ETags,
throttling, change capture across companies and the declared gaps."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from concord.connectors.kit.errors import Conflict, Throttled
from concord.domain import (
    ContractTerms,
    Customer,
    CustomerUpdate,
    InvoiceLine,
    LineRefs,
)
from concord.errors import ConfigurationError, ValidationFailed
from concord.events.payloads import ContractType
from concord.events.types import Address, Money

from .sandbox_systems import FinanceSystems, finance_systems

_n = itertools.count(1)


def customer(name: str = "Acme", tax_id: str = "12-3456789", legal_entity: str = "us-01") -> Customer:
    return Customer(account_id=f"a{next(_n)}", name=name, tax_id=tax_id, currency="USD", legal_entity=legal_entity,
                    billing_address=Address(street="1 Main St", city="Boston", postal_code="02110", country="US"))


def lines(*refs: str, price: Decimal | None = None) -> list[InvoiceLine]:
    return [InvoiceLine(description=f"work {ref}", quantity=n + 1, service_item="CONSULT-HR", concord_ref=ref,
                        unit_price=Money(amount=price, currency="USD") if price is not None else None)
            for n, ref in enumerate(refs)]


def billed_project(systems: FinanceSystems, project_ref: str = "project:crm:o1") -> tuple[str, str]:
    """(customer id, draft id) of a project with two lines (1 h and 2 h at 150) on its draft."""
    erp = systems.erp
    customer_id = erp.upsert_customer(customer(), f"customer:crm:{next(_n)}", None).customer_id
    draft = erp.open_invoice_draft(customer_id, "USD", project_ref)
    erp.add_invoice_lines(draft, lines(f"{project_ref}:t1", f"{project_ref}:t2"))
    return customer_id, draft


def test_a_retried_create_finds_the_customer_under_its_deterministic_account(systems: FinanceSystems) -> None:
    first = systems.erp.upsert_customer(customer(), "customer:crm:A1", None)
    again = systems.erp.upsert_customer(customer(name="Acme Corp"), "customer:crm:A1", None)
    elsewhere = systems.erp.upsert_customer(customer(name="Acme UK", legal_entity="uk-01"), "customer:crm:A2", None)

    assert again.customer_id == first.customer_id and first.customer_id.startswith("usmf:CC-")
    assert again.name == "Acme Corp" and again.billing_address is not None
    assert again.billing_address.postal_code == "02110" and again.billing_address.country == "US"
    assert elsewhere.customer_id.startswith("gbsi:")


def test_customers_on_hold_are_found_by_tax_id_then_by_name(systems: FinanceSystems) -> None:
    created = systems.erp.upsert_customer(customer(name="Globex", tax_id="98-7654321"), "customer:crm:G", None)
    systems.erp.deactivate_customer(created.customer_id, "merged")

    assert systems.erp.find_customer(tax_id="98-7654321", name="nobody").customer_id == created.customer_id
    assert systems.erp.find_customer(tax_id=None, name="Globex").customer_id == created.customer_id
    assert systems.erp.find_customer(tax_id="00-0000000", name="O'Brien") is None  # a quote stays inside the literal


def test_an_update_sends_the_etag_it_read_and_a_term_that_does_not_exist_is_refused(systems: FinanceSystems) -> None:
    created = systems.erp.upsert_customer(customer(), "customer:crm:E", None)
    systems.erp.update_customer(created.customer_id, CustomerUpdate(name="Renamed"))
    with pytest.raises(ValidationFailed, match="Terms of payment"):
        systems.erp.set_payment_term(created.customer_id, "Net 7 years")

    assert systems.erp.get_customer(created.customer_id).name == "Renamed"
    patches = [c for c in systems.control.calls("erp") if c.method == "PATCH"]
    assert [c.status for c in patches] == [204, 400]


def test_lines_go_on_the_projects_draft_once_per_reference_in_one_batch(systems: FinanceSystems) -> None:
    customer_id, draft = billed_project(systems)
    systems.control.clear_calls("erp")

    again = systems.erp.add_invoice_lines(draft, lines("project:crm:o1:t1", "project:crm:o1:t3"))

    assert systems.erp.open_invoice_draft(customer_id, "USD", "project:crm:o1") == draft
    assert set(again) == {"project:crm:o1:t1", "project:crm:o1:t3"}
    assert systems.erp.billed_refs(["project:crm:o1:t1", "project:crm:o1:t3", "nope"]) == {
        "project:crm:o1:t1": 1.0, "project:crm:o1:t3": 2.0}
    assert [c.path for c in systems.control.calls("erp") if c.method == "POST"] == ["/data/$batch"]
    assert len(systems.clerk.draft_invoice("project:crm:o1")["lines"]) == 3


def test_a_batch_with_a_bad_line_adds_none_of_its_lines(systems: FinanceSystems) -> None:
    _, draft = billed_project(systems)
    bad = InvoiceLine(description="x", quantity=1, service_item="CONSULT-HR", concord_ref="bad",
                      unit_price=Money(amount=Decimal(1), currency="EUR"))
    with pytest.raises(ValidationFailed):
        systems.erp.add_invoice_lines(draft, [*lines("project:crm:o1:t9"), bad])
    unmapped = InvoiceLine(description="x", quantity=1, service_item="NO-SUCH", concord_ref="u")
    with pytest.raises(ValidationFailed, match="NO-SUCH"):
        systems.erp.add_invoice_lines(draft, [unmapped])

    assert systems.erp.billed_refs(["project:crm:o1:t9"]) == {}
    assert len(systems.clerk.draft_invoice("project:crm:o1")["lines"]) == 2


def test_a_refused_change_set_rolls_back_in_the_sandbox(systems: FinanceSystems) -> None:
    from concord.connectors.dynamics_finance.batch import BatchRequest

    _, draft = billed_project(systems)
    company, identifier = draft.split(":")
    good = {"dataAreaId": company, "InvoiceIdentifier": identifier, "LineNumber": 10, "MainAccountDisplayValue": "401100",
            "Quantity": 1, "UnitPrice": 1, "ConcordLineRef": "rolled-back"}
    with pytest.raises(ValidationFailed, match="Main account 999"):
        systems.erp.client.change_set("test", [BatchRequest("POST", "FreeTextInvoiceLines", good),
                                               BatchRequest("POST", "FreeTextInvoiceLines",
                                                            {**good, "LineNumber": 11, "MainAccountDisplayValue": "999"})])
    assert systems.erp.billed_refs(["rolled-back"]) == {}


def test_the_posted_invoice_and_a_partial_payment_are_read_from_the_journal(systems: FinanceSystems) -> None:
    customer_id, draft = billed_project(systems)
    assert systems.erp.posted_invoice(draft) is None
    assert systems.erp.get_invoice(draft).posted is False

    systems.clerk.post(draft)
    payment = systems.clerk.pay(draft, Decimal(100))

    posted = systems.erp.posted_invoice(draft)
    assert posted is not None and posted.customer_id == customer_id and posted.total.amount == Decimal("450.00")
    assert posted.due_on - posted.invoiced_on == dt.timedelta(days=30)
    received = systems.erp.received_payment(payment)
    assert received is not None and received.invoice_id == draft and received.amount.amount == Decimal(100)
    assert received.invoice_amount_due.amount == Decimal("350.00")
    record = systems.erp.get_invoice(draft)
    assert record.posted and record.number == posted.number and record.amount_due.amount == Decimal("350.00")
    # the posted draft takes no more lines; the project's next draft is a new header
    with pytest.raises(ValidationFailed, match="posted"):
        systems.erp.add_invoice_lines(draft, lines("project:crm:o1:late"))
    assert systems.erp.open_invoice_draft(customer_id, "USD", "project:crm:o1") != draft
    assert systems.erp.received_payment("usmf:NOPE:1") is None and systems.erp.received_payment("garbage") is None


def test_an_open_draft_for_another_customer_is_refused(systems: FinanceSystems) -> None:
    billed_project(systems)
    other = systems.erp.upsert_customer(customer(name="Other"), "customer:crm:other", None)
    with pytest.raises(ValidationFailed, match="open free text invoice"):
        systems.erp.open_invoice_draft(other.customer_id, "USD", "project:crm:o1")


def test_postings_and_payments_are_polled_across_companies_once_each(systems: FinanceSystems) -> None:
    start = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2)
    cursor = systems.erp.start_cursor("invoice", start)
    drafts = []
    for n, entity in enumerate(("us-01", "uk-01", "us-01")):
        customer_id = systems.erp.upsert_customer(customer(name=f"Poll {n}", legal_entity=entity),
                                                  f"customer:crm:p{n}", None).customer_id
        draft = systems.erp.open_invoice_draft(customer_id, "USD", f"project:crm:p{n}")
        systems.erp.add_invoice_lines(draft, lines(f"p{n}:t1"))
        systems.clerk.post(draft)
        drafts.append(draft)

    seen: list[str] = []
    for _ in range(10):  # pages of one
        page = systems.erp.changes_since("invoice", cursor, 1)
        seen += [c.record_id for c in page.changes]
        cursor = page.cursor
        if not page.more:
            break

    assert sorted(seen) == sorted(drafts) and any(d.startswith("gbsi:") for d in seen)
    assert systems.erp.changes_since("invoice", cursor, 100).changes == []
    named = systems.erp.changes_of("invoice", [drafts[0], drafts[0], "usmf:NOPE", "x"])
    assert [c.record_id for c in named] == [drafts[0]] and named[0].created_at is not None


def test_the_service_protection_limit_is_a_throttle_with_its_retry_after(systems: FinanceSystems) -> None:
    created = systems.erp.upsert_customer(customer(), "customer:crm:T", None)
    systems.control.set_budget("erp", 0)

    with pytest.raises(Throttled) as throttled:
        systems.erp.get_customer(created.customer_id)
    assert throttled.value.retry_after is not None and throttled.value.retry_after >= 1


def test_a_stale_etag_is_a_conflict(systems: FinanceSystems) -> None:
    created = systems.erp.upsert_customer(customer(), "customer:crm:S", None)
    path = "CustomersV3(dataAreaId='usmf',CustomerAccount='" + created.customer_id.split(":")[1] + "')"
    row = systems.erp.client.get(path)
    systems.erp.update_customer(created.customer_id, CustomerUpdate(name="Changed meanwhile"))
    with pytest.raises(Conflict):
        systems.erp.client.update(path, {"OrganizationName": "Stale"}, etag=row["@odata.etag"])


def test_capabilities_and_the_declared_gaps(systems: FinanceSystems) -> None:
    capabilities = systems.erp.capabilities
    assert capabilities.draft_invoices.value == "native" and capabilities.line_refs is LineRefs.STORED
    assert capabilities.revenue_schedules and not capabilities.contract_objects
    with pytest.raises(ConfigurationError):
        systems.erp.get_contract_terms("project:crm:x")
    with pytest.raises(ConfigurationError):
        systems.erp.set_contract_terms("project:crm:x", "usmf:C", ContractTerms(
            contract_type=ContractType.TIME_AND_MATERIALS, billing_owner="finance"))


def test_without_the_line_field_line_refs_are_the_registrys() -> None:
    with finance_systems(fields={}) as systems:
        assert systems.erp.capabilities.line_refs is LineRefs.REGISTRY
        _, draft = billed_project(systems)
        ids = systems.erp.add_invoice_lines(draft, lines("r:1"))
        assert list(ids) == ["r:1"] and ids["r:1"].startswith(draft + ":")
        assert systems.erp.billed_refs(["r:1"]) == {}
