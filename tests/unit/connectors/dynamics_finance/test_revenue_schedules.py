"""Revenue schedules in Dynamics 365 Finance, against the sandbox: the deal's deferred lines become
one sales order per project, each line on the revenue schedule its method needs, with the
contract dates; hourly lines stay with billing; a retry finds the same order."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from concord.domain import Customer, RecognitionMethod, RevenueLine, RevenueSchedule
from concord.errors import ValidationFailed
from concord.events.types import Address, Money

from .sandbox_systems import FinanceSystems

_n = itertools.count(1)


def customer_id(systems: FinanceSystems, legal_entity: str = "us-01") -> str:
    customer = Customer(account_id=f"r{next(_n)}", name="Fabrikam", tax_id=f"99-{next(_n)}", currency="USD",
                        legal_entity=legal_entity,
                        billing_address=Address(street="1 Main St", city="Boston", postal_code="02110", country="US"))
    return systems.erp.upsert_customer(customer, f"customer:crm:r{next(_n)}", None).customer_id


def line(item: str, amount: str, method: RecognitionMethod, quantity: str = "1", currency: str = "USD") -> RevenueLine:
    return RevenueLine(service_item=item, description=f"{item} sold", quantity=Decimal(quantity),
                       amount=Money(amount=Decimal(amount), currency=currency), method=method)


def schedule(*lines: RevenueLine, term_months: int = 12) -> RevenueSchedule:
    return RevenueSchedule(starts_on=dt.date(2026, 11, 25), term_months=term_months, lines=list(lines))


def order_lines(systems: FinanceSystems, order_id: str) -> list[dict]:
    company, number = order_id.split(":")
    return list(systems.erp.client.query("SalesOrderLines", orderby="InventoryLotId",
                                         filter=f"dataAreaId eq '{company}' and SalesOrderNumber eq '{number}'"))


def test_deferred_lines_go_on_the_projects_sales_order_with_their_schedules(systems: FinanceSystems) -> None:
    customer = customer_id(systems)
    deal = schedule(line("CONSULT-HR", "6000", RecognitionMethod.ON_INVOICE, quantity="40"),
                    line("SUPPORT-YR", "12000", RecognitionMethod.RATABLY, quantity="2"),
                    line("MILESTONE", "3000", RecognitionMethod.ON_MILESTONE), term_months=24)

    order_id = systems.erp.set_revenue_schedule("project:crm:o1", customer, deal)

    assert order_id.startswith("usmf:SO-")
    header = systems.erp.client.get(f"SalesOrderHeadersV2(dataAreaId='usmf',SalesOrderNumber='{order_id[5:]}')")
    assert header["CustomersOrderReference"] == "project:crm:o1"
    assert header["OrderingCustomerAccountNumber"] == customer.split(":")[1] and header["CurrencyCode"] == "USD"
    found = {row["ItemNumber"]: row for row in order_lines(systems, order_id)}
    assert sorted(found) == ["MILESTONE", "SUPPORT-YR"]  # the hourly line stays with billing
    support = found["SUPPORT-YR"]
    assert (support["RevRecRevenueScheduleId"], support["OrderedSalesQuantity"], support["SalesPrice"],
            support["LineAmount"]) == ("24M", 2, 6000, 12000)
    assert support["RevRecContractStartDate"].startswith("2026-11-25")
    assert support["RevRecContractEndDate"].startswith("2028-11-24")
    assert found["MILESTONE"]["RevRecRevenueScheduleId"] == "MILESTONE"


def test_a_retry_finds_the_same_order_and_adds_nothing(systems: FinanceSystems) -> None:
    customer = customer_id(systems)
    deal = schedule(line("SUPPORT-YR", "1200", RecognitionMethod.RATABLY))

    first = systems.erp.set_revenue_schedule("project:crm:o2", customer, deal)
    again = systems.erp.set_revenue_schedule("project:crm:o2", customer, deal)
    other = systems.erp.set_revenue_schedule("project:crm:o3", customer, deal)

    assert again == first and other != first
    assert len(order_lines(systems, first)) == 1


def test_a_term_finance_has_no_schedule_for_is_refused_before_anything_is_written(systems: FinanceSystems) -> None:
    customer = customer_id(systems)

    with pytest.raises(ValidationFailed, match="no revenue schedule of 18 occurrences"):
        systems.erp.set_revenue_schedule(
            "project:crm:o4", customer, schedule(line("SUPPORT-YR", "1800", RecognitionMethod.RATABLY), term_months=18))
    orders = systems.erp.client.query("SalesOrderHeadersV2", filter="CustomersOrderReference eq 'project:crm:o4'")
    assert list(orders) == []


def test_a_sold_item_finance_has_not_released_leaves_the_order_without_lines_and_a_retry_completes_it(
        systems: FinanceSystems) -> None:
    customer = customer_id(systems)
    bad = schedule(line("SUPPORT-YR", "100", RecognitionMethod.RATABLY),
                   line("UNKNOWN", "5", RecognitionMethod.RATABLY))

    with pytest.raises(ValidationFailed, match="UNKNOWN"):
        systems.erp.set_revenue_schedule("project:crm:o5", customer, bad)
    (header,) = systems.erp.client.query("SalesOrderHeadersV2", filter="CustomersOrderReference eq 'project:crm:o5'")
    order_id = f"usmf:{header['SalesOrderNumber']}"
    assert order_lines(systems, order_id) == []  # the change set applied none of the lines

    fixed = schedule(line("SUPPORT-YR", "100", RecognitionMethod.RATABLY))
    assert systems.erp.set_revenue_schedule("project:crm:o5", customer, fixed) == order_id
    assert [row["ItemNumber"] for row in order_lines(systems, order_id)] == ["SUPPORT-YR"]


def test_what_cannot_be_a_sales_order_is_refused(systems: FinanceSystems) -> None:
    customer = customer_id(systems)
    with pytest.raises(ValidationFailed, match="no line of the schedule is deferred"):
        systems.erp.set_revenue_schedule("project:crm:o6", customer,
                                         schedule(line("CONSULT-HR", "150", RecognitionMethod.ON_INVOICE)))
    with pytest.raises(ValidationFailed, match="several currencies"):
        systems.erp.set_revenue_schedule("project:crm:o6", customer, schedule(
            line("SUPPORT-YR", "1", RecognitionMethod.RATABLY),
            line("MILESTONE", "1", RecognitionMethod.ON_MILESTONE, currency="EUR")))
    with pytest.raises(ValidationFailed, match="not a customer id"):
        systems.erp.set_revenue_schedule("project:crm:o6", "C-1",
                                         schedule(line("SUPPORT-YR", "1", RecognitionMethod.RATABLY)))
