"""Vendor calls per flow, counted on the fakes: each flow at its floor (issue 16), with its
behaviour guarantees kept (ordering, idempotency, a failing record failing alone)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from benchmarks import _floors
from concord import catalog
from concord.domain import FinancialStatus, LineRefs
from concord.errors import DraftClosed, PrerequisiteMissing, TransientError
from concord.events import Envelope
from concord.events.types import System
from concord.sync import billing, financials
from concord.sync.customer_master import sync_customers
from concord.sync.ids import canonical_id
from concord.sync.project_terms import apply_terms_batch
from concord.sync.systems import Systems

from . import sync_world as flows
from .fakes import Counting, erp_capabilities

NOW, TODAY = flows.NOW, flows.TODAY


@pytest.fixture()
def systems() -> Systems:
    """The won deal of sync_world, its three systems' calls counted."""
    base = flows.systems.__wrapped__()  # type: ignore[attr-defined]
    return Systems(
        crm=Counting(base.crm),
        psa=Counting(base.psa),
        erp=Counting(base.erp),  # type: ignore[arg-type]
        xref=base.xref,
        bus=base.bus,
        rules=base.rules,
        ownership=base.ownership,
    )


def calls(system: object) -> dict[str, int]:
    return dict(system.calls)  # type: ignore[attr-defined]


def batch(events: list[Envelope]) -> list[tuple[str, Envelope]]:
    return [(f"m{i}", event) for i, event in enumerate(events)]


# --- billing ----------------------------------------------------------------------------------


def test_two_hundred_approvals_cost_one_draft_lookup_and_two_batched_writes(systems: Systems) -> None:
    outcomes = billing.bill(batch([flows.time_event(str(i)) for i in range(200)]), systems)
    assert all(outcome.billed for outcome in outcomes.values())  # type: ignore[union-attr]
    assert calls(systems.erp) == {"open_invoice_draft": 1, "add_invoice_lines": 2}
    # redelivered: answered from the registry, no ERP call
    billing.bill(batch([flows.time_event(str(i)) for i in range(200)]), systems)
    assert calls(systems.erp) == {"open_invoice_draft": 1, "add_invoice_lines": 2}


def test_one_approval_delivered_three_times_in_one_batch_is_billed_once(systems: Systems) -> None:
    # Its push, its poll and its enrichment: three event ids, one time entry. An ERP that keeps no
    # line refs cannot refuse the copies itself: the flow must.
    systems.erp.inner.capabilities = erp_capabilities(line_refs=LineRefs.REGISTRY)  # type: ignore[attr-defined]
    copies = [flows.time_event("7") for _ in range(3)]
    assert len({event.id for event in copies}) == 3
    outcomes = billing.bill(batch([flows.time_event("6"), *copies]), systems)

    assert calls(systems.erp) == {"open_invoice_draft": 1, "add_invoice_lines": 1}
    assert systems.erp.inner.line_calls == [2]  # type: ignore[attr-defined]  # one line per time entry
    assert {outcomes[key].line_id for key in ("m1", "m2", "m3")} == {outcomes["m1"].line_id}  # type: ignore[union-attr]


def test_a_batch_of_approvals_costs_the_registry_batched_calls_not_some_per_line(systems: Systems) -> None:
    xref = Counting(systems.xref)
    counted = Systems(**{**vars(systems), "xref": xref})  # type: ignore[arg-type]
    outcomes = billing.bill(batch([flows.time_event(str(i)) for i in range(200)]), counted)
    assert all(outcome.billed for outcome in outcomes.values())  # type: ignore[union-attr]
    per_batch = {"linked_records": 1, "link_many": 2, "record_changes": 2}  # the last two: per ERP call
    assert {name: xref.calls[name] for name in per_batch} == per_batch
    assert xref.calls["link"] == 1 and xref.calls["record_change"] == 1  # the draft invoice's, once
    entry = canonical_id("time_entry", System.PSA, "7")
    assert systems.xref.records_of("time_entry", entry).keys() == {"psa", "erp"}
    assert [e.action for e in systems.xref.lineage("time_entry", entry)] == [
        f"billed on invoice {outcomes['m7'].invoice_id}"
    ]  # type: ignore[union-attr]


def test_lines_for_a_draft_posted_meanwhile_go_at_once_to_the_draft_opened_then(systems: Systems) -> None:
    erp = systems.erp.inner  # type: ignore[attr-defined]
    erp.drafts[flows.PROJECT_REF] = "remembered"
    add = erp.add_invoice_lines

    def posted_meanwhile(invoice_id: str, lines: list) -> dict[str, str]:
        if invoice_id == "remembered":
            erp.drafts[flows.PROJECT_REF] = "opened-now"  # what open_invoice_draft finds next
            raise DraftClosed(f"ERP invoice {invoice_id} was posted meanwhile")
        return add(invoice_id, lines)

    erp.add_invoice_lines = posted_meanwhile
    outcomes = billing.bill(batch([flows.time_event(str(i)) for i in range(3)]), systems)
    assert {o.invoice_id for o in outcomes.values()} == {"opened-now"}  # type: ignore[union-attr]
    assert calls(systems.erp) == {"open_invoice_draft": 2}
    assert systems.xref.related("invoice", flows.canonical_id("invoice", System.ERP, "opened-now"), "project") == (
        flows.PROJECT_REF
    )


