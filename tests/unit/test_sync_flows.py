"""The billing and financial-status flows after quote-to-cash, against in-memory systems (the
world: sync_world.py); and every flow's refusal of an event it does not handle."""

from __future__ import annotations

import datetime as dt

import pytest

from concord.domain import (
    FinancialStatus,
    InvoiceState,
    LineRefs,
)
from concord.errors import PrerequisiteMissing, ValidationFailed
from concord.events import Envelope
from concord.events.types import System
from concord.sync import billing, financials
from concord.sync.customer_master import sync_customer
from concord.sync.ids import canonical_id
from concord.sync.project_terms import apply_terms
from concord.sync.systems import Systems

from . import sync_world
from .fakes import (
    FakeErp,
    erp_capabilities,
)
from .sync_world import (
    NOW,
    OPPORTUNITY,
    PROJECT_REF,
    PSA_PROJECT,
    TODAY,
    account_changed,
    billed_invoice,
    expense_event,
    paid,
    posted,
    time_event,
    usd,
)

systems = sync_world.systems  # the fixture: a deal quote-to-cash turned into an ERP customer and a PSA project


# --- billing ----------------------------------------------------------------------------------


def test_a_batch_of_ten_with_one_poison_record_bills_nine_in_one_call(systems: Systems) -> None:
    records: list[tuple[str, Envelope]] = [(f"m{i}", time_event(str(i))) for i in range(9)]
    records.append(("poison", expense_event("e1", category="yacht")))
    outcomes = billing.bill(records, systems)

    failed = {key: outcome for key, outcome in outcomes.items() if isinstance(outcome, Exception)}
    assert list(failed) == ["poison"]
    assert isinstance(failed["poison"], ValidationFailed) and "yacht" in str(failed["poison"])
    erp: FakeErp = systems.erp  # type: ignore[assignment]
    assert erp.line_calls == [9]
    assert sorted(erp.lines) == sorted(f"time:{i}" for i in range(9))
    line = erp.lines["time:0"][2]
    assert line.unit_price is None and line.service_item == "CONSULT-HR" and line.quantity == 7.5


def test_lines_go_in_calls_of_the_erps_batch_limit(systems: Systems) -> None:
    systems.erp.capabilities = erp_capabilities(invoice_lines=4)  # type: ignore[misc]
    billing.bill([(str(i), time_event(str(i))) for i in range(10)], systems)
    assert systems.erp.line_calls == [4, 4, 2]  # type: ignore[attr-defined]


def test_a_line_the_erp_refuses_fails_alone_the_rest_are_billed(systems: Systems) -> None:
    erp: FakeErp = systems.erp  # type: ignore[assignment]
    erp.bad_items = {"EXP-REBILL"}
    records: list[tuple[str, Envelope]] = [(f"t{i}", time_event(str(i))) for i in range(7)]
    records.insert(3, ("exp", expense_event("e1")))
    outcomes = billing.bill(records, systems)
    assert [k for k, o in outcomes.items() if isinstance(o, Exception)] == ["exp"]
    assert len(erp.lines) == 7
    # 8 lines: the whole call, then halves until the refused line is alone
    assert erp.line_calls[0] == 8 and len(erp.line_calls) <= 1 + 2 * 3


def test_three_deliveries_of_one_approval_make_one_line(systems: Systems) -> None:
    event = time_event("5")
    outcomes = billing.bill([("a", event), ("b", event), ("c", time_event("5"))], systems)
    assert all(not isinstance(o, Exception) for o in outcomes.values())
    assert list(systems.erp.lines) == ["time:5"]  # type: ignore[attr-defined]
    assert systems.erp.line_calls == [1]  # type: ignore[attr-defined]
    ref = canonical_id("time_entry", System.PSA, "5")
    (line_id, _, _) = systems.erp.lines["time:5"]  # type: ignore[attr-defined]
    assert systems.xref.records_of("time_entry", ref) == {"psa": "5", "erp": line_id}


def test_with_registry_only_line_refs_a_redelivery_is_answered_from_the_registry(systems: Systems) -> None:
    systems.erp.capabilities = erp_capabilities(line_refs=LineRefs.REGISTRY)  # type: ignore[misc]
    billing.bill([("a", time_event("5"))], systems)
    billing.bill([("b", time_event("5")), ("c", time_event("6"))], systems)
    assert systems.erp.line_calls == [1, 1]  # type: ignore[attr-defined]
    assert len(systems.erp.lines) == 2  # type: ignore[attr-defined]


def test_an_approval_billed_before_is_answered_without_asking_the_erp(systems: Systems) -> None:
    billing.bill([("a", time_event("5"))], systems)
    (line_id, _, _) = systems.erp.lines["time:5"]  # type: ignore[attr-defined]
    systems.erp.outage.remaining = 5  # type: ignore[attr-defined]
    (again,) = billing.bill([("b", time_event("5"))], systems).values()
    assert isinstance(again, billing.Billed) and again.detail == f"already billed: ERP line {line_id}"
    assert systems.erp.outage.remaining == 5  # type: ignore[attr-defined]


