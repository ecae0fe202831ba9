"""Reconciliation against in-memory systems: each kind of drift is found, and repaired from its
authority with the flows' own logic; a consistent world reports nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from concord.domain import ApprovedTime, FinancialStatus, InvoiceRecord, LineRefs, Opportunity
from concord.events.types import Severity, System
from concord.sync import financials
from concord.sync.reconcile import Drift, Entity, ReconcileRequest, drift_event, find_drift, reconcile, repair
from concord.sync.systems import Systems

from . import sync_world as flows
from .fakes import erp_capabilities
from .sync_world import NOW, TODAY, usd

systems = flows.systems  # the same fixture: a deal quote-to-cash turned into an ERP customer and a PSA project


@pytest.fixture(autouse=True)
def _consistent(systems: Systems) -> None:
    """Deal and project agree; one invoice of 1125 posted and known to everyone as invoiced."""
    systems.crm.opportunities[flows.OPPORTUNITY] = Opportunity(  # type: ignore[attr-defined]
        opportunity_id=flows.OPPORTUNITY,
        account_id=flows.ACCOUNT,
        name="Data platform",
        amount=usd("24000"),
        won=True,
    )
    systems.psa.budgets[flows.PSA_PROJECT] = usd("24000")  # type: ignore[attr-defined]
    flows.billed_invoice(systems)
    systems.erp.invoices["500"] = InvoiceRecord(  # type: ignore[attr-defined]
        invoice_id="500", number="INV-500", posted=True, total=usd("1125"), amount_due=usd("1125")
    )
    financials.propagate(flows.posted(), systems, TODAY)
    systems.psa.approved[flows.PSA_PROJECT] = [_approved("1")]  # type: ignore[attr-defined]


def _approved(entry: str) -> ApprovedTime:
    return ApprovedTime(**flows.time_event(entry).data.model_dump())


def test_a_consistent_world_has_no_drift(systems: Systems) -> None:
    assert find_drift(systems, ("customer", "project"), TODAY) == []


def test_a_payment_the_flows_missed_is_found_and_repaired_from_the_erp(systems: Systems) -> None:
    systems.erp.invoices["500"] = systems.erp.invoices["500"].model_copy(update={"amount_due": usd("0")})  # type: ignore[attr-defined]
    drift = {d.field: d for d in find_drift(systems, ("project",), TODAY)}
    assert set(drift) == {"invoice 500 amount_due", "financial_status"}
    assert drift["financial_status"].values == {System.ERP: "paid", System.CRM: "invoiced", System.PSA: "invoiced"}
    cause = drift_event(drift["financial_status"], "us-01", NOW)
    assert "paid" in repair(drift["financial_status"], cause, systems, NOW)
    assert systems.crm.financial_status(flows.OPPORTUNITY) is FinancialStatus.PAID  # type: ignore[attr-defined]
    assert find_drift(systems, ("project",), TODAY) == []


def test_approved_time_never_billed_is_found_and_billed(systems: Systems) -> None:
    systems.psa.approved[flows.PSA_PROJECT] = [_approved("1"), _approved("2"), _approved("3")]  # type: ignore[attr-defined]
    (drift,) = find_drift(systems, ("project",), TODAY)
    assert drift.field == "billed_hours" and drift.detail == ("2", "3")
    assert drift.values == {System.PSA: "22.50", System.ERP: "7.5"}
    assert repair(drift, drift_event(drift, "us-01", NOW), systems, NOW) == "billed 2 entries"
    assert find_drift(systems, ("project",), TODAY) == []


def test_with_registry_only_line_refs_the_registry_says_what_was_billed(systems: Systems) -> None:
    systems.erp.capabilities = erp_capabilities(line_refs=LineRefs.REGISTRY)  # type: ignore[misc]
    systems.psa.approved[flows.PSA_PROJECT] = [_approved("1"), _approved("2")]  # type: ignore[attr-defined]
    (drift,) = find_drift(systems, ("project",), TODAY)  # the ERP is never asked by line ref
    assert drift.detail == ("2",) and drift.values == {System.PSA: "15.00", System.ERP: "7.50"}
    assert repair(drift, drift_event(drift, "us-01", NOW), systems, NOW) == "billed 1 entries"
    assert find_drift(systems, ("project",), TODAY) == []


def test_a_customer_field_the_crm_owns_is_repaired_one_the_erp_owns_is_left_to_a_person(systems: Systems) -> None:
    flows.crm_says(systems, name="Northwind Advisory", tax_id="98-7654321")
    drift = {d.field: d for d in find_drift(systems, ("customer",), TODAY)}
    assert set(drift) == {"name", "tax_id"}
    assert drift["name"].authority is System.CRM and drift["name"].repairable
    assert drift["tax_id"].authority is System.ERP and not drift["tax_id"].repairable
    assert repair(drift["tax_id"], drift_event(drift["tax_id"], "us-01", NOW), systems, NOW).startswith("not repaired")
    repair(drift["name"], drift_event(drift["name"], "us-01", NOW), systems, NOW)
    assert [d.field for d in find_drift(systems, ("customer",), TODAY)] == ["tax_id"]


def test_a_budget_that_differs_from_the_deal_is_reported_not_repaired(systems: Systems) -> None:
    systems.psa.budgets[flows.PSA_PROJECT] = usd("20000")  # type: ignore[attr-defined]
    (drift,) = find_drift(systems, ("project",), TODAY)
    assert drift.field == "budget" and not drift.repairable
    assert drift.values == {System.CRM: "24000 USD", System.PSA: "20000 USD"}


def test_the_same_drift_is_one_event_per_day() -> None:
    drift = Drift(
        object_type="project",
        canonical_id="p",
        field="budget",
        authority=System.CRM,
        values={System.CRM: "1", System.PSA: "2"},
        severity=Severity.WARNING,
        repairable=False,
    )
    assert drift_event(drift, "us-01", NOW).id == drift_event(drift, "us-01", NOW + dt.timedelta(hours=1)).id
    assert drift_event(drift, "us-01", NOW).id != drift_event(drift, "us-01", NOW + dt.timedelta(days=1)).id


def test_a_run_publishes_drift_and_repairs_only_when_asked(systems: Systems) -> None:
    systems.erp.invoices["500"] = systems.erp.invoices["500"].model_copy(update={"amount_due": usd("0")})  # type: ignore[attr-defined]

    detected = reconcile(
        systems, ReconcileRequest(objects=["project"]), "us-01", repair_by_default=False, clock=lambda: NOW
    )

    assert not detected.repair and {row["field"] for row in detected.drift} == {
        "invoice 500 amount_due",
        "financial_status",
    }
    assert all("repair" not in row for row in detected.drift)
    assert {e.id for e in systems.bus.published} == {row["event_id"] for row in detected.drift}  # type: ignore[attr-defined]
    assert find_drift(systems, ("project",), TODAY) != []

    repaired = reconcile(
        systems, ReconcileRequest(objects=["project"], repair=True), "us-01", repair_by_default=False, clock=lambda: NOW
    )

    assert repaired.repair and any("paid" in row["repair"] for row in repaired.drift)
    assert find_drift(systems, ("project",), TODAY) == []


def test_a_run_scoped_to_an_entity_leaves_the_others_alone(systems: Systems) -> None:
    systems.erp.invoices["500"] = systems.erp.invoices["500"].model_copy(update={"amount_due": usd("0")})  # type: ignore[attr-defined]
    elsewhere = ReconcileRequest(entities=[Entity(object_type="project", canonical_id="no-such-project")])

    assert reconcile(systems, elsewhere, "us-01", repair_by_default=True, clock=lambda: NOW).drift == []
