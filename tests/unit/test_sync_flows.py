"""The sync flows after quote-to-cash, against in-memory systems: billing, financial status,
customer master under system-of-record rules, project terms."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from concord.domain import (
    ContractTerms,
    LineRefs,
    PsaCapabilities,
    Customer,
    ErpCustomer,
    FinancialStatus,
    InvoiceState,
)
from concord.errors import PrerequisiteMissing, ValidationFailed
from concord.events import Envelope, new_event
from concord.events.envelope import (
    AccountChangedEvent,
    ContractChangedEvent,
    ExpenseApprovedEvent,
    InvoicePostedEvent,
    PaymentReceivedEvent,
    StaffingChangedEvent,
    SyncExceptionRaisedEvent,
    TimeApprovedEvent,
)
from concord.events.types import Address, ErrorClass, Money, System
from concord.ownership import SystemOfRecord, decide_fields, load_system_of_record
from concord.sync import billing, financials
from concord.sync.customer_master import sync_customer
from concord.sync.ids import canonical_id
from concord.sync.project_terms import apply_terms, approval_needed
from concord.sync.systems import Systems
from pydantic import ValidationError

from .fakes import (
    erp_capabilities,
    FakeBus,
    FakeCrm,
    FakeErp,
    FakePsa,
    FakeXref,
    fake_systems,
    system_of_record,
)

NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
TODAY = NOW.date()
ACCOUNT = "7"
PSA_PROJECT = "41"
OPPORTUNITY = "31"
ERP_CUSTOMER = "900"
CUSTOMER_REF = canonical_id("customer", System.CRM, ACCOUNT)
PSA_CLIENT = "client-7"
PROJECT_REF = canonical_id("project", System.CRM, OPPORTUNITY)
ADDRESS = Address(street="1 Main St", city="Boston", postal_code="02110", country="US")


def usd(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="USD")


@pytest.fixture()
def systems() -> Systems:
    """A won deal that quote-to-cash has turned into an ERP customer and a PSA project."""
    xref = FakeXref()
    xref.link("customer", CUSTOMER_REF, System.CRM, ACCOUNT, "q2c")
    xref.link("customer", CUSTOMER_REF, System.ERP, ERP_CUSTOMER, "q2c")
    xref.link("customer", CUSTOMER_REF, System.PSA, PSA_CLIENT, "q2c")
    xref.link("project", PROJECT_REF, System.CRM, OPPORTUNITY, "q2c")
    xref.link("project", PROJECT_REF, System.PSA, PSA_PROJECT, "q2c")
    xref.relate("project", PROJECT_REF, "customer", CUSTOMER_REF)
    erp = FakeErp()
    erp.customers[ERP_CUSTOMER] = ErpCustomer(
        customer_id=ERP_CUSTOMER, name="Northwind", tax_id="12-3456789", external_ref=CUSTOMER_REF,
        billing_address=ADDRESS, currency="USD",
    )
    psa = FakePsa(clients={PSA_CLIENT: "Northwind"})
    crm = FakeCrm()
    crm.customers[ACCOUNT] = Customer(account_id=ACCOUNT, name="Northwind", billing_address=ADDRESS,
                                      tax_id="12-3456789", currency="USD", legal_entity="us-01")
    return fake_systems(crm=crm, psa=psa, erp=erp, xref=xref, bus=FakeBus())


def time_event(entry: str, *, project: str = PSA_PROJECT, billable: bool = True, event_id: str | None = None) -> TimeApprovedEvent:
    return new_event(
        TimeApprovedEvent,
        {"time_entry_id": entry, "project_id": project, "task_id": "42", "employee_id": "3",
         "worked_on": "2026-11-25", "hours": "7.50", "billable": billable, "approved_at": NOW},
        legal_entity="us-01", occurred_at=NOW, event_id=event_id,
    )


def expense_event(expense: str, category: str = "travel", currency: str = "USD") -> ExpenseApprovedEvent:
    return new_event(
        ExpenseApprovedEvent,
        {"expense_id": expense, "project_id": PSA_PROJECT, "employee_id": "3", "incurred_on": "2026-11-24",
         "amount": {"amount": "412.30", "currency": currency}, "category": category, "billable": True,
         "approved_at": NOW},
        legal_entity="us-01", occurred_at=NOW,
    )


# --- system of record -------------------------------------------------------------------------


def test_the_shipped_table_names_an_authority_for_every_object() -> None:
    table = system_of_record()
    assert table.owner("customer") is System.CRM
    assert table.owner("customer", "tax_id") is System.ERP
    assert table.owner("invoice") is System.ERP
    assert table.owner("time_entry") is System.PSA


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"customer": {"authority": "concord"}}, "no object's authority"),
        ({"gadget": {"authority": "crm"}}, "unknown object types"),
        ({"customer": {"authority": "crm", "fields": {"name": "concord"}}}, "owns no field"),
    ],
)
def test_a_broken_table_is_refused_with_its_reason(change: dict, message: str) -> None:
    shipped = system_of_record().model_dump(mode="json", by_alias=True)
    with pytest.raises(ValidationError, match=message):
        load_system_of_record({**shipped, "objects": {**shipped["objects"], **change}})


def test_a_table_missing_an_object_is_refused() -> None:
    shipped = system_of_record().model_dump(mode="json", by_alias=True)
    del shipped["objects"]["invoice"]
    with pytest.raises(ValidationError, match="no authority named for"):
        SystemOfRecord.model_validate(shipped)


def test_owners_write_empty_fields_fill_and_foreign_values_conflict() -> None:
    decision = decide_fields(
        system_of_record(), "customer", System.CRM,
        incoming={"name": "Northwind Ltd", "tax_id": "99-0000000", "currency": "USD", "billing_address": None},
        current={"name": "Northwind", "tax_id": "12-3456789", "currency": "USD", "billing_address": ADDRESS},
    )
    assert decision.write == {"name": "Northwind Ltd"}
    assert decision.conflicts == {"tax_id": ("12-3456789", "99-0000000")}
    assert set(decision.unchanged) == {"currency", "billing_address"}
    filled = decide_fields(system_of_record(), "customer", System.CRM, {"tax_id": "99-0000000"}, {"tax_id": ""})
    assert filled.write == {"tax_id": "99-0000000"} and not filled.conflicts


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


def _billed_invoice(systems: Systems, invoice_id: str = "500") -> None:
    billing.bill([("m", time_event("1"))], systems)
    systems.erp.drafts[PROJECT_REF] = invoice_id  # type: ignore[attr-defined]
    billing._link_invoice(systems, invoice_id, PROJECT_REF, time_event("1"))


def posted(invoice_id: str = "500", total: str = "1125", due: str = "2026-12-26", at: dt.datetime = NOW) -> InvoicePostedEvent:
    return new_event(
        InvoicePostedEvent,
        {"invoice_id": invoice_id, "number": f"INV-{invoice_id}", "customer_id": ERP_CUSTOMER,
         "invoiced_on": "2026-11-26", "due_on": due, "total": usd(total)},
        legal_entity="us-01", occurred_at=at,
    )


def paid(payment: str, amount: str, due: str, invoice_id: str = "500") -> PaymentReceivedEvent:
    return new_event(
        PaymentReceivedEvent,
        {"payment_id": payment, "invoice_id": invoice_id, "amount": usd(amount), "received_on": "2026-11-27",
         "invoice_amount_due": usd(due)},
        legal_entity="us-01", occurred_at=NOW,
    )


def test_posted_then_paid_reaches_crm_and_psa(systems: Systems) -> None:
    _billed_invoice(systems)
    assert financials.propagate(posted(), systems, TODAY).status is FinancialStatus.INVOICED
    assert financials.propagate(paid("p1", "500", "625"), systems, TODAY).status is FinancialStatus.PARTIALLY_PAID
    assert financials.propagate(paid("p2", "625", "0"), systems, TODAY).status is FinancialStatus.PAID
    assert systems.crm.statuses[OPPORTUNITY][-1] is FinancialStatus.PAID  # type: ignore[attr-defined]
    assert systems.psa.billing_statuses[PSA_PROJECT][-1] is FinancialStatus.PAID  # type: ignore[attr-defined]
    actions = [e.action for e in systems.xref.lineage("project", PROJECT_REF)]
    assert "invoice INV-500 posted" in actions and "status paid" in actions


def test_a_payment_before_its_invoice_is_posted_waits_for_it(systems: Systems) -> None:
    _billed_invoice(systems)
    with pytest.raises(PrerequisiteMissing, match="InvoicePosted"):
        financials.propagate(paid("p1", "1125", "0"), systems, TODAY)
    financials.propagate(posted(), systems, TODAY)
    assert financials.propagate(paid("p1", "1125", "0"), systems, TODAY).status is FinancialStatus.PAID


def test_payments_in_reverse_order_end_paid(systems: Systems) -> None:
    _billed_invoice(systems)
    financials.propagate(posted(), systems, TODAY)
    financials.propagate(paid("p2", "625", "0"), systems, TODAY)
    assert financials.propagate(paid("p1", "500", "625"), systems, TODAY).status is FinancialStatus.PAID


def test_an_unpaid_invoice_past_due_is_overdue_and_one_not_billed_by_concord_is_left_alone(systems: Systems) -> None:
    _billed_invoice(systems)
    assert financials.propagate(posted(due="2026-11-01"), systems, TODAY).status is FinancialStatus.OVERDUE
    outcome = financials.propagate(posted(invoice_id="777"), systems, TODAY)
    assert not outcome.applied and "not billed by Concord" in outcome.detail


def test_project_status_over_several_invoices() -> None:
    def state(total: str, due: str) -> InvoiceState:
        return InvoiceState(invoice_id=total + due, total=usd(total), amount_due=usd(due), due_on=dt.date(2026, 12, 31))

    assert financials.project_status([], TODAY) is FinancialStatus.NOT_INVOICED
    assert financials.project_status([state("10", "0"), state("10", "10")], TODAY) is FinancialStatus.PARTIALLY_PAID
    assert financials.project_status([state("10", "0"), state("20", "0")], TODAY) is FinancialStatus.PAID


# --- customer master --------------------------------------------------------------------------


def account_changed(name: str = "Northwind", *, tax_id: str = "12-3456789", at: dt.datetime = NOW,
                    account: str = ACCOUNT) -> AccountChangedEvent:
    return new_event(AccountChangedEvent, {"account_id": account, "name": name, "tax_id": tax_id},
                     legal_entity="us-01", occurred_at=at)


def account_changed_again(exception: SyncExceptionRaisedEvent) -> AccountChangedEvent:
    """The event that caused `exception`, delivered once more (same id)."""
    return new_event(AccountChangedEvent, {"account_id": ACCOUNT, "name": "Northwind Advisory", "tax_id": "98-7654321"},
                     legal_entity="us-01", occurred_at=NOW, event_id=exception.data.caused_by_event_id)


def _crm_says(systems: Systems, **changes: object) -> None:
    crm: FakeCrm = systems.crm  # type: ignore[assignment]
    crm.customers[ACCOUNT] = crm.customers[ACCOUNT].model_copy(update=changes)


def test_a_renamed_account_renames_the_erp_customer_and_psa_client(systems: Systems) -> None:
    _crm_says(systems, name="Northwind Advisory")
    outcome = sync_customer(account_changed("Northwind Advisory"), systems, NOW)
    assert outcome.written == ("name",) and not outcome.conflicts
    assert systems.erp.customers[ERP_CUSTOMER].name == "Northwind Advisory"  # type: ignore[attr-defined]
    assert systems.psa.clients[PSA_CLIENT] == "Northwind Advisory"  # type: ignore[attr-defined]


def test_a_psa_whose_clients_are_the_crm_accounts_is_not_written(systems: Systems) -> None:
    systems.psa.capabilities = PsaCapabilities(clients_are_crm_accounts=True)  # type: ignore[misc]
    _crm_says(systems, name="Northwind Advisory")
    outcome = sync_customer(account_changed("Northwind Advisory"), systems, NOW)
    assert outcome.written == ("name",)
    assert systems.psa.clients[PSA_CLIENT] == "Northwind"  # type: ignore[attr-defined]
    assert all(e.system != System.PSA for e in systems.xref.lineage("customer", CUSTOMER_REF))


def test_a_tax_id_owned_by_the_erp_is_not_overwritten_and_the_conflict_is_reported(systems: Systems) -> None:
    _crm_says(systems, name="Northwind Advisory", tax_id="98-7654321")
    outcome = sync_customer(account_changed("Northwind Advisory", tax_id="98-7654321"), systems, NOW)
    assert outcome.conflicts == ("tax_id",) and outcome.written == ("name",)
    assert systems.erp.customers[ERP_CUSTOMER].tax_id == "12-3456789"  # type: ignore[attr-defined]
    (exception,) = systems.bus.published  # type: ignore[attr-defined]
    assert isinstance(exception, SyncExceptionRaisedEvent)
    assert exception.data.error_class is ErrorClass.CONFLICT and "98-7654321" in exception.data.reason
    # the same event redelivered reports under the same id: one exception on the bus, not two
    again = sync_customer(account_changed_again(exception), systems, NOW)
    assert again.exception_event_id == exception.id


def test_an_older_change_after_a_newer_one_does_not_win(systems: Systems) -> None:
    _crm_says(systems, name="Newer Name")
    sync_customer(account_changed("Newer Name", at=NOW), systems, NOW)
    erp: FakeErp = systems.erp  # type: ignore[assignment]
    writes = len(erp.updates)
    outcome = sync_customer(account_changed("Older Name", at=NOW - dt.timedelta(minutes=5)), systems, NOW)
    assert not outcome.applied and outcome.detail.startswith("stale")
    assert len(erp.updates) == writes and erp.customers[ERP_CUSTOMER].name == "Newer Name"


def test_an_echo_of_what_concord_wrote_writes_nothing(systems: Systems) -> None:
    outcome = sync_customer(account_changed(), systems, NOW)
    assert not outcome.applied and systems.erp.updates == []  # type: ignore[attr-defined]


def test_an_account_that_never_won_a_deal_is_not_pushed_to_the_erp(systems: Systems) -> None:
    outcome = sync_customer(account_changed(account="8"), systems, NOW)
    assert not outcome.applied and "first won deal" in outcome.detail


# --- project terms ----------------------------------------------------------------------------


def staffing(hours: list[str], at: dt.datetime = NOW) -> StaffingChangedEvent:
    return new_event(
        StaffingChangedEvent,
        {"project_id": PSA_PROJECT, "assignments": [
            {"employee_id": str(i), "role": "Consultant", "planned_hours": h, "cost_rate": usd("80")}
            for i, h in enumerate(hours)]},
        legal_entity="us-01", occurred_at=at,
    )


def contract(contract_type: str = "time_and_materials", milestones: list[dict] | None = None,
             owner: str = "Ana Finance", at: dt.datetime = NOW) -> ContractChangedEvent:
    return new_event(
        ContractChangedEvent,
        {"project_id": PSA_PROJECT, "contract_type": contract_type, "billing_owner": owner,
         "milestones": milestones or []},
        legal_entity="us-01", occurred_at=at,
    )


def test_staffing_becomes_the_erp_cost_forecast_and_stale_staffing_is_ignored(systems: Systems) -> None:
    assert apply_terms(staffing(["100", "40"]), systems, NOW).applied
    forecast = systems.erp.forecasts[PROJECT_REF]  # type: ignore[attr-defined]
    assert forecast.planned_hours == Decimal(140) and forecast.cost == usd("11200")
    assert not apply_terms(staffing(["1"], at=NOW - dt.timedelta(hours=1)), systems, NOW).applied
    assert systems.erp.forecasts[PROJECT_REF].planned_hours == Decimal(140)  # type: ignore[attr-defined]


def test_a_contract_type_change_after_invoicing_needs_approval(systems: Systems) -> None:
    assert apply_terms(contract(), systems, NOW).applied
    assert apply_terms(contract(owner="Bo Billing", at=NOW + dt.timedelta(seconds=1)), systems, NOW).applied
    _billed_invoice(systems)
    financials.propagate(posted(), systems, TODAY)
    outcome = apply_terms(contract("fixed_fee", owner="Bo Billing", at=NOW + dt.timedelta(seconds=2)), systems, NOW)
    assert not outcome.applied and outcome.exception_event_id
    assert systems.erp.terms[PROJECT_REF].contract_type.value == "time_and_materials"  # type: ignore[attr-defined]
    assert systems.erp.terms[PROJECT_REF].billing_owner == "Bo Billing"  # type: ignore[attr-defined]


def test_milestones_due_already_need_approval_future_ones_do_not() -> None:
    past = {"milestone_id": "m1", "name": "Kick-off", "amount": usd("5000"), "due_on": dt.date(2026, 11, 1)}
    future = {"milestone_id": "m2", "name": "Go-live", "amount": usd("9000"), "due_on": dt.date(2027, 1, 15)}
    current = ContractTerms(contract_type="milestone", billing_owner="Ana", milestones=[past, future])
    moved = ContractTerms(contract_type="milestone", billing_owner="Ana",
                          milestones=[past, {**future, "due_on": dt.date(2027, 2, 1)}])
    assert approval_needed(current, moved, invoiced=True, today=TODAY) == []
    dropped = ContractTerms(contract_type="milestone", billing_owner="Ana", milestones=[future])
    assert approval_needed(current, dropped, invoiced=False, today=TODAY) == ["milestone 'Kick-off' (due 2026-11-01) removed"]


def test_terms_for_a_project_concord_does_not_know_wait(systems: Systems) -> None:
    event = new_event(StaffingChangedEvent, {"project_id": "404", "assignments": []}, legal_entity="us-01", occurred_at=NOW)
    with pytest.raises(PrerequisiteMissing, match="404"):
        apply_terms(event, systems, NOW)


def test_every_flow_refuses_an_event_it_does_not_handle(systems: Systems) -> None:
    wrong = account_changed()
    with pytest.raises(ValidationFailed):
        financials.propagate(wrong, systems, TODAY)
    with pytest.raises(ValidationFailed):
        apply_terms(wrong, systems, NOW)
    assert isinstance(billing.bill([("x", wrong)], systems)["x"], ValidationFailed)
    with pytest.raises(ValidationFailed):
        sync_customer(time_event("1"), systems, NOW)