def test_non_billable_time_and_unknown_projects(systems: Systems) -> None:
    outcomes = billing.bill([("n", time_event("1", billable=False)), ("u", time_event("2", project="999"))], systems)
    assert isinstance(outcomes["n"], billing.Billed) and not outcomes["n"].billed
    assert isinstance(outcomes["u"], PrerequisiteMissing) and "999" in str(outcomes["u"])
    assert systems.erp.line_calls == []  # type: ignore[attr-defined]


def test_an_expense_in_another_currency_is_refused(systems: Systems) -> None:
    outcomes = billing.bill([("e", expense_event("e9", currency="EUR"))], systems)
    assert isinstance(outcomes["e"], ValidationFailed) and "EUR" in str(outcomes["e"])


def test_an_erp_outage_fails_every_line_of_the_call_for_a_retry(systems: Systems) -> None:
    systems.erp.outage.remaining = 1  # type: ignore[attr-defined]
    outcomes = billing.bill([(str(i), time_event(str(i))) for i in range(3)], systems)
    assert all(isinstance(o, Exception) for o in outcomes.values())
    assert billing.bill([(str(i), time_event(str(i))) for i in range(3)], systems)["0"].billed  # type: ignore[union-attr]


# --- financial status -------------------------------------------------------------------------


def test_posted_then_paid_reaches_crm_and_psa(systems: Systems) -> None:
    billed_invoice(systems)
    assert financials.propagate(posted(), systems, TODAY).status is FinancialStatus.INVOICED
    assert financials.propagate(paid("p1", "500", "625"), systems, TODAY).status is FinancialStatus.PARTIALLY_PAID
    assert financials.propagate(paid("p2", "625", "0"), systems, TODAY).status is FinancialStatus.PAID
    assert systems.crm.statuses[OPPORTUNITY][-1] is FinancialStatus.PAID  # type: ignore[attr-defined]
    assert systems.psa.billing_statuses[PSA_PROJECT][-1] is FinancialStatus.PAID  # type: ignore[attr-defined]
    actions = [e.action for e in systems.xref.lineage("project", PROJECT_REF)]
    assert "invoice INV-500 posted" in actions and "status paid" in actions


def test_a_payment_before_its_invoice_is_posted_waits_for_it(systems: Systems) -> None:
    billed_invoice(systems)
    with pytest.raises(PrerequisiteMissing, match="InvoicePosted"):
        financials.propagate(paid("p1", "1125", "0"), systems, TODAY)
    financials.propagate(posted(), systems, TODAY)
    assert financials.propagate(paid("p1", "1125", "0"), systems, TODAY).status is FinancialStatus.PAID


def test_payments_in_reverse_order_end_paid(systems: Systems) -> None:
    billed_invoice(systems)
    financials.propagate(posted(), systems, TODAY)
    financials.propagate(paid("p2", "625", "0"), systems, TODAY)
    assert financials.propagate(paid("p1", "500", "625"), systems, TODAY).status is FinancialStatus.PAID


def test_an_unpaid_invoice_past_due_is_overdue_and_one_not_billed_by_concord_is_left_alone(systems: Systems) -> None:
    billed_invoice(systems)
    assert financials.propagate(posted(due="2026-11-01"), systems, TODAY).status is FinancialStatus.OVERDUE
    outcome = financials.propagate(posted(invoice_id="777"), systems, TODAY)
    assert not outcome.applied and "not billed by Concord" in outcome.detail


def test_project_status_over_several_invoices() -> None:
    def state(total: str, due: str) -> InvoiceState:
        return InvoiceState(invoice_id=total + due, total=usd(total), amount_due=usd(due), due_on=dt.date(2026, 12, 31))

    assert financials.project_status([], TODAY) is FinancialStatus.NOT_INVOICED
    assert financials.project_status([state("10", "0"), state("10", "10")], TODAY) is FinancialStatus.PARTIALLY_PAID
    assert financials.project_status([state("10", "0"), state("20", "0")], TODAY) is FinancialStatus.PAID


def test_every_flow_refuses_an_event_it_does_not_handle(systems: Systems) -> None:
    wrong = account_changed()
    with pytest.raises(ValidationFailed):
        financials.propagate(wrong, systems, TODAY)
    with pytest.raises(ValidationFailed):
        apply_terms(wrong, systems, NOW)
    assert isinstance(billing.bill([("x", wrong)], systems)["x"], ValidationFailed)
    with pytest.raises(ValidationFailed):
        sync_customer(time_event("1"), systems, NOW)