# --- financial status -------------------------------------------------------------------------


def _posted_invoice(systems: Systems) -> None:
    flows.billed_invoice(systems)
    financials.propagate(flows.posted(total="1125"), systems, TODAY)
    systems.crm.calls.clear()  # type: ignore[attr-defined]
    systems.psa.calls.clear()  # type: ignore[attr-defined]


def test_a_batch_of_payments_writes_each_system_once_and_only_when_the_status_changes(systems: Systems) -> None:
    _posted_invoice(systems)
    payments = [flows.paid(f"p{k}", "1", str(1124 - k)) for k in range(50)]
    outcomes = financials.propagate_batch(batch(payments), systems, TODAY)
    assert {o.status for o in outcomes.values()} == {FinancialStatus.PARTIALLY_PAID}  # type: ignore[union-attr]
    assert calls(systems.crm) == {"set_financial_statuses": 1} and calls(systems.psa) == {"set_billing_statuses": 1}

    # still partially paid, and a redelivery of the batch: the registry answers, no write
    more = [flows.paid(f"q{k}", "1", str(1000 - k)) for k in range(50)]
    financials.propagate_batch(batch(more + payments), systems, TODAY)
    assert calls(systems.crm) == {"set_financial_statuses": 1} and calls(systems.psa) == {"set_billing_statuses": 1}

    financials.propagate_batch(batch([flows.paid("last", "950", "0")]), systems, TODAY)
    assert systems.crm.statuses[flows.OPPORTUNITY] == [  # type: ignore[attr-defined]
        FinancialStatus.INVOICED,
        FinancialStatus.PARTIALLY_PAID,
        FinancialStatus.PAID,
    ]
    assert calls(systems.crm) == {"set_financial_statuses": 2}


def test_a_batch_of_payments_of_one_invoice_costs_the_registry_a_handful_of_calls_not_some_per_record(
    systems: Systems,
) -> None:
    _posted_invoice(systems)
    xref = Counting(systems.xref)
    counted = Systems(**{**vars(systems), "xref": xref})  # type: ignore[arg-type]
    payments = [flows.paid(f"p{k}", "1", str(1124 - k)) for k in range(100)]
    outcomes = financials.propagate_batch(batch(payments), counted, TODAY)

    assert all(o.applied for o in outcomes.values())  # type: ignore[union-attr]
    # the invoice's project once, its state once, its 100 payments' lineage in one call; then the
    # project's status: its invoices, its records, what each system shows, and each write's mark
    assert dict(xref.calls) == {
        "related": 1,
        "update_invoice_state": 1,
        "record_changes": 1,
        "invoice_states": 1,
        "records_of": 1,
        "applied_value": 2,
        "set_applied_value": 2,
        "record_change": 2,
    }
    assert len(systems.xref.lineage("project", flows.PROJECT_REF)) >= 100
    [state] = systems.xref.invoice_states(flows.PROJECT_REF)
    assert len(state.payments) == 100 and state.amount_due.amount == Decimal("1025")


def test_a_payment_before_its_posting_fails_alone_in_its_invoices_batch(systems: Systems) -> None:
    flows.billed_invoice(systems)
    posted = flows.posted(total="1125", at=NOW + dt.timedelta(minutes=1))
    early = flows.paid("early", "100", "1025")  # at NOW: before the posting
    later = flows.paid("later", "100", "925").model_copy(update={"occurred_at": NOW + dt.timedelta(minutes=2)})
    records = [("m2", later), ("m0", early), ("m1", posted)]
    outcomes = financials.propagate_batch(records, systems, TODAY)

    assert isinstance(outcomes["m0"], PrerequisiteMissing)
    assert outcomes["m2"].status is FinancialStatus.PARTIALLY_PAID  # type: ignore[union-attr]
    [state] = systems.xref.invoice_states(flows.PROJECT_REF)
    assert state.payments == {"later"} and state.amount_due.amount == Decimal("925")


def test_a_status_write_that_fails_fails_its_records_alone_and_the_retry_writes_only_that_system(
    systems: Systems,
) -> None:
    _posted_invoice(systems)
    unknown = flows.paid("p-other", "1", "0", invoice_id="777")  # not billed by Concord: no write needed
    systems.psa.inner.outage.remaining = 1  # type: ignore[attr-defined]
    outcomes = financials.propagate_batch(batch([flows.paid("p1", "125", "1000"), unknown]), systems, TODAY)
    assert isinstance(outcomes["m0"], TransientError) and not outcomes["m1"].applied  # type: ignore[union-attr]
    assert systems.crm.statuses[flows.OPPORTUNITY][-1] is FinancialStatus.PARTIALLY_PAID  # type: ignore[attr-defined]

    again = financials.propagate_batch(batch([flows.paid("p1", "125", "1000")]), systems, TODAY)
    assert again["m0"].status is FinancialStatus.PARTIALLY_PAID  # type: ignore[union-attr]
    assert calls(systems.crm) == {"set_financial_statuses": 1}  # not written twice
    assert systems.psa.billing_statuses[flows.PSA_PROJECT][-1] is FinancialStatus.PARTIALLY_PAID  # type: ignore[attr-defined]


