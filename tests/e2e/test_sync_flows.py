"""The sync flows after quote-to-cash on the local stack against real Tryton: approved work is
billed in the ERP, invoice and payment status travel back to the CRM and PSA, account changes
reach the ERP under system-of-record rules, staffing and contract changes reach the ERP; each
once, in the right final state whatever the order, with bad records parked alone."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest

from concord.domain import FinancialStatus
from concord.events import Envelope, event_id_for_delivery, new_event
from concord.events.envelope import (
    AccountChangedEvent,
    InvoicePostedEvent,
    PaymentReceivedEvent,
    TimeApprovedEvent,
)
from concord.local.consistency import SystemsView
from concord.local.demo_secrets import demo_signing_secret
from concord.local.inspect import LocalView
from concord.local.sagas import wait_for_execution
from concord.local.scenarios.tryton import (
    Consultant,
    FinanceClerk,
    SalesRep,
    random_ein,
    user_client,
)
from concord.local.sender import canonical_delivery, post
from concord.local.stack import LocalStack, aws_client
from concord.local.systems import LocalSystems
from concord.stores.audit_items import FailedAttempt
from concord.stores.registry import Registry
from concord.sync.ids import canonical_id

pytestmark = pytest.mark.e2e

BILLING_DLQ = "concord-local-billing-dlq"
FLOW_QUEUES = ("billing", "financial-status", "customer-master", "project-terms")


@dataclass(frozen=True)
class Deal:
    account_id: str
    opportunity_id: str
    project_id: str  # PSA
    project_ref: str
    customer_ref: str
    erp_customer_id: str


@pytest.fixture(scope="module")
def systems(local_stack: LocalStack) -> LocalSystems:
    systems = local_stack.systems()
    assert systems is not None, "the e2e stack must run with its business systems"
    return systems


@pytest.fixture(scope="module")
def tryton(systems: LocalSystems) -> SystemsView:
    return SystemsView.direct(systems)


@pytest.fixture(scope="module")
def xref(view: LocalView) -> Registry:
    return Registry(aws_client(view.state, "dynamodb"), view.topology.setting("XREF_TABLE_NAME"))


@pytest.fixture(scope="module")
def rep(systems: LocalSystems) -> SalesRep:
    return SalesRep(user_client(systems, "crm"))


@pytest.fixture(scope="module")
def consultant(systems: LocalSystems) -> Consultant:
    return Consultant(user_client(systems, "psa"))


@pytest.fixture(scope="module")
def clerk(systems: LocalSystems) -> FinanceClerk:
    return FinanceClerk(user_client(systems, "erp"))


@pytest.fixture()
def deal(view: LocalView, rep: SalesRep, xref: Registry) -> Deal:
    """A deal won in the CRM and turned by quote-to-cash into an ERP customer and a PSA project."""
    account = rep.create_account(
        f"Tailspin {uuid.uuid4().hex[:6]}", street="9 Harbor Rd", city="Seattle", country="US", tax_id=random_ein()
    )
    opportunity = str(rep.win_opportunity(account, "Analytics", [("Design", 20), ("Build", 60)]))
    execution = wait_for_execution(aws_client(view.state, "stepfunctions"), opportunity)
    assert execution["status"] == "SUCCEEDED", execution
    project_ref = canonical_id("project", "crm", opportunity)
    customer_ref = canonical_id("customer", "crm", str(account))
    return Deal(
        account_id=str(account),
        opportunity_id=opportunity,
        project_id=xref.records_of("project", project_ref)["psa"],
        project_ref=project_ref,
        customer_ref=customer_ref,
        erp_customer_id=xref.records_of("customer", customer_ref)["erp"],
    )


def put(view: LocalView, events: list[Envelope]) -> None:
    """Put canonical events on the bus in one PutEvents call, as a redelivery or replay would."""
    response = view.events.put_events(
        Entries=[
            {
                "EventBusName": view.topology.setting("EVENT_BUS_NAME"),
                "Source": e.bus_source,
                "DetailType": e.type,
                "Detail": e.model_dump_json(),
            }
            for e in events
        ]
    )
    assert response["FailedEntryCount"] == 0, response


def settled(view: LocalView) -> bool:
    """No flow queue holds a message (visible or in flight)."""
    for queue in FLOW_QUEUES:
        attributes = view.sqs.get_queue_attributes(
            QueueUrl=view.queue_url(f"concord-local-{queue}"), AttributeNames=["All"]
        )["Attributes"]
        if (
            attributes["ApproximateNumberOfMessages"] != "0"
            or attributes["ApproximateNumberOfMessagesNotVisible"] != "0"
        ):
            return False
    return True


def invoice_lines(tryton: SystemsView, project_ref: str) -> list[dict[str, Any]]:
    """Lines Concord put on the project's invoices, by their concord_ref."""
    invoices = [
        i["id"] for i in tryton.erp.client.search_read("account.invoice", [["reference", "=", project_ref]], ["id"])
    ]
    return tryton.erp.client.search_read(
        "account.invoice.line", [["invoice", "in", invoices]], ["concord_ref", "quantity", "product.code", "invoice"]
    )


