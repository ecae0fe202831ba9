"""The Business Central ERP connector against its sandbox: natural keys and ETags for
customers, native drafts filled by transactional $batch, posting and payments by finance,
the change feed, throttling and the declared capability gaps."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from concord.connectors.business_central import CAPABILITIES
from concord.connectors.kit.errors import Throttled
from concord.domain import (
    ContractTerms,
    Customer,
    CustomerUpdate,
    InvoiceLine,
    LineRefs,
    ProjectForecast,
)
from concord.errors import ConfigurationError, ValidationFailed
from concord.events.payloads import ContractType
from concord.events.types import Address, Money
from concord.local.sandboxes.business_central import BusinessCentralSandbox

from .sandbox_systems import BusinessCentralSystems, business_central_systems

USD = "USD"


def customer(n: int = 1, name: str = "Acme Ltd") -> Customer:
    return Customer(
        account_id=f"acc-{n}",
        name=name,
        tax_id=f"12-345678{n}",
        currency=USD,
        legal_entity="us-01",
        billing_address=Address(street="1 Main St", city="Springfield", postal_code="12345", country="US"),
    )


def lines(*refs: str, item: str = "CONSULT-HR") -> list[InvoiceLine]:
    return [InvoiceLine(description=f"work {ref}", quantity=2, service_item=item, concord_ref=ref) for ref in refs]


def test_a_retried_create_finds_the_customer_by_its_derived_number(systems: BusinessCentralSystems) -> None:
    first = systems.erp.upsert_customer(customer(), "customer:crm:acc-1", None)
    again = systems.erp.upsert_customer(customer(name="Acme Renamed"), "customer:crm:acc-1", None)

    assert again.customer_id == first.customer_id and again.name == "Acme Renamed"
    rows = systems.finance.company.records("customers")
    assert len(rows) == 1 and rows[0]["number"].startswith("C") and len(rows[0]["number"]) == 20
    assert systems.erp.find_customer(tax_id="12-3456781", name="nobody").customer_id == first.customer_id  # type: ignore[union-attr]
    assert systems.erp.find_customer(tax_id=None, name="Acme Renamed").customer_id == first.customer_id  # type: ignore[union-attr]
    assert systems.erp.find_customer(tax_id="99-0000000", name="nobody") is None


def test_every_update_carries_the_etag_and_a_stale_one_is_read_again(systems: BusinessCentralSystems) -> None:
    created = systems.erp.upsert_customer(customer(), "customer:crm:acc-1", None)
    systems.recorder.exchanges.clear()

    systems.erp.update_customer(created.customer_id, CustomerUpdate(name="Changed"))
    systems.erp.set_payment_term(created.customer_id, "14 DAYS")
    systems.erp.deactivate_customer(created.customer_id, "closed in the CRM")

    patches = [request for request, _ in systems.recorder.exchanges if request.method == "PATCH"]
    assert len(patches) == 3 and all(request.headers["If-Match"].startswith('W/"') for request in patches)
    row = systems.finance.company.call("GET", f"/customers({created.customer_id})")
    terms = systems.finance.company.records("paymentTerms", "code eq '14 DAYS'")[0]
    assert (row["displayName"], row["blocked"], row["paymentTermsId"]) == ("Changed", "All", terms["id"])
    with pytest.raises(ValidationFailed):
        systems.erp.set_payment_term(created.customer_id, "NO SUCH TERMS")


def test_payment_terms_are_found_by_the_name_people_see_as_well_as_by_code(systems: BusinessCentralSystems) -> None:
    created = systems.erp.upsert_customer(customer(), "customer:crm:acc-2", None)

    systems.erp.set_payment_term(created.customer_id, "Net 30 days")  # Concord's default term, by name

    terms = systems.finance.company.records("paymentTerms", "code eq '30 DAYS'")[0]
    row = systems.finance.company.call("GET", f"/customers({created.customer_id})")
    assert row["paymentTermsId"] == terms["id"]


def test_a_concurrent_write_between_read_and_patch_is_retried_with_the_new_etag(
    systems: BusinessCentralSystems,
) -> None:
    created = systems.erp.upsert_customer(customer(), "customer:crm:acc-1", None)
    read_customer = systems.erp.client.get

    def read_then_finance_writes(operation: str, path: str, params: object = None) -> dict:
        row = read_customer(operation, path, params)  # type: ignore[arg-type]
        if operation == "read customer" and not systems.finance.company.records("customers", "phoneNumber eq '555'"):
            _finance_sets_phone(systems, created.customer_id)  # right after Concord read the customer
        return row

    systems.erp.client.get = read_then_finance_writes  # type: ignore[method-assign]
    systems.erp.update_customer(created.customer_id, CustomerUpdate(name="Ours"))

    statuses = [response.status_code for request, response in systems.recorder.exchanges if request.method == "PATCH"]
    assert statuses[-2:] == [412, 200]
    row = systems.finance.company.call("GET", f"/customers({created.customer_id})")
    assert (row["displayName"], row["phoneNumber"]) == ("Ours", "555")


def _finance_sets_phone(systems: BusinessCentralSystems, customer_id: str) -> None:
    http = systems.finance.company._http  # finance's own signed-in client
    etag = http.get(f"/customers({customer_id})").json()["@odata.etag"]
    http.patch(f"/customers({customer_id})", json={"phoneNumber": "555"}, headers={"If-Match": etag}).raise_for_status()


def test_lines_go_in_one_transactional_batch_and_a_bad_line_adds_none(systems: BusinessCentralSystems) -> None:
    erp_customer = systems.erp.upsert_customer(customer(), "customer:crm:acc-1", None)
    draft = systems.erp.open_invoice_draft(erp_customer.customer_id, USD, "project:crm:opp-1")
    systems.recorder.exchanges.clear()

    ids = systems.erp.add_invoice_lines(draft, lines(*(f"time:{n}" for n in range(100))))

    assert len(ids) == 100 and len(set(ids.values())) == 100
    assert len(systems.recorder.exchanges) == 1  # 100 lines, one call
    request = systems.recorder.exchanges[0][0]
    assert request.url.path.endswith("/$batch") and request.headers["Isolation"] == "snapshot"
    with pytest.raises(ValidationFailed, match="NOPE"):
        systems.erp.add_invoice_lines(draft, lines("time:a") + lines("time:b", item="NOPE"))
    assert len(systems.finance.lines_of(draft)) == 100
    assert systems.erp.get_invoice(draft).total.amount == Decimal(100 * 2 * 150)
    assert systems.erp.billed_refs(list(ids)) == {} and CAPABILITIES.line_refs is LineRefs.REGISTRY


def test_the_draft_is_found_by_project_until_finance_posts_it_and_payments_read_back(
    systems: BusinessCentralSystems,
) -> None:
    erp_customer = systems.erp.upsert_customer(customer(), "customer:crm:acc-1", None)
    draft = systems.erp.open_invoice_draft(erp_customer.customer_id, USD, "project:crm:opp-1")
    systems.erp.add_invoice_lines(draft, lines("time:1"))
    assert systems.erp.open_invoice_draft(erp_customer.customer_id, USD, "project:crm:opp-1") == draft
    assert systems.erp.posted_invoice(draft) is None
    with pytest.raises(ValidationFailed):
        systems.erp.open_invoice_draft(erp_customer.customer_id, "EUR", "project:crm:opp-1")

    systems.finance.post(draft)
    payment = systems.finance.pay(draft, Decimal(100))

    posted = systems.erp.posted_invoice(draft)
    assert posted is not None and posted.number.startswith("PS-INV") and posted.total.amount == Decimal(300)
    record = systems.erp.get_invoice(draft)
    assert record.posted and record.due_on == posted.due_on
    received = systems.erp.received_payment(payment)
    assert received is not None and received.invoice_id == draft
    assert (received.amount.amount, received.invoice_amount_due.amount) == (Decimal(100), Decimal(200))
    assert systems.erp.open_invoice_draft(erp_customer.customer_id, USD, "project:crm:opp-1") != draft


def test_the_change_feed_pages_by_modification_time_and_follows_next_links() -> None:
    with business_central_systems(BusinessCentralSandbox(page_size=2)) as systems:
        cursor = systems.erp.start_cursor("customer", dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        made = [
            systems.erp.upsert_customer(customer(n, f"Customer {n}"), f"customer:crm:{n}", None).customer_id
            for n in range(1, 6)
        ]
        seen: list[str] = []
        for _ in range(10):
            page = systems.erp.changes_since("customer", cursor, 2)
            seen += [change.record_id for change in page.changes]
            cursor = page.cursor
            if not page.more:
                break
        assert seen == made
        assert systems.erp.changes_since("customer", cursor, 10).changes == []
        read = systems.erp.changes_of("customer", [made[-1], "not-a-guid", made[-1]])
        assert [c.record_id for c in read] == [made[-1]] and read[0] == page.changes[-1]  # the stamps polling gave
        assert read[0].created_at is not None  # what once-per-record event ids need
        assert len(list(systems.erp.client.listed("items", "items"))) == 3  # three pages of <= 2


def test_a_spent_allocation_is_throttled_with_the_vendors_retry_after() -> None:
    with business_central_systems(BusinessCentralSandbox(retry_after_seconds=7)) as systems:
        systems.control.set_budget("erp", 0)
        with pytest.raises(Throttled) as raised:
            systems.erp.find_customer(tax_id=None, name="anyone")
        assert raised.value.retry_after == 7.0


def test_project_accounting_is_a_declared_gap(systems: BusinessCentralSystems) -> None:
    assert not CAPABILITIES.contract_objects and not CAPABILITIES.revenue_schedules
    terms = ContractTerms(contract_type=ContractType.FIXED_FEE, billing_owner="finance")
    forecast = ProjectForecast(lines=[], planned_hours=Decimal(0), cost=Money(amount=Decimal(0), currency=USD))
    for call in (
        lambda: systems.erp.get_contract_terms("p"),
        lambda: systems.erp.set_contract_terms("p", "c", terms),
        lambda: systems.erp.set_project_forecast("p", "c", forecast),
    ):
        with pytest.raises(ConfigurationError, match="contract_objects"):
            call()
