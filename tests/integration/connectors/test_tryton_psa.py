"""TrytonPsa (PsaPort) against the real `psa` database."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from concord.connectors.tryton import RecordNotFound, TrytonPsa
from concord.connectors.tryton.names import BILLING_STATUS_NOTE, STATE_COMMENT
from concord.domain import (
    FinancialStatus,
    ProjectPlan,
    ProjectState,
    PsaCapabilities,
    TaskPlan,
)
from concord.errors import PermanentError, ValidationFailed
from concord.events.types import Money

from .conftest import PRODUCT_CODE, drain

pytestmark = pytest.mark.usefixtures("fresh_databases")


def _plan(
    external_ref: str | None = None, customer_ref: str | None = None, tasks: tuple[str, ...] = ("Discovery", "Build")
) -> ProjectPlan:
    return ProjectPlan(
        external_ref=external_ref or f"prj-{uuid.uuid4()}",
        name="Northwind data platform",
        customer_ref=customer_ref or f"cus-{uuid.uuid4()}",
        customer_name="Northwind Advisory LLC",
        budget=Money(amount=Decimal("120000.00"), currency="USD"),
        tasks=[TaskPlan(name=name, service_item=PRODUCT_CODE, planned_hours=40.0) for name in tasks],
    )


def test_create_project_creates_project_tasks_and_client(psa: TrytonPsa) -> None:
    # Given a plan for a customer the PSA does not know yet
    plan = _plan()

    # When Concord creates it
    record = psa.create_project(plan)

    # Then a T&M project with the plan's tasks exists, under a client party linked by ref
    (client,) = psa.client.search_read("party.party", [["concord_ref", "=", plan.customer_ref]], ["id"])
    assert record.client_id == str(client["id"])
    assert set(record.task_ids) == {"Discovery", "Build"}
    (project,) = psa.client.search_read(
        "project.work",
        [["id", "=", int(record.project_id)]],
        [
            "type",
            "name",
            "party.concord_ref",
            "party.name",
            "concord_ref",
            "product.code",
            "list_price",
            "project_invoice_method",
            "status.name",
            "comment",
        ],
    )
    assert (project["type"], project["name"], project["concord_ref"]) == ("project", plan.name, plan.external_ref)
    assert (project["party."]["concord_ref"], project["party."]["name"]) == (plan.customer_ref, plan.customer_name)
    assert project["product."]["code"] == PRODUCT_CODE
    assert project["list_price"] == Decimal("150.00")
    assert project["project_invoice_method"] == "timesheet"
    assert project["status."]["name"] == "Open"
    assert "120000.00 USD" in project["comment"]
    tasks = psa.client.search_read(
        "project.work",
        [["parent", "=", int(record.project_id)]],
        ["name", "type", "product.code", "effort_duration", "timesheet_works"],
    )
    assert {t["name"]: str(t["id"]) for t in tasks} == record.task_ids
    assert all(
        t["type"] == "task"
        and t["product."]["code"] == PRODUCT_CODE
        and t["effort_duration"] == dt.timedelta(hours=40)
        and t["timesheet_works"]
        for t in tasks
    )


def test_create_project_twice_gives_one_project(psa: TrytonPsa) -> None:
    plan = _plan()

    first = psa.create_project(plan)
    second = psa.create_project(plan)

    assert second == first
    assert len(psa.client.search_read("project.work", [["concord_ref", "=", plan.external_ref]], ["id"])) == 1
    assert len(psa.client.search_read("party.party", [["concord_ref", "=", plan.customer_ref]], ["id"])) == 1


def test_create_project_reuses_the_client_party(psa: TrytonPsa) -> None:
    customer_ref = f"cus-{uuid.uuid4()}"

    psa.create_project(_plan(customer_ref=customer_ref))
    psa.create_project(_plan(customer_ref=customer_ref))

    assert len(psa.client.search_read("party.party", [["concord_ref", "=", customer_ref]], ["id"])) == 1


def test_create_project_for_a_linked_client_uses_that_party(psa: TrytonPsa) -> None:
    # Given a client the registry already links to the customer (plan.client_id)
    (party_id,) = psa.client.create("party.party", [{"name": "Linked client LLC"}])
    plan = _plan().model_copy(update={"client_id": str(party_id)})

    record = psa.create_project(plan)

    # Then the project is that party's, and no party is created or tagged for the customer
    assert record.client_id == str(party_id)
    (project,) = psa.client.search_read("project.work", [["id", "=", int(record.project_id)]], ["party"])
    assert project["party"] == party_id
    assert psa.client.search_read("party.party", [["concord_ref", "=", plan.customer_ref]], ["id"]) == []


def test_create_project_with_unknown_service_item_is_a_validation_failure(psa: TrytonPsa) -> None:
    plan = _plan().model_copy(update={"tasks": [TaskPlan(name="X", service_item="NO-SUCH")]})

    with pytest.raises(ValidationFailed):
        psa.create_project(plan)

    assert psa.client.search_read("project.work", [["concord_ref", "=", plan.external_ref]], ["id"]) == []


def _project(psa: TrytonPsa, project_id: str) -> dict[str, object]:
    (row,) = psa.client.search_read(
        "project.work", [["id", "=", int(project_id)]], ["status.name", "comment", "progress"]
    )
    return row


def test_set_project_state_on_hold_then_active_then_closed(psa: TrytonPsa) -> None:
    record = psa.create_project(_plan())

    # On hold: Tryton has no such status, the connector adds "On Hold" once
    psa.set_project_state(record.project_id, ProjectState.ON_HOLD, "ERP customer step failed")
    psa.set_project_state(record.project_id, ProjectState.ON_HOLD, "ERP customer step failed")
    on_hold = _project(psa, record.project_id)
    assert on_hold["status."]["name"] == "On Hold"  # type: ignore[index]
    assert str(on_hold["comment"]).count(STATE_COMMENT) == 1
    assert str(on_hold["comment"]).endswith("on_hold: ERP customer step failed")

    psa.set_project_state(record.project_id, ProjectState.ACTIVE, "retried")
    assert _project(psa, record.project_id)["status."]["name"] == "Open"  # type: ignore[index]

    # Closed: "Done" needs 100% progress on the project and every task below it
    psa.set_project_state(record.project_id, ProjectState.CLOSED, "delivered")
    closed = _project(psa, record.project_id)
    assert closed["status."]["name"] == "Done"  # type: ignore[index]
    assert closed["progress"] == 1.0
    tasks = psa.client.search_read(
        "project.work", [["parent", "=", int(record.project_id)]], ["status.name", "progress"]
    )
    assert {(t["status."]["name"], t["progress"]) for t in tasks} == {("Done", 1.0)}
    assert str(closed["comment"]).count(STATE_COMMENT) == 3
    assert len(psa.client.search_read("project.work.status", [["name", "=", "On Hold"]], ["id"])) == 1


def test_set_project_state_of_missing_project_is_permanent(psa: TrytonPsa) -> None:
    with pytest.raises(RecordNotFound) as caught:
        psa.set_project_state("424242", ProjectState.ON_HOLD, "x")

    assert isinstance(caught.value, PermanentError)


def _log_time(psa: TrytonPsa, task_id: str, hours: float, day: dt.date) -> int:
    (task,) = psa.client.search_read("project.work", [["id", "=", int(task_id)]], ["timesheet_works"])
    (line_id,) = psa.client.create(
        "timesheet.line",
        [
            {
                "work": task["timesheet_works"][0],
                "employee": psa.client.context["employee"],
                "date": day,
                "duration": dt.timedelta(hours=hours),
            }
        ],
    )
    return int(line_id)


def test_approved_time_returns_approved_lines_once(psa: TrytonPsa) -> None:
    # Given a project with three lines logged, two of them approved in one call
    record = psa.create_project(_plan())
    today = dt.date.today()
    build = _log_time(psa, record.task_ids["Build"], 7.5, today)
    discovery = _log_time(psa, record.task_ids["Discovery"], 2.25, today)
    draft = _log_time(psa, record.task_ids["Build"], 1.0, today)
    psa.client.button("timesheet.line", "approve", [build, discovery])

    # When Concord asks for the project's approved time
    approved = psa.approved_time(record.project_id)

    # Then the two approved lines come back, billable (a T&M project), sharing approved_at
    assert [(t.time_entry_id, t.task_id, t.hours) for t in approved] == [
        (str(build), record.task_ids["Build"], Decimal("7.50")),
        (str(discovery), record.task_ids["Discovery"], Decimal("2.25")),
    ]
    assert all(
        t.project_id == record.project_id
        and t.billable
        and t.worked_on == today
        and t.employee_id == str(psa.client.context["employee"])
        for t in approved
    )
    assert len({t.approved_at for t in approved}) == 1

    # And a line approved later joins them, after them
    psa.client.button("timesheet.line", "approve", [draft])
    assert [t.time_entry_id for t in psa.approved_time(record.project_id)] == [str(build), str(discovery), str(draft)]


def test_approved_time_of_missing_project_is_permanent(psa: TrytonPsa) -> None:
    with pytest.raises(RecordNotFound):
        psa.approved_time("424242")


def test_set_billing_status_notes_each_change_once(psa: TrytonPsa) -> None:
    record = psa.create_project(_plan())

    assert psa.set_billing_statuses({record.project_id: FinancialStatus.INVOICED}) == {}
    assert psa.set_billing_statuses({record.project_id: FinancialStatus.INVOICED}) == {}
    assert psa.set_billing_statuses({record.project_id: FinancialStatus.OVERDUE}) == {}

    notes = psa.client.search_read(
        "ir.note", [["resource", "=", f"project.work,{record.project_id}"]], ["message"], order=[("id", "ASC")]
    )
    assert [n["message"].split(" (", 1)[0] for n in notes] == [
        f"{BILLING_STATUS_NOTE}invoiced",
        f"{BILLING_STATUS_NOTE}overdue",
    ]


def test_changes_since_projects_across_ties(psa: TrytonPsa) -> None:
    # Given the cursor after every existing project, then two projects created in one call
    _, cursor = drain(psa, "project")
    product_id = psa.client.search_read("product.product", [["code", "=", PRODUCT_CODE]], ["id"])[0]["id"]
    ids = psa.client.create(
        "project.work",
        [
            {
                "name": f"Tie project {n}",
                "type": "project",
                "product": product_id,
                "children": [["create", [{"name": "Task", "type": "task"}]]],
            }
            for n in range(2)
        ],
    )

    # When paging one change at a time
    seen = []
    while (page := psa.changes_since("project", cursor, 1)).changes:
        seen.extend(page.changes)
        cursor = page.cursor
        assert len(seen) <= 2

    # Then each project comes once (the tasks, a different record type, do not)
    assert [c.record_id for c in seen] == [str(i) for i in ids]
    assert len({c.written_at for c in seen}) == 1
    tasks, _ = drain(psa, "task")
    assert {c.record_id for c in tasks}.isdisjoint({str(i) for i in ids})


def test_approved_entries_hold_the_line_once_approved(psa: TrytonPsa) -> None:
    record = psa.create_project(_plan())
    today = dt.date.today()
    line = _log_time(psa, record.task_ids["Build"], 7.5, today)
    assert psa.approved_entries(str(line)) == []  # not approved yet

    psa.client.button("timesheet.line", "approve", [line])
    (entry,) = psa.approved_entries(str(line))

    (row,) = psa.client.search_read("timesheet.line", [["id", "=", line]], ["approved_at"])
    assert entry.model_dump() == {
        "time_entry_id": str(line),
        "project_id": record.project_id,
        "task_id": record.task_ids["Build"],
        "employee_id": str(psa.client.context["employee"]),
        "worked_on": today,
        "hours": Decimal("7.50"),
        "billable": True,
        "approved_at": row["approved_at"].replace(tzinfo=dt.UTC),
        "cost_centre": None,  # Tryton's timesheet lines name none
    }
    assert psa.approved_time(record.project_id) == [entry]
    assert psa.approved_entries("424242") == []


def test_time_entry_on_a_project_not_invoiced_on_timesheets_is_not_billable(psa: TrytonPsa) -> None:
    record = psa.create_project(_plan())
    psa.client.write("project.work", [int(record.project_id)], {"project_invoice_method": "manual"})
    line = _log_time(psa, record.task_ids["Discovery"], 1.0, dt.date.today())
    psa.client.button("timesheet.line", "approve", [line])

    (entry,) = psa.approved_entries(str(line))

    assert not entry.billable


def test_changes_since_time_entry_announces_each_approval_once(psa: TrytonPsa) -> None:
    # Given the cursor after every approval so far
    _, cursor = drain(psa, "time_entry")
    record = psa.create_project(_plan())
    today = dt.date.today()
    first, second, draft = (_log_time(psa, record.task_ids["Build"], h, today) for h in (1.0, 2.0, 3.0))

    # When two lines are approved, and one of them edited afterwards
    psa.client.button("timesheet.line", "approve", [first, second])
    psa.client.write("timesheet.line", [first], {"description": "reviewed"})
    seen = []
    while (page := psa.changes_since("time_entry", cursor, 1)).changes:
        seen.extend(page.changes)
        cursor = page.cursor
        assert len(seen) <= 2

    # Then each approved line comes once, at its approval time, with its creation time
    rows = {
        r["id"]: r
        for r in psa.client.search_read(
            "timesheet.line", [["id", "in", [first, second]]], ["approved_at", "create_date"]
        )
    }
    assert [c.record_id for c in seen] == [str(first), str(second)]
    assert all(
        c.written_at == rows[int(c.record_id)]["approved_at"].replace(tzinfo=dt.UTC)
        and c.created_at == rows[int(c.record_id)]["create_date"].replace(tzinfo=dt.UTC)
        for c in seen
    )
    assert str(draft) not in {c.record_id for c in seen}


def test_rename_client_renames_the_party_once(psa: TrytonPsa) -> None:
    plan = _plan()
    client_id = psa.create_project(plan).client_id
    assert client_id is not None

    def party() -> dict[str, object]:
        (row,) = psa.client.search_read(
            "party.party", [["concord_ref", "=", plan.customer_ref]], ["name", "write_date"]
        )
        return row

    psa.rename_client(client_id, "Northwind Advisory Group LLC")
    renamed = party()
    psa.rename_client(client_id, "Northwind Advisory Group LLC")
    with pytest.raises(RecordNotFound):
        psa.rename_client("424242", "Nobody")

    assert renamed["name"] == "Northwind Advisory Group LLC"
    assert party() == renamed  # the repeat wrote nothing


def test_billing_status_reads_back_and_the_budget_is_the_planned_revenue(psa: TrytonPsa) -> None:
    # Given a project of two tasks at 40 h each, at the service's list price (150 USD)
    project = psa.create_project(_plan())
    assert psa.billing_status(project.project_id) is None

    assert psa.set_billing_statuses({project.project_id: FinancialStatus.INVOICED}) == {}
    assert psa.set_billing_statuses({project.project_id: FinancialStatus.PARTIALLY_PAID}) == {}

    assert psa.billing_status(project.project_id) is FinancialStatus.PARTIALLY_PAID
    assert psa.project_budget(project.project_id) == Money(amount=Decimal("12000"), currency="USD")


def test_capabilities_say_the_clients_are_the_psas_own() -> None:
    assert TrytonPsa.__new__(TrytonPsa).capabilities == PsaCapabilities(
        clients_are_crm_accounts=False, service_items=True, contacts=True
    )