def statuses(tryton: SystemsView, deal: Deal) -> tuple[FinancialStatus | None, FinancialStatus | None]:
    return tryton.crm.financial_status(deal.opportunity_id), tryton.psa.billing_status(deal.project_id)


def approved_quietly(
    systems: LocalSystems, tryton: SystemsView, deal: Deal, hours: list[float]
) -> list[TimeApprovedEvent]:
    """Time logged and approved without the PSA pushing it; the events its push would have sent."""
    psa = Consultant(user_client(systems, "psa", announce=False))
    lines = [psa.log_time(deal.project_id, h) for h in hours]
    psa.approve(lines)
    events = []
    for line_id in lines:
        (entry,) = tryton.psa.approved_entries(str(line_id))
        events.append(
            new_event(TimeApprovedEvent, entry.model_dump(), legal_entity="us-01", occurred_at=entry.approved_at)
        )
    return events


# --- billing and financial status ---------------------------------------------------------------


def test_approved_time_and_expenses_are_billed_then_posted_and_paid_back_to_crm_and_psa(
    view: LocalView,
    http: httpx.Client,
    tryton: SystemsView,
    xref: Registry,
    consultant: Consultant,
    clerk: FinanceClerk,
    deal: Deal,
) -> None:
    # Given a consultant's approved time (the PSA pushes TimeApproved) and an approved expense
    # from a SaaS PSA's signed webhook
    lines = [consultant.log_time(deal.project_id, hours) for hours in (2, 3, 4.5)]
    consultant.approve(lines)
    expense = canonical_delivery(
        demo_signing_secret("psa"),
        "ExpenseApproved",
        {
            "expense_id": f"EX-{uuid.uuid4().hex[:6]}",
            "project_id": deal.project_id,
            "employee_id": "1",
            "incurred_on": dt.date.today().isoformat(),
            "amount": {"amount": "412.30", "currency": "USD"},
            "category": "Travel",
            "billable": True,
            "approved_at": dt.datetime.now(dt.UTC).isoformat(),
        },
    )
    assert post(http, f"{view.state.webhook_url}/psa", expense).status_code == 202

    # Then they become four lines on the project's draft invoice in the ERP
    billed = view.wait_for(lambda: len(invoice_lines(tryton, deal.project_ref)) == 4, timeout=60, interval=0.5)
    assert billed, invoice_lines(tryton, deal.project_ref)
    by_ref = {line["concord_ref"]: line for line in invoice_lines(tryton, deal.project_ref)}
    assert {f"time:{line}" for line in lines} <= set(by_ref)
    assert sum(line["quantity"] for ref, line in by_ref.items() if ref.startswith("time:")) == 9.5
    (expense_line,) = [line for ref, line in by_ref.items() if ref.startswith("expense:")]
    assert expense_line["product."]["code"] == "EXP-REBILL"

    # When finance posts it, the deal and the project show it invoiced
    draft = clerk.draft_invoice(deal.project_ref)
    assert draft is not None
    clerk.post(draft["id"])
    assert view.wait_for(lambda: statuses(tryton, deal) == (FinancialStatus.INVOICED,) * 2, timeout=60, interval=0.5)

    # And as the customer pays in two parts: partially paid, then paid
    total = Decimal(str(tryton.erp.get_invoice(str(draft["id"])).total.amount))
    clerk.pay(draft["id"], (total / 2).quantize(Decimal("0.01")))
    assert view.wait_for(
        lambda: statuses(tryton, deal) == (FinancialStatus.PARTIALLY_PAID,) * 2, timeout=60, interval=0.5
    )
    clerk.pay(draft["id"], total - (total / 2).quantize(Decimal("0.01")))
    assert view.wait_for(lambda: statuses(tryton, deal) == (FinancialStatus.PAID,) * 2, timeout=60, interval=0.5)

    # The project's lineage tells the story, event by event
    actions = [(e.system, e.event_type, e.action) for e in xref.lineage("project", deal.project_ref)]
    assert ("psa", "OpportunityClosedWon", "created") in actions
    assert any(a[0] == "erp" and a[2] == "draft invoice opened" for a in actions)
    assert ("crm", "InvoicePosted", "status invoiced") in actions
    assert ("psa", "PaymentReceived", "status paid") in actions


