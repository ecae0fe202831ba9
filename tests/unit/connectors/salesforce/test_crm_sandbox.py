"""SalesforceCrm against the in-process Salesforce sandbox: reads, batched status writes,
throttling and polling, counted in calls the sandbox served."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from concord.connectors.kit.cursors import TimeCursor
from concord.connectors.kit.errors import NotFound, Throttled
from concord.domain import FinancialStatus
from concord.events.types import Address, Money

from .sandbox_systems import DEFAULT_LEGAL_ENTITY, SalesforceSystems

API = "/services/data/v67.0"


def _api_calls(systems: SalesforceSystems) -> list[tuple[str, str]]:
    return [
        (call.method, call.path.split("?")[0])
        for call in systems.control.calls(systems.crm_tenant)
        if call.path.startswith(API)
    ]


def test_get_customer_maps_address_tax_id_and_default_legal_entity(systems: SalesforceSystems) -> None:
    account = systems.driver.account(
        "Acme GmbH",
        tax_id="DE811",
        street="Hauptstr. 1",
        city="Berlin",
        postal_code="10115",
        country="DE",
        currency="EUR",
    )
    customer = systems.crm.get_customer(account)
    assert customer.account_id == account and customer.name == "Acme GmbH"
    assert customer.billing_address == Address(street="Hauptstr. 1", city="Berlin", postal_code="10115", country="DE")
    assert customer.tax_id == "DE811" and customer.currency == "EUR"
    assert customer.legal_entity == DEFAULT_LEGAL_ENTITY


def test_get_customer_takes_the_accounts_own_legal_entity(systems: SalesforceSystems) -> None:
    account = systems.driver.account("Acme Ltd", legal_entity="concord-uk")
    assert systems.crm.get_customer(account).legal_entity == "concord-uk"


def test_get_opportunity_reads_lines_in_one_call(systems: SalesforceSystems) -> None:
    account = systems.driver.account("Acme")
    deal = systems.driver.won_opportunity(account, [("CONS-1", "Consulting", 10, 150), ("TRAIN", "Training", 2, 900.5)])
    systems.control.clear_calls(systems.crm_tenant)

    opportunity = systems.crm.get_opportunity(deal)

    assert _api_calls(systems) == [("GET", f"{API}/query")]
    assert opportunity.won and opportunity.account_id == account
    assert opportunity.amount == Money(amount=Decimal("3301"), currency="USD")
    assert opportunity.closed_on == dt.date(2026, 3, 31)
    assert sorted(
        (line.service_item, line.description, line.quantity, line.unit_price.amount) for line in opportunity.lines
    ) == [("CONS-1", "Consulting", 10, 150), ("TRAIN", "Training", 2, Decimal("900.5"))]


def test_an_opportunity_not_won_reads_as_not_won(systems: SalesforceSystems) -> None:
    account = systems.driver.account("Acme")
    deal = systems.driver.create(
        "crm",
        "Opportunity",
        {
            "AccountId": account,
            "Name": "Open",
            "CloseDate": "2026-05-01",
            "StageName": "Prospecting",
            "CurrencyIsoCode": "USD",
        },
    )
    opportunity = systems.crm.get_opportunity(deal)
    assert not opportunity.won and opportunity.lines == [] and opportunity.amount.amount == 0


def test_a_deleted_opportunity_is_not_found(systems: SalesforceSystems) -> None:
    deal = _deals(systems, 1)[0]
    systems.driver.rest(systems.crm_tenant).delete(f"/sobjects/Opportunity/{deal}").raise_for_status()
    with pytest.raises(NotFound):
        systems.crm.get_opportunity(deal)


def _deals(systems: SalesforceSystems, count: int) -> list[str]:
    account = systems.driver.account("Acme")
    rows = [
        {"AccountId": account, "Name": f"D{i}", "CloseDate": "2026-01-01", "StageName": "Closed Won"}
        for i in range(count)
    ]
    return [record["Id"] for record in systems.control.seed(systems.crm_tenant, "Opportunity", rows)]


def test_a_thousand_financial_statuses_take_five_calls(systems: SalesforceSystems) -> None:
    deals = _deals(systems, 1000)
    systems.control.clear_calls(systems.crm_tenant)

    failures = systems.crm.set_financial_statuses({deal: FinancialStatus.INVOICED for deal in deals})

    assert failures == {}
    assert _api_calls(systems) == [("PATCH", f"{API}/composite/sobjects")] * 5
    assert {systems.crm.financial_status(deal) for deal in deals[::97]} == {FinancialStatus.INVOICED}


def test_per_record_failures_come_back_by_opportunity_id(systems: SalesforceSystems) -> None:
    deals = _deals(systems, 3)
    missing = "006Sb0000000ZZZAAA"
    failures = systems.crm.set_financial_statuses(
        {deals[0]: FinancialStatus.PAID, missing: FinancialStatus.PAID, deals[2]: FinancialStatus.OVERDUE}
    )
    assert set(failures) == {missing}
    assert systems.crm.financial_status(deals[0]) is FinancialStatus.PAID
    assert systems.crm.financial_status(deals[1]) is None
    assert systems.crm.financial_status(deals[2]) is FinancialStatus.OVERDUE


def test_request_limit_mid_burst_is_a_throttle_and_a_retry_loses_nothing(systems: SalesforceSystems) -> None:
    deals = _deals(systems, 1000)
    used = systems.control.budget(systems.crm_tenant)["used"]
    systems.control.set_budget(systems.crm_tenant, allocation=used + 2)  # two of five calls get through

    failures = systems.crm.set_financial_statuses({deal: FinancialStatus.PAID for deal in deals})

    assert set(failures) == set(deals[400:])
    assert all(isinstance(error, Throttled) for error in failures.values())
    systems.control.set_budget(systems.crm_tenant, allocation=100_000)
    assert systems.crm.set_financial_statuses({deal: FinancialStatus.PAID for deal in failures}) == {}
    written = systems.driver.query(
        systems.crm_tenant, "SELECT Id FROM Opportunity WHERE Concord_Financial_Status__c = 'paid'"
    )
    assert {record["Id"] for record in written} == set(deals)


def test_polling_pages_through_every_change_once_then_sees_an_update(systems: SalesforceSystems) -> None:
    start = systems.crm.start_cursor("customer", dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    accounts = [systems.driver.account(f"A{i}") for i in range(5)]
    cursor, seen, pages = start, [], 0
    while True:
        page = systems.crm.changes_since("customer", cursor, 2)
        seen += [change.record_id for change in page.changes]
        cursor, pages = page.cursor, pages + 1
        assert all(change.created_at is not None for change in page.changes)
        if not page.more:
            break
    assert seen == accounts and pages == 3
    systems.driver.update("crm", "Account", accounts[1], {"Name": "renamed"})
    assert [c.record_id for c in systems.crm.changes_since("customer", cursor, 10).changes] == [accounts[1]]


def test_resume_rewinds_but_never_reports_progress_behind_the_checkpoint(systems: SalesforceSystems) -> None:
    start = systems.crm.start_cursor("opportunity", dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    deals = _deals(systems, 3)
    page = systems.crm.changes_since("opportunity", systems.crm.resume_cursor("opportunity", start), 10)
    assert [c.record_id for c in page.changes] == deals

    resumed = systems.crm.resume_cursor("opportunity", page.cursor)
    again = systems.crm.changes_since("opportunity", resumed, 10)

    assert again.changes == []  # the overlap re-reads them but announces none again
    assert TimeCursor.decode(again.cursor).checkpoint == TimeCursor.decode(page.cursor).checkpoint
    later = _deals(systems, 1)
    assert [c.record_id for c in systems.crm.changes_since("opportunity", again.cursor, 10).changes] == later


def test_changes_of_reads_named_records_in_one_query_per_200_ids(systems: SalesforceSystems) -> None:
    start = systems.crm.start_cursor("opportunity", dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    deals = _deals(systems, 250)
    polled = {c.record_id: c for c in systems.crm.changes_since("opportunity", start, 1000).changes}
    systems.control.clear_calls(systems.crm_tenant)

    read = systems.crm.changes_of("opportunity", [*deals, "006Sb0000000ZZZAAA", "not an id'"])

    assert sorted(c.record_id for c in read) == sorted(deals)
    assert all(c == polled[c.record_id] for c in read)
    assert [method for method, _ in _api_calls(systems)] == ["GET", "GET"]


def test_a_billing_street_on_several_lines_is_one_canonical_line(systems) -> None:
    account = systems.driver.account("Multi-line", tax_id="12-7654321")
    systems.driver.update(systems.crm_tenant, "Account", account, {"BillingStreet": "1 Main St\nSuite 4\n"})

    address = systems.crm.get_customer(account).billing_address

    assert address is not None and address.street == "1 Main St, Suite 4"
