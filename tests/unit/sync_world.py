"""The world the sync-flow tests share, in memory: a won deal that quote-to-cash has turned into
an ERP customer and a PSA project (the `systems` fixture), and the events the flows receive."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from concord.domain import (
    Customer,
    ErpCustomer,
)
from concord.events import new_event
from concord.events.envelope import (
    AccountChangedEvent,
    ExpenseApprovedEvent,
    InvoicePostedEvent,
    PaymentReceivedEvent,
    StaffingChangedEvent,
    TimeApprovedEvent,
)
from concord.events.types import Address, Money, System
from concord.sync import billing
from concord.sync.ids import canonical_id
from concord.sync.systems import Systems

from .fakes import (
    FakeBus,
    FakeCrm,
    FakeErp,
    FakePsa,
    FakeXref,
    fake_systems,
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
        customer_id=ERP_CUSTOMER,
        name="Northwind",
        tax_id="12-3456789",
        external_ref=CUSTOMER_REF,
        billing_address=ADDRESS,
        currency="USD",
    )
    psa = FakePsa(clients={PSA_CLIENT: "Northwind"})
    crm = FakeCrm()
    crm.customers[ACCOUNT] = Customer(
        account_id=ACCOUNT,
        name="Northwind",
        billing_address=ADDRESS,
        tax_id="12-3456789",
        currency="USD",
        legal_entity="us-01",
    )
    return fake_systems(crm=crm, psa=psa, erp=erp, xref=xref, bus=FakeBus())


def time_event(
    entry: str, *, project: str = PSA_PROJECT, billable: bool = True, event_id: str | None = None
) -> TimeApprovedEvent:
    return new_event(
        TimeApprovedEvent,
        {
            "time_entry_id": entry,
            "project_id": project,
            "task_id": "42",
            "employee_id": "3",
            "worked_on": "2026-11-25",
            "hours": "7.50",
            "billable": billable,
            "approved_at": NOW,
        },
        legal_entity="us-01",
        occurred_at=NOW,
        event_id=event_id,
    )


def expense_event(expense: str, category: str = "travel", currency: str = "USD") -> ExpenseApprovedEvent:
    return new_event(
        ExpenseApprovedEvent,
        {
            "expense_id": expense,
            "project_id": PSA_PROJECT,
            "employee_id": "3",
            "incurred_on": "2026-11-24",
            "amount": {"amount": "412.30", "currency": currency},
            "category": category,
            "billable": True,
            "approved_at": NOW,
        },
        legal_entity="us-01",
        occurred_at=NOW,
    )


def billed_invoice(systems: Systems, invoice_id: str = "500") -> None:
    billing.bill([("m", time_event("1"))], systems)
    systems.erp.drafts[PROJECT_REF] = invoice_id  # type: ignore[attr-defined]
    billing._link_invoice(systems, invoice_id, PROJECT_REF, time_event("1"))


def posted(
    invoice_id: str = "500", total: str = "1125", due: str = "2026-12-26", at: dt.datetime = NOW
) -> InvoicePostedEvent:
    return new_event(
        InvoicePostedEvent,
        {
            "invoice_id": invoice_id,
            "number": f"INV-{invoice_id}",
            "customer_id": ERP_CUSTOMER,
            "invoiced_on": "2026-11-26",
            "due_on": due,
            "total": usd(total),
        },
        legal_entity="us-01",
        occurred_at=at,
    )


def paid(payment: str, amount: str, due: str, invoice_id: str = "500") -> PaymentReceivedEvent:
    return new_event(
        PaymentReceivedEvent,
        {
            "payment_id": payment,
            "invoice_id": invoice_id,
            "amount": usd(amount),
            "received_on": "2026-11-27",
            "invoice_amount_due": usd(due),
        },
        legal_entity="us-01",
        occurred_at=NOW,
    )


def account_changed(
    name: str = "Northwind", *, tax_id: str = "12-3456789", at: dt.datetime = NOW, account: str = ACCOUNT
) -> AccountChangedEvent:
    return new_event(
        AccountChangedEvent,
        {"account_id": account, "name": name, "tax_id": tax_id},
        legal_entity="us-01",
        occurred_at=at,
    )


def crm_says(systems: Systems, **changes: object) -> None:
    crm: FakeCrm = systems.crm  # type: ignore[assignment]
    crm.customers[ACCOUNT] = crm.customers[ACCOUNT].model_copy(update=changes)


def staffing(hours: list[str], at: dt.datetime = NOW) -> StaffingChangedEvent:
    return new_event(
        StaffingChangedEvent,
        {
            "project_id": PSA_PROJECT,
            "assignments": [
                {"employee_id": str(i), "role": "Consultant", "planned_hours": h, "cost_rate": usd("80")}
                for i, h in enumerate(hours)
            ],
        },
        legal_entity="us-01",
        occurred_at=at,
    )