def test_reconciliation_repairs_a_status_whatever_the_registry_says(systems: Systems) -> None:
    _posted_invoice(systems)
    financials.apply_status(flows.posted(), systems, flows.PROJECT_REF, TODAY)
    assert calls(systems.crm) == {"set_financial_statuses": 1} and calls(systems.psa) == {"set_billing_statuses": 1}


# --- customer master --------------------------------------------------------------------------


def test_changes_of_one_account_in_a_batch_read_the_crm_once_and_an_unchanged_account_reads_nothing_else(
    systems: Systems,
) -> None:
    changes = [flows.account_changed(at=NOW + dt.timedelta(seconds=k)) for k in range(20)]
    outcomes = sync_customers(batch(changes), systems, NOW)
    assert calls(systems.crm) == {"get_customer": 1} and calls(systems.erp) == {"get_customer": 1}
    assert outcomes["m19"].detail.startswith("written: nothing")  # type: ignore[union-attr]
    assert outcomes["m0"].detail == f"superseded by the newer change {changes[-1].id}"  # type: ignore[union-attr]

    later = [flows.account_changed(at=NOW + dt.timedelta(minutes=1, seconds=k)) for k in range(20)]
    sync_customers(batch(later), systems, NOW)
    assert calls(systems.crm) == {"get_customer": 2} and calls(systems.erp) == {"get_customer": 1}

    flows.crm_says(systems, name="Northwind Advisory")
    renamed = sync_customers(batch([flows.account_changed(at=NOW + dt.timedelta(minutes=2))]), systems, NOW)
    assert renamed["m0"].written == ("name",)  # type: ignore[union-attr]
    assert calls(systems.erp) == {"get_customer": 2, "update_customer": 1}


def test_an_older_change_after_a_newer_batch_is_still_stale(systems: Systems) -> None:
    sync_customers(batch([flows.account_changed(at=NOW)]), systems, NOW)
    stale = sync_customers(batch([flows.account_changed(at=NOW - dt.timedelta(minutes=5))]), systems, NOW)
    assert stale["m0"].detail.startswith("stale")  # type: ignore[union-attr]


def test_a_failing_account_fails_its_changes_alone(systems: Systems) -> None:
    changes = [flows.account_changed(account="404"), flows.account_changed()]
    systems.xref.link("customer", flows.canonical_id("customer", System.CRM, "404"), System.ERP, "9", "q2c")
    outcomes = sync_customers(batch(changes), systems, NOW)
    assert isinstance(outcomes["m0"], Exception) and not isinstance(outcomes["m1"], Exception)


# --- project terms ----------------------------------------------------------------------------


def test_staffing_changes_of_a_project_in_a_batch_write_the_newest_forecast_once(systems: Systems) -> None:
    changes = [flows.staffing([str(100 + k)], at=NOW + dt.timedelta(seconds=k)) for k in range(10)]
    outcomes = apply_terms_batch(batch(list(reversed(changes))), systems, NOW)
    assert calls(systems.erp) == {"set_project_forecast": 1}
    assert systems.erp.forecasts[flows.PROJECT_REF].planned_hours == Decimal(109)  # type: ignore[attr-defined]
    assert sum(1 for o in outcomes.values() if o.applied) == 1  # type: ignore[union-attr]

    same = flows.staffing(["109"], at=NOW + dt.timedelta(minutes=1))
    assert not apply_terms_batch(batch([same]), systems, NOW)["m0"].applied  # type: ignore[union-attr]
    assert calls(systems.erp) == {"set_project_forecast": 1}


# --- the catalog and the benchmark's floors ---------------------------------------------------


def test_flows_that_batch_take_a_vendor_batch_with_a_window() -> None:
    for flow in (catalog.BILLING, catalog.FINANCIAL_STATUS, catalog.CUSTOMER_MASTER, catalog.PROJECT_TERMS):
        assert flow.batch_size == catalog.VENDOR_BATCH and flow.batching_window_seconds > 0
    with pytest.raises(ValueError, match="window"):
        catalog.Flow("x", "x", catalog.Schedule("x"), catalog.Severity.WARNING, batch_size=100)


def test_status_changes_count_what_a_correct_flow_must_write() -> None:
    total = Decimal(100)
    assert _floors.status_changes(total, [Decimal(99), Decimal(98)], before=total) == 1
    assert _floors.status_changes(total, [Decimal(98), Decimal(99), Decimal(0)], before=Decimal(99)) == 1
    rows = _floors.against(_floors.financial_status(1), {"crm": 1, "psa": 3})
    assert [(r["ratio"], r["met"]) for r in rows] == [(1.0, True), (3.0, False)]
    assert _floors.against(_floors.customer_master(5, 0), {"crm": 2})[1]["met"]