def test_three_deliveries_of_one_approval_bill_one_line(
    view: LocalView, systems: LocalSystems, tryton: SystemsView, deal: Deal
) -> None:
    (event,) = approved_quietly(systems, tryton, deal, [6])
    # the same event three times, and once more under another id (as a second announcer would)
    put(view, [event, event, event])
    put(view, [event.model_copy(update={"id": str(uuid.uuid4())})])
    assert view.wait_for(lambda: len(invoice_lines(tryton, deal.project_ref)) == 1, timeout=60, interval=0.5)
    assert view.wait_for(lambda: settled(view), timeout=60, interval=0.5)
    (line,) = invoice_lines(tryton, deal.project_ref)
    assert (line["concord_ref"], line["quantity"]) == (f"time:{event.data.time_entry_id}", 6)


def test_one_poison_record_in_a_batch_of_ten_is_parked_with_its_reason_and_nine_are_billed(
    view: LocalView, systems: LocalSystems, tryton: SystemsView, deal: Deal
) -> None:
    good = approved_quietly(systems, tryton, deal, [1] * 9)
    poison = new_event(
        TimeApprovedEvent,
        good[0].data.model_copy(update={"project_id": "987654", "time_entry_id": f"T-{uuid.uuid4().hex[:6]}"}),
        legal_entity="us-01",
        occurred_at=dt.datetime.now(dt.UTC),
    )
    put(view, [*good[:5], poison, *good[5:]])

    assert view.wait_for(lambda: len(invoice_lines(tryton, deal.project_ref)) == 9, timeout=60, interval=0.5)
    parked = view.wait_for(
        lambda: [m for m in view.dlq_messages(BILLING_DLQ) if json.loads(m["Body"])["detail"]["id"] == poison.id],
        timeout=90,
        interval=0.5,
    )
    assert parked, "the poison record was not parked"
    (message,) = parked
    failures = view.audit.failures_of(message["MessageId"])
    assert failures and all(f.consumer == "billing" for f in failures)
    assert "PrerequisiteMissing" in failures[-1].reason and "987654" in failures[-1].reason


def test_a_payment_announced_before_its_invoice_waits_for_it_and_ends_paid(
    view: LocalView, systems: LocalSystems, tryton: SystemsView, consultant: Consultant, deal: Deal
) -> None:
    # Given billed time whose invoice is posted and paid in full in the ERP, both unannounced
    lines = [consultant.log_time(deal.project_id, 5)]
    consultant.approve(lines)
    assert view.wait_for(lambda: invoice_lines(tryton, deal.project_ref), timeout=60, interval=0.5)
    finance = FinanceClerk(user_client(systems, "erp", announce=False))
    draft = finance.draft_invoice(deal.project_ref)
    assert draft is not None
    finance.post(draft["id"])
    finance.pay(draft["id"], Decimal(str(tryton.erp.get_invoice(str(draft["id"])).total.amount)))
    (payment_line,) = tryton.erp.client.search_read("account.invoice", [["id", "=", draft["id"]]], ["payment_lines"])[
        0
    ]["payment_lines"]
    payment = tryton.erp.received_payment(str(payment_line))
    posted = tryton.erp.posted_invoice(str(draft["id"]))
    assert payment is not None and posted is not None

    # When the payment reaches Concord first, and the posting a moment later
    now = dt.datetime.now(dt.UTC)
    early = new_event(PaymentReceivedEvent, payment.model_dump(), legal_entity="us-01", occurred_at=now)
    put(view, [early])
    waited = view.wait_for(lambda: failures_of_event(view, early.id), timeout=30, interval=0.3)
    assert waited and "PrerequisiteMissing" in waited[0].reason and "InvoicePosted" in waited[0].reason
    put(view, [new_event(InvoicePostedEvent, posted.model_dump(), legal_entity="us-01", occurred_at=now)])

    # Then the deal and the project end paid
    assert view.wait_for(lambda: statuses(tryton, deal) == (FinancialStatus.PAID,) * 2, timeout=60, interval=0.5)


