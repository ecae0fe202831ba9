"""One port contract, the same assertions for every implementation: the in-memory fakes the
unit tests use, Tryton (real ERP software), and the SaaS connectors against their sandboxes.

An implementation joins by adding a harness fixture to IMPLEMENTATIONS (see contract.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from concord.domain import ErpCustomer, FinancialStatus, InvoiceLine, LineRefs, ProjectPlan, TaskPlan
from concord.errors import ConcordError, ConfigurationError, ValidationFailed
from concord.events.types import Money

from .contract import (
    KEEPS_REVENUE_SCHEDULES,
    Harness,
    hours_of,
    in_pages_of_one,
    stores_line_refs,
    support_deal,
    unique_customer,
)
from .harnesses import CRMS, ERPS, PSAS, harness  # noqa: F401 - the fixture

# Each test runs for every implementation of the role it exercises.
crm = pytest.mark.parametrize("harness", CRMS, indirect=True)
psa = pytest.mark.parametrize("harness", PSAS, indirect=True)
erp = pytest.mark.parametrize("harness", ERPS, indirect=True)

USD = "USD"


def plan_for(opportunity_id: str, account_id: str) -> ProjectPlan:
    """120 h of CONSULT-HR at its list price of 150: the budget a PSA holds and the revenue a
    PSA plans from effort and price (Tryton has no budget field) are the same 18,000."""
    return ProjectPlan(
        external_ref=f"project:crm:{opportunity_id}",
        name=f"Contract project {opportunity_id}",
        customer_ref=f"customer:crm:{account_id}",
        customer_name=f"Client of {account_id}",
        account_id=account_id,
        opportunity_id=opportunity_id,
        budget=Money(amount=Decimal("18000"), currency=USD),
        tasks=[
            TaskPlan(name="Discovery", service_item="CONSULT-HR", planned_hours=40),
            TaskPlan(name="Build", service_item="CONSULT-HR", planned_hours=80),
        ],
    )


# --- CRM --------------------------------------------------------------------------------------


@crm
def test_crm_reads_a_won_deal_with_its_lines_and_its_account(harness: Harness) -> None:
    account_id, opportunity_id = harness.scenario.won_deal()

    deal = harness.crm.get_opportunity(opportunity_id)
    account = harness.crm.get_customer(account_id)

    assert deal.won and deal.account_id == account_id and deal.lines
    assert all(line.unit_price.currency == deal.amount.currency for line in deal.lines)
    assert account.account_id == account_id and account.billing_address is not None and account.tax_id
    assert account.legal_entity == "us-01"


@crm
def test_crm_financial_statuses_are_written_and_read_back(harness: Harness) -> None:
    _, opportunity_id = harness.scenario.won_deal()

    assert harness.crm.set_financial_statuses({opportunity_id: FinancialStatus.INVOICED}) == {}
    assert harness.crm.financial_status(opportunity_id) is FinancialStatus.INVOICED
    assert harness.crm.set_financial_statuses({opportunity_id: FinancialStatus.PAID}) == {}
    assert harness.crm.financial_status(opportunity_id) is FinancialStatus.PAID


@crm
def test_crm_a_status_for_an_unknown_deal_fails_alone(harness: Harness) -> None:
    _, opportunity_id = harness.scenario.won_deal()
    unknown = harness.scenario.unknown_id("opportunity")

    failed = harness.crm.set_financial_statuses({unknown: FinancialStatus.PAID, opportunity_id: FinancialStatus.PAID})

    assert set(failed) == {unknown} and isinstance(failed[unknown], ConcordError)
    assert harness.crm.financial_status(opportunity_id) is FinancialStatus.PAID


@crm
def test_crm_changes_are_seen_once_after_the_cursor(harness: Harness) -> None:
    account_id, _ = harness.scenario.won_deal()
    cursor = harness.crm.start_cursor("customer", dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    harness.scenario.rename_account(account_id, "Renamed For The Contract")

    seen: list[str] = []
    for _ in range(50):  # pages of one: ties and paging never skip nor repeat
        page = harness.crm.changes_since("customer", cursor, 1)
        seen += [c.record_id for c in page.changes]
        cursor = page.cursor
        if not page.more:
            break

    assert seen.count(account_id) == 1
    assert harness.crm.get_customer(account_id).name == "Renamed For The Contract"
    assert account_id not in [c.record_id for c in harness.crm.changes_since("customer", cursor, 100).changes]


@crm
def test_crm_changes_of_named_records_are_the_stamps_polling_reports(harness: Harness) -> None:
    cursor = harness.crm.start_cursor("customer", dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    account_id, _ = harness.scenario.won_deal()
    harness.scenario.rename_account(account_id, "Renamed For Enrichment")
    polled = {c.record_id: c for c in harness.crm.changes_since("customer", cursor, 100).changes}

    read = harness.crm.changes_of("customer", [account_id, account_id, "999999999"])

    assert [c.record_id for c in read] == [account_id]  # once, and the unknown id left out
    assert read[0] == polled[account_id]


# --- PSA --------------------------------------------------------------------------------------


def _project(harness: Harness):
    account_id, opportunity_id = harness.scenario.won_deal()
    plan = plan_for(opportunity_id, account_id)
    assert harness.psa is not None
    return plan, harness.psa.create_project(plan)


@psa
def test_psa_creating_the_same_project_twice_makes_one(harness: Harness) -> None:
    plan, first = _project(harness)

    again = harness.psa.create_project(plan)

    assert again.project_id == first.project_id and again.task_ids == first.task_ids
    assert sorted(first.task_ids) == ["Build", "Discovery"]
    budget = harness.psa.project_budget(first.project_id)
    assert budget is not None and (budget.amount, budget.currency) == (plan.budget.amount, plan.budget.currency), budget


@psa
def test_psa_billing_statuses_are_written_and_read_back(harness: Harness) -> None:
    _, project = _project(harness)

    assert harness.psa.set_billing_statuses({project.project_id: FinancialStatus.INVOICED}) == {}
    assert harness.psa.billing_status(project.project_id) is FinancialStatus.INVOICED
    failed = harness.psa.set_billing_statuses({harness.scenario.unknown_id("project"): FinancialStatus.PAID})
    assert len(failed) == 1


@psa
def test_psa_approved_time_is_read_and_announced_by_change_capture(harness: Harness) -> None:
    _, project = _project(harness)
    cursor = harness.psa.start_cursor("time_entry", dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    harness.scenario.approve_time(project, Decimal("7.5"), dt.date.today() - dt.timedelta(days=1))

    approved = list(harness.psa.approved_time(project.project_id))
    page = harness.psa.changes_since("time_entry", cursor, 100)
    announced = [e for change in page.changes for e in harness.psa.approved_entries(change.record_id)]

    assert hours_of(approved) == Decimal("7.5")
    assert all(e.project_id == project.project_id for e in approved)
    assert {e.time_entry_id for e in approved} <= {e.time_entry_id for e in announced}
    assert all(change.created_at is not None for change in page.changes)


@psa
def test_psa_changes_of_approved_time_are_the_stamps_polling_reports(harness: Harness) -> None:
    _, project = _project(harness)
    cursor = harness.psa.start_cursor("time_entry", dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    harness.scenario.approve_time(project, Decimal("3"), dt.date.today() - dt.timedelta(days=1))
    polled = harness.psa.changes_since("time_entry", cursor, 100).changes

    read = harness.psa.changes_of("time_entry", [c.record_id for c in polled])

    assert polled and sorted(read, key=lambda c: c.record_id) == sorted(polled, key=lambda c: c.record_id)


# --- ERP --------------------------------------------------------------------------------------


@erp
def test_erp_customer_is_created_found_by_natural_key_and_updated(harness: Harness) -> None:
    customer = unique_customer()

    created = harness.erp.upsert_customer(customer, f"customer:crm:{customer.account_id}", None)
    found = harness.erp.find_customer(tax_id=customer.tax_id, name=customer.name)
    again = harness.erp.upsert_customer(customer, f"customer:crm:{customer.account_id}", created.customer_id)

    assert found is not None and found.customer_id == created.customer_id == again.customer_id
    assert harness.erp.get_customer(created.customer_id).name == customer.name


@erp
def test_erp_draft_lines_are_added_once_per_reference(harness: Harness) -> None:
    customer = harness.erp.upsert_customer(unique_customer(), f"customer:crm:{dt.datetime.now().timestamp()}", None)
    project_ref = f"project:crm:contract-{dt.datetime.now().timestamp()}"
    draft = harness.erp.open_invoice_draft(customer.customer_id, USD, project_ref)
    lines = [
        InvoiceLine(description=f"{n} h", quantity=n, service_item="CONSULT-HR", concord_ref=f"time:{project_ref}:{n}")
        for n in (1, 2)
    ]

    assert harness.erp.open_invoice_draft(customer.customer_id, USD, project_ref) == draft
    ids = harness.erp.add_invoice_lines(draft, lines)
    assert set(ids) == {line.concord_ref for line in lines} and len(set(ids.values())) == 2
    if stores_line_refs(harness.erp):
        again = harness.erp.add_invoice_lines(draft, lines)
        assert again == ids  # the ERP knows the lines: nothing added twice
        assert harness.erp.billed_refs([line.concord_ref or "" for line in lines]) == {
            line.concord_ref: line.quantity for line in lines
        }


def _billing_customer(harness: Harness) -> tuple[ErpCustomer, str]:
    """A new ERP customer and a project ref no earlier test billed."""
    customer = unique_customer()
    created = harness.erp.upsert_customer(customer, f"customer:crm:{customer.account_id}", None)
    return created, f"project:crm:{customer.account_id}"


def _lines(project_ref: str, quantities: list[float], tag: str = "t") -> list[InvoiceLine]:
    return [
        InvoiceLine(
            description=f"{q} h", quantity=q, service_item="CONSULT-HR", concord_ref=f"time:{project_ref}:{tag}{n}"
        )
        for n, q in enumerate(quantities)
    ]


@erp
def test_erp_customer_is_found_by_tax_id_else_by_exact_name(harness: Harness) -> None:
    customer = unique_customer()
    created = harness.erp.upsert_customer(customer, f"customer:crm:{customer.account_id}", None)

    by_tax_id = harness.erp.find_customer(tax_id=customer.tax_id, name="Some Other Name")
    by_name = harness.erp.find_customer(tax_id=None, name=customer.name)
    again = harness.erp.upsert_customer(
        customer.model_copy(update={"name": customer.name + " Renamed"}),
        f"customer:crm:{customer.account_id}",
        created.customer_id,
    )

    assert by_tax_id is not None and by_name is not None
    assert by_tax_id.customer_id == by_name.customer_id == again.customer_id == created.customer_id
    assert harness.erp.get_customer(created.customer_id).name == customer.name + " Renamed"
    assert harness.erp.find_customer(tax_id=None, name=f"Nobody {customer.account_id}") is None


@erp
def test_erp_a_full_batch_of_lines_goes_in_one_call_and_one_more_is_refused_whole(harness: Harness) -> None:
    customer, project_ref = _billing_customer(harness)
    draft = harness.erp.open_invoice_draft(customer.customer_id, USD, project_ref)
    limit = harness.erp.capabilities.batch_limits.invoice_lines
    lines = _lines(project_ref, [1.0] * (limit + 1))

    with pytest.raises(ValidationFailed):
        harness.erp.add_invoice_lines(draft, lines)
    ids = {**harness.erp.add_invoice_lines(draft, lines[:limit]), **harness.erp.add_invoice_lines(draft, lines[limit:])}

    assert set(ids) == {line.concord_ref for line in lines} and len(set(ids.values())) == limit + 1
    if stores_line_refs(harness.erp):  # the refused call added none of them
        assert len(harness.erp.billed_refs(list(ids))) == limit + 1


@erp
def test_erp_billed_refs_are_the_erps_where_it_stores_them_else_the_registrys(harness: Harness) -> None:
    customer, project_ref = _billing_customer(harness)
    draft = harness.erp.open_invoice_draft(customer.customer_id, USD, project_ref)
    lines = _lines(project_ref, [1.5, 2.0])

    first = harness.erp.add_invoice_lines(draft, lines)
    again = harness.erp.add_invoice_lines(draft, lines)

    if harness.erp.capabilities.line_refs is LineRefs.STORED:
        assert again == first  # the ERP knows the lines: nothing added twice
        assert harness.erp.billed_refs([*first, "time:never-billed"]) == {
            line.concord_ref: line.quantity for line in lines
        }
    else:  # only Concord's registry can say what was billed: the ERP adds what it is given
        assert set(again) == set(first) and set(again.values()).isdisjoint(first.values())


@erp
def test_erp_the_posted_invoice_and_its_payment_are_polled_and_read(harness: Harness) -> None:
    customer, project_ref = _billing_customer(harness)
    draft = harness.erp.open_invoice_draft(customer.customer_id, USD, project_ref)
    harness.erp.add_invoice_lines(draft, _lines(project_ref, [1.0, 2.0]))
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    invoices, payments = (harness.erp.start_cursor(kind, since) for kind in ("invoice", "payment"))
    assert harness.erp.posted_invoice(draft) is None  # a draft is not posted

    invoice_id = harness.scenario.post_invoice(project_ref)
    invoice_changes = in_pages_of_one(harness.erp, "invoice", invoices)
    harness.scenario.pay_invoice(invoice_id, Decimal(100))
    payment_changes = in_pages_of_one(harness.erp, "payment", payments)

    for changes in (invoice_changes, payment_changes):
        ids = [c.record_id for c in changes]
        assert len(ids) == len(set(ids)), ids  # paging repeats nothing
    postings = [p for c in invoice_changes if (p := harness.erp.posted_invoice(c.record_id))]
    assert [(p.invoice_id, p.customer_id, p.total.currency) for p in postings] == [(draft, customer.customer_id, USD)]
    assert invoice_id in [c.record_id for c in invoice_changes]
    total = postings[0].total.amount
    received = [r for c in payment_changes if (r := harness.erp.received_payment(c.record_id))]
    assert [(r.invoice_id, r.amount.amount, r.invoice_amount_due.amount) for r in received] == [
        (draft, Decimal(100), total - 100)
    ]
    # (get_invoice's amount due may lag: Business Central's applies a payment journal once it posts)
    assert harness.erp.get_invoice(draft).posted


@erp
def test_erp_revenue_schedules_are_kept_once_per_project_or_declared_a_gap(harness: Harness) -> None:
    customer = harness.erp.upsert_customer(unique_customer(), f"customer:crm:{dt.datetime.now().timestamp()}", None)
    project_ref = f"project:crm:revenue-{dt.datetime.now().timestamp()}"
    deal = support_deal(dt.date(2026, 11, 25))
    keeps = harness.name in KEEPS_REVENUE_SCHEDULES

    assert harness.erp.capabilities.revenue_schedules is keeps
    if not keeps:
        with pytest.raises(ConfigurationError):
            harness.erp.set_revenue_schedule(project_ref, customer.customer_id, deal)
        return
    schedule_id = harness.erp.set_revenue_schedule(project_ref, customer.customer_id, deal)
    assert schedule_id
    assert harness.erp.set_revenue_schedule(project_ref, customer.customer_id, deal) == schedule_id
    other = harness.erp.set_revenue_schedule(f"{project_ref}-2", customer.customer_id, deal)
    assert other != schedule_id
