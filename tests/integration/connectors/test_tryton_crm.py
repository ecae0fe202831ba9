"""TrytonCrm (CrmPort) against the real `crm` database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from concord.connectors.kit.cursors import TimeCursor
from concord.connectors.tryton import RecordNotFound, TrytonCrm, TrytonRpcClient
from concord.connectors.tryton.names import FINANCIAL_STATUS_NOTE
from concord.domain import CrmCapabilities, FinancialStatus
from concord.errors import PermanentError, ValidationFailed
from concord.events.payloads import DEFAULT_CONTRACT_TYPE, OpportunityClosedWon
from concord.events.types import Address, Money

from .conftest import DEMO_CUSTOMER, EPOCH, PRODUCT_CODE, drain

pytestmark = pytest.mark.usefixtures("fresh_databases")


def _party_id(client: TrytonRpcClient, name: str) -> int:
    (party,) = client.search_read("party.party", [["name", "=", name]], ["id"])
    return int(party["id"])


def _product(client: TrytonRpcClient) -> dict[str, Any]:
    (product,) = client.search_read("product.product", [["code", "=", PRODUCT_CODE]], ["default_uom"])
    return product


def _opportunity(client: TrytonRpcClient, party_id: int, description: str, quantity: float = 20.0) -> int:
    product = _product(client)
    (opportunity_id,) = client.create(
        "sale.opportunity",
        [
            {
                "party": party_id,
                "description": description,
                "amount": Decimal("3000.00"),
                "lines": [
                    [
                        "create",
                        [
                            {
                                "product": product["id"],
                                "unit": product["default_uom"],
                                "quantity": quantity,
                                "description": "Senior consulting",
                            }
                        ],
                    ]
                ],
            }
        ],
    )
    return int(opportunity_id)


def _win(client: TrytonRpcClient, opportunity_id: int) -> None:
    """Tryton's way to a won opportunity (docs/tryton.md): opportunity, convert, confirm the
    sale it created (manual invoicing, so the CRM makes no invoice)."""
    client.button("sale.opportunity", "opportunity", [opportunity_id])
    client.button("sale.opportunity", "convert", [opportunity_id])
    (row,) = client.search_read("sale.opportunity", [["id", "=", opportunity_id]], ["sales"])
    (sale_id,) = row["sales"]
    client.write("sale.sale", [sale_id], {"invoice_method": "manual"})
    client.button("sale.sale", "quote", [sale_id])
    client.button("sale.sale", "confirm", [sale_id])


def test_get_customer_maps_the_seeded_account(crm: TrytonCrm) -> None:
    # Given the complete demo customer seeded in the CRM
    party_id = _party_id(crm.client, DEMO_CUSTOMER)

    # When Concord reads it
    customer = crm.get_customer(str(party_id))

    # Then address, tax id, currency (the company's) and legal entity are mapped
    assert customer.account_id == str(party_id)
    assert customer.name == DEMO_CUSTOMER
    assert customer.billing_address == Address(
        street="500 Market Street", city="San Francisco", postal_code="94105", country="US"
    )
    assert customer.tax_id == "94-3123456"
    assert customer.currency == "USD"
    assert customer.legal_entity == "us-01"


def test_get_customer_without_address_or_tax_id(crm: TrytonCrm) -> None:
    (party_id,) = crm.client.create("party.party", [{"name": "Bare Prospect Inc"}])

    customer = crm.get_customer(str(party_id))

    assert (customer.name, customer.billing_address, customer.tax_id) == ("Bare Prospect Inc", None, None)


@pytest.mark.parametrize("account_id", ["999999", "not-a-number"])
def test_get_customer_missing_is_permanent(crm: TrytonCrm, account_id: str) -> None:
    with pytest.raises(RecordNotFound) as caught:
        crm.get_customer(account_id)

    assert isinstance(caught.value, PermanentError)


def test_get_opportunity_before_conversion_prices_lines_at_list_price(crm: TrytonCrm) -> None:
    # Given a lead for the demo customer with 20 consulting hours
    party_id = _party_id(crm.client, DEMO_CUSTOMER)
    opportunity_id = _opportunity(crm.client, party_id, "Data platform rollout")

    # When Concord reads it
    opportunity = crm.get_opportunity(str(opportunity_id))

    # Then it is not won and its line is the product code at the product's list price
    assert opportunity.opportunity_id == str(opportunity_id)
    assert opportunity.account_id == str(party_id)
    assert opportunity.name == "Data platform rollout"
    assert opportunity.amount == Money(amount=Decimal("3000.00"), currency="USD")
    assert not opportunity.won
    assert opportunity.closed_on is None
    (line,) = opportunity.lines
    assert (line.service_item, line.description, line.quantity, line.unit_price) == (
        PRODUCT_CODE,
        "Senior consulting",
        Decimal("20.0"),
        Money(amount=Decimal("150.00"), currency="USD"),
    )


def test_get_opportunity_won_maps_to_a_closed_won_payload(crm: TrytonCrm) -> None:
    # Given an opportunity won the Tryton way (converted, its sale confirmed)
    party_id = _party_id(crm.client, DEMO_CUSTOMER)
    opportunity_id = _opportunity(crm.client, party_id, "Advisory retainer", quantity=8.0)
    _win(crm.client, opportunity_id)

    # When Concord reads it
    opportunity = crm.get_opportunity(str(opportunity_id))

    # Then it is won, closed today, with the sale's lines, and fits OpportunityClosedWon
    assert opportunity.won
    assert opportunity.closed_on == dt.date.today()
    assert [(line.service_item, line.quantity, line.unit_price.amount) for line in opportunity.lines] == [
        (PRODUCT_CODE, Decimal("8.0"), Decimal("150.0000"))
    ]
    OpportunityClosedWon(
        opportunity_id=opportunity.opportunity_id,
        account_id=opportunity.account_id,
        name=opportunity.name,
        amount=opportunity.amount,
        closed_on=opportunity.closed_on,
        lines=opportunity.lines,
        contract_type=opportunity.contract_type or DEFAULT_CONTRACT_TYPE,
        billing_owner=opportunity.billing_owner,
    )


def test_get_opportunity_missing_is_permanent(crm: TrytonCrm) -> None:
    with pytest.raises(RecordNotFound):
        crm.get_opportunity("424242")


def test_get_opportunity_line_without_product_code_is_a_validation_failure(crm: TrytonCrm) -> None:
    party_id = _party_id(crm.client, DEMO_CUSTOMER)
    (opportunity_id,) = crm.client.create(
        "sale.opportunity",
        [
            {
                "party": party_id,
                "description": "Free-text deal",
                "lines": [["create", [{"quantity": 1.0, "description": "Something"}]]],
            }
        ],
    )

    with pytest.raises(ValidationFailed):
        crm.get_opportunity(str(opportunity_id))


def _notes(client: TrytonRpcClient, opportunity_id: int) -> list[str]:
    rows = client.search_read(
        "ir.note", [["resource", "=", f"sale.opportunity,{opportunity_id}"]], ["message"], order=[("id", "ASC")]
    )
    return [r["message"] for r in rows]


def test_set_financial_status_notes_each_status_once(crm: TrytonCrm) -> None:
    # Given a won opportunity (its comment is read-only from then on)
    party_id = _party_id(crm.client, DEMO_CUSTOMER)
    opportunity_id = _opportunity(crm.client, party_id, "Status tracking")
    _win(crm.client, opportunity_id)

    # When the same status is set twice, then another one
    assert crm.set_financial_statuses({str(opportunity_id): FinancialStatus.INVOICED}) == {}
    assert crm.set_financial_statuses({str(opportunity_id): FinancialStatus.INVOICED}) == {}
    assert crm.set_financial_statuses({str(opportunity_id): FinancialStatus.PAID}) == {}

    # Then one note per status change is attached to the opportunity
    notes = _notes(crm.client, opportunity_id)
    assert [n.split(" (", 1)[0] for n in notes] == [f"{FINANCIAL_STATUS_NOTE}invoiced", f"{FINANCIAL_STATUS_NOTE}paid"]
    # And the status reads back as the newest one
    assert crm.financial_status(str(opportunity_id)) is FinancialStatus.PAID


def test_financial_status_is_none_until_concord_sets_one(crm: TrytonCrm) -> None:
    opportunity_id = _opportunity(crm.client, _party_id(crm.client, DEMO_CUSTOMER), "No status yet")
    assert crm.financial_status(str(opportunity_id)) is None


def test_set_financial_status_of_missing_opportunity_is_a_permanent_failure_of_that_deal(crm: TrytonCrm) -> None:
    failed = crm.set_financial_statuses({"424242": FinancialStatus.PAID})
    assert list(failed) == ["424242"] and isinstance(failed["424242"], RecordNotFound)


def test_changes_since_pages_through_ties_without_skipping_or_repeating(crm: TrytonCrm) -> None:
    # Given three parties created in one call: one transaction, so one write timestamp
    _, cursor = drain(crm, "customer")
    ids = crm.client.create("party.party", [{"name": f"Tie {n} Ltd"} for n in range(3)])
    written = {
        r["write_date"] or r["create_date"]
        for r in crm.client.search_read("party.party", [["id", "in", ids]], ["write_date", "create_date"])
    }
    assert len(written) == 1

    # When paging with limit=1 from the last cursor
    seen = []
    for _ in range(5):
        page = crm.changes_since("customer", cursor, 1)
        assert len(page.changes) == 1
        seen.extend(page.changes)
        cursor = page.cursor
        if not page.more:  # the last page says so itself: no empty read after it
            break
    assert crm.changes_since("customer", cursor, 1).changes == []

    # Then each new party comes exactly once, in id order, stamped with the shared time
    assert [c.record_id for c in seen] == [str(i) for i in ids]
    assert {c.written_at for c in seen} == {next(iter(written)).replace(tzinfo=dt.UTC)}
    assert all(c.record_type == "customer" for c in seen)


def test_changes_since_sees_new_and_changed_opportunities(crm: TrytonCrm) -> None:
    _, cursor = drain(crm, "opportunity")
    party_id = _party_id(crm.client, DEMO_CUSTOMER)
    # A new opportunity has no write_date yet in Tryton 8.2: polling must still see it.
    opportunity_id = _opportunity(crm.client, party_id, "Polled deal")

    page = crm.changes_since("opportunity", cursor, 10)

    assert [c.record_id for c in page.changes] == [str(opportunity_id)]
    assert page.more is False


def test_a_resumed_poll_repeats_nothing_it_read_and_sees_a_later_change(crm: TrytonCrm) -> None:
    # Given a checkpoint just after a new opportunity
    party_id = _party_id(crm.client, DEMO_CUSTOMER)
    _, before = drain(crm, "opportunity")
    opportunity_id = _opportunity(crm.client, party_id, "Resumed deal")
    _, saved = drain(crm, "opportunity", before)

    # When a run resumes from it, the overlap it re-reads holds nothing new
    changes, cursor = drain(crm, "opportunity", crm.resume_cursor("opportunity", saved))
    assert str(opportunity_id) not in [c.record_id for c in changes]
    assert TimeCursor.decode(cursor).checkpoint == TimeCursor.decode(saved).checkpoint

    # And a change of the same opportunity after the checkpoint is read once
    crm.client.write("sale.opportunity", [opportunity_id], {"description": "Resumed deal, v2"})
    changes, _ = drain(crm, "opportunity", crm.resume_cursor("opportunity", saved))
    assert [c.record_id for c in changes].count(str(opportunity_id)) == 1


def test_a_new_watch_starts_at_now(crm: TrytonCrm) -> None:
    party_id = _party_id(crm.client, DEMO_CUSTOMER)
    _opportunity(crm.client, party_id, "Before the watch")

    start = crm.start_cursor("opportunity", dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5))

    assert crm.changes_since("opportunity", start, 10).changes == []


def test_changes_since_unknown_record_type_is_a_validation_failure(crm: TrytonCrm) -> None:
    with pytest.raises(ValidationFailed):
        crm.changes_since("invoice", EPOCH, 1)
    with pytest.raises(ValidationFailed):
        crm.start_cursor("invoice", dt.datetime.now(dt.UTC))


def test_capabilities_declare_no_batch_operations_and_the_catalogue_and_contacts(crm: TrytonCrm) -> None:
    assert crm.capabilities == CrmCapabilities(service_items=True, contacts=True)