def failures_of_event(view: LocalView, event_id: str) -> list[FailedAttempt]:
    """Failed attempts recorded for an event's queue messages."""
    return [f for f in view.audit.failures_since(dt.datetime(2000, 1, 1, tzinfo=dt.UTC)) if f.event_id == event_id]


# --- customer master ---------------------------------------------------------------------------


def erp_party(tryton: SystemsView, deal: Deal) -> dict[str, Any]:
    return tryton.erp.get_customer(deal.erp_customer_id).model_dump()


def test_a_renamed_account_reaches_the_erp_and_psa_and_a_tax_id_change_is_a_reported_conflict(
    view: LocalView, rep: SalesRep, tryton: SystemsView, deal: Deal
) -> None:
    before = erp_party(tryton, deal)
    # When a sales rep renames the account and changes its tax id in the CRM (push: AccountChanged)
    new_name, new_tax_id = f"Tailspin Toys {uuid.uuid4().hex[:4]}", random_ein()
    identifiers = rep.crm.search_read("party.identifier", [["party", "=", int(deal.account_id)]], ["id"])
    rep.crm.write(
        "party.party",
        [int(deal.account_id)],
        {
            "name": new_name,
            "identifiers": [
                ["delete", [i["id"] for i in identifiers]],
                ["create", [{"type": "us_ein", "code": new_tax_id}]],
            ],
        },
    )

    # Then the name the CRM owns reaches the ERP customer and the PSA client
    assert view.wait_for(lambda: erp_party(tryton, deal)["name"] == new_name, timeout=60, interval=0.5)
    # (the PSA's consumer is another queue's: it may come second)
    psa_names = lambda: [
        c["name"]
        for c in tryton.psa.client.search_read("party.party", [["concord_ref", "=", deal.customer_ref]], ["name"])
    ]
    assert view.wait_for(lambda: psa_names() == [new_name], timeout=60, interval=0.5), psa_names()
    # And the tax id the ERP owns is kept, the conflict reported for a person
    assert erp_party(tryton, deal)["tax_id"] == before["tax_id"]
    conflict = view.wait_for(
        lambda: [
            e.data
            for e in view.audit_events_of_type("SyncExceptionRaised")
            if e.data["flow"] == "customer_master" and new_tax_id in e.data["reason"]
        ],
        timeout=30,
        interval=0.5,
    )
    assert conflict and conflict[0]["error_class"] == "conflict" and conflict[0]["severity"] == "high"


def test_an_older_account_change_after_a_newer_one_does_not_win(
    view: LocalView, rep: SalesRep, tryton: SystemsView, xref: Registry, deal: Deal
) -> None:
    newer = f"Tailspin Newer {uuid.uuid4().hex[:4]}"
    rep.crm.write("party.party", [int(deal.account_id)], {"name": newer})
    assert view.wait_for(lambda: erp_party(tryton, deal)["name"] == newer, timeout=60, interval=0.5)

    stale = new_event(
        AccountChangedEvent,
        {"account_id": deal.account_id, "name": "Tailspin Older", "changed_fields": ["name"]},
        legal_entity="us-01",
        occurred_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
    )
    put(view, [stale])
    assert view.wait_for(lambda: view.audit.event(stale.id), timeout=30, interval=0.3)
    assert view.wait_for(lambda: settled(view), timeout=60, interval=0.5)
    assert erp_party(tryton, deal)["name"] == newer
    assert not [e for e in xref.lineage("customer", deal.customer_ref) if e.event_id == stale.id]


# --- project terms -----------------------------------------------------------------------------


def test_staffing_and_contract_changes_reach_the_erp_and_one_needing_approval_is_raised(
    view: LocalView, http: httpx.Client, tryton: SystemsView, deal: Deal
) -> None:
    def send(event_type: str, data: dict[str, Any]) -> None:
        delivery = canonical_delivery(demo_signing_secret("psa"), event_type, data)
        assert post(http, f"{view.state.webhook_url}/psa", delivery).status_code == 202

    rate = {"amount": "85.00", "currency": "USD"}
    send(
        "StaffingChanged",
        {
            "project_id": deal.project_id,
            "assignments": [
                {"employee_id": "1", "role": "Lead", "planned_hours": "60", "cost_rate": rate},
                {"employee_id": "2", "role": "Analyst", "planned_hours": "20", "cost_rate": rate},
            ],
        },
    )
    past = {
        "milestone_id": "M1",
        "name": "Kick-off",
        "amount": {"amount": "5000", "currency": "USD"},
        "due_on": (dt.date.today() - dt.timedelta(days=3)).isoformat(),
    }
    send(
        "ContractChanged",
        {
            "project_id": deal.project_id,
            "contract_type": "milestone",
            "billing_owner": "Dana Whitfield",
            "milestones": [past],
        },
    )
    # Quote-to-cash set the deal's own first terms (its billing owner): wait for the PSA's.
    terms = view.wait_for(
        lambda: (t := tryton.erp.get_contract_terms(deal.project_ref)) and t.billing_owner == "Dana Whitfield" and t,
        timeout=60,
        interval=0.5,
    )
    assert terms and terms.contract_type.value == "milestone" and terms.billing_owner == "Dana Whitfield"
    # The two changes may be applied by different batches: wait for the forecast as well.
    forecast = view.wait_for(
        lambda: [
            f
            for f in tryton.erp.client.search_read(
                "concord.project.terms", [["project_ref", "=", deal.project_ref]], ["forecast_hours", "forecast_cost"]
            )
            if f["forecast_hours"] is not None
        ],
        timeout=60,
        interval=0.5,
    )
    assert [(float(f["forecast_hours"]), float(f["forecast_cost"])) for f in forecast or []] == [(80.0, 6800.0)]

    # When the PSA changes the amount of a milestone already due
    send(
        "ContractChanged",
        {
            "project_id": deal.project_id,
            "contract_type": "milestone",
            "billing_owner": "Dana Whitfield",
            "milestones": [{**past, "amount": {"amount": "4000", "currency": "USD"}}],
        },
    )
    raised = view.wait_for(
        lambda: [
            e.data
            for e in view.audit_events_of_type("SyncExceptionRaised")
            if e.data["flow"] == "project_terms" and deal.project_id in json.dumps(e.data["records"])
        ],
        timeout=60,
        interval=0.5,
    )
    # Then it is raised for approval and the ERP keeps the terms it had
    assert raised and "needs approval" in raised[0]["reason"] and "Kick-off" in raised[0]["reason"]
    assert tryton.erp.get_contract_terms(deal.project_ref).milestones[0].amount.amount == Decimal(5000)


# --- change capture ----------------------------------------------------------------------------


def test_an_approval_whose_webhook_was_lost_is_found_by_polling_and_billed(
    view: LocalView, systems: LocalSystems, tryton: SystemsView, deal: Deal
) -> None:
    (event,) = approved_quietly(systems, tryton, deal, [2.5])
    reports = view.invoke("change_capture", {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}})
    assert any(r["watch"] == "psa:time_entry" and r["events"] >= 1 for r in reports["watches"])
    assert view.wait_for(lambda: invoice_lines(tryton, deal.project_ref), timeout=60, interval=0.5)
    (line,) = invoice_lines(tryton, deal.project_ref)
    assert line["concord_ref"] == f"time:{event.data.time_entry_id}"
    # the poll gave the event the id the PSA's push would have given it
    (row,) = tryton.psa.client.search_read(
        "timesheet.line", [["id", "=", int(event.data.time_entry_id)]], ["create_date"]
    )
    pushed_id = event_id_for_delivery(
        "psa", f"TimeApproved:{event.data.time_entry_id}:{row['create_date'].isoformat()}"
    )
    assert view.wait_for(lambda: view.audit.event(pushed_id), timeout=30, interval=0.3)
