"""CertiniaPsa against the in-process Salesforce sandbox, in a separate org and in the CRM's org."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from concord.domain import FinancialStatus, ProjectPlan, ProjectState, TaskPlan
from concord.errors import OwnershipConflict, ValidationFailed
from concord.events.types import Money

from ..salesforce.sandbox_systems import SalesforceSystems

API = "/services/data/v67.0"
MONDAY = dt.date(2026, 3, 2)


def plan(ref: str = "project-1", *, account_id: str | None = None, opportunity_id: str | None = None) -> ProjectPlan:
    return ProjectPlan(
        external_ref=ref,
        name="Acme rollout",
        customer_ref="customer-1",
        customer_name="Acme",
        account_id=account_id,
        opportunity_id=opportunity_id,
        budget=Money(amount=Decimal("12000"), currency="USD"),
        tasks=[
            TaskPlan(name="Design", service_item="CONS-1", planned_hours=40),
            TaskPlan(name="Build", service_item="CONS-1", planned_hours=80),
        ],
    )


def _calls(systems: SalesforceSystems) -> list[tuple[str, str]]:
    return [(c.method, c.path) for c in systems.control.calls(systems.psa_tenant) if c.path.startswith(API)]


def test_create_project_twice_makes_one_project_with_tasks_in_one_call(systems: SalesforceSystems) -> None:
    systems.control.clear_calls(systems.psa_tenant)
    first = systems.psa.create_project(plan())
    calls = _calls(systems)
    assert calls.count(("PATCH", f"{API}/composite/sobjects/pse__Project_Task__c/Concord_Task_Ref__c")) == 1
    assert len(calls) == 5  # find, client upsert, project upsert, tasks, budget

    systems.control.clear_calls(systems.psa_tenant)
    second = systems.psa.create_project(plan())

    assert second == first and set(first.task_ids) == {"Design", "Build"}
    assert [method for method, _ in _calls(systems)] == ["GET"]  # the find alone
    driver = systems.driver
    assert len(driver.query("psa", "SELECT Id FROM pse__Proj__c")) == 1
    assert len(driver.query("psa", "SELECT Id FROM pse__Budget__c")) == 1
    client = driver.record("psa", "Account", first.client_id)  # type: ignore[arg-type]
    assert client["Name"] == "Acme" and client["Concord_Customer_Ref__c"] == "customer-1"
    tasks = driver.query("psa", "SELECT Name, Concord_Task_Ref__c FROM pse__Project_Task__c ORDER BY Name")
    assert [(t["Name"], t["Concord_Task_Ref__c"]) for t in tasks] == [
        ("Build", "project-1:2"),
        ("Design", "project-1:1"),
    ]
    assert systems.psa.project_budget(first.project_id) == Money(amount=Decimal("12000"), currency="USD")
    assert not systems.psa.capabilities.clients_are_crm_accounts


def test_a_create_interrupted_after_the_project_finishes_on_retry(systems: SalesforceSystems) -> None:
    project_id = systems.driver.create("psa", "pse__Proj__c", {"Name": "Acme rollout", "Concord_Ref__c": "project-1"})
    record = systems.psa.create_project(plan())
    assert record.project_id == project_id and len(record.task_ids) == 2
    assert systems.psa.project_budget(project_id) is not None


def test_project_state_sets_stage_and_active_flag(systems: SalesforceSystems) -> None:
    project = systems.psa.create_project(plan())
    systems.psa.set_project_state(project.project_id, ProjectState.ON_HOLD, "saga compensation")
    held = systems.driver.record("psa", "pse__Proj__c", project.project_id)
    assert (held["pse__Stage__c"], held["pse__Is_Active__c"]) == ("On Hold", False)
    systems.psa.set_project_state(project.project_id, ProjectState.ACTIVE, "resumed")
    active = systems.driver.record("psa", "pse__Proj__c", project.project_id)
    assert (active["pse__Stage__c"], active["pse__Is_Active__c"]) == ("In Progress", True)


def test_billing_statuses_and_failures_by_project_id(systems: SalesforceSystems) -> None:
    project = systems.psa.create_project(plan())
    assert systems.psa.billing_status(project.project_id) is None
    gone = systems.psa.create_project(plan("project-2")).project_id
    systems.driver.rest("psa").delete(f"/sobjects/pse__Proj__c/{gone}").raise_for_status()

    failures = systems.psa.set_billing_statuses(
        {project.project_id: FinancialStatus.PARTIALLY_PAID, gone: FinancialStatus.PAID}
    )

    assert set(failures) == {gone}
    assert systems.psa.billing_status(project.project_id) is FinancialStatus.PARTIALLY_PAID


def test_rename_client_in_a_separate_org(systems: SalesforceSystems) -> None:
    project = systems.psa.create_project(plan())
    systems.psa.rename_client(project.client_id, "Acme Holdings")  # type: ignore[arg-type]
    assert systems.driver.record("psa", "Account", project.client_id)["Name"] == "Acme Holdings"  # type: ignore[arg-type]


def test_a_week_timecard_is_one_approved_time_per_day_worked(systems: SalesforceSystems) -> None:
    project = systems.psa.create_project(plan())
    resource = systems.driver.resource()
    header = systems.driver.approved_timecard(
        project.project_id, MONDAY, [8, 7.5, 0, 0, 4, 0, 0], resource_id=resource, task_id=project.task_ids["Build"]
    )
    systems.driver.approved_timecard(project.project_id, MONDAY, [8, 8, 8, 8, 8, 0, 0], approved=False)

    entries = systems.psa.approved_time(project.project_id)

    assert [(e.time_entry_id, e.worked_on, e.hours) for e in entries] == [
        (f"{header}:2026-03-02", dt.date(2026, 3, 2), Decimal("8")),
        (f"{header}:2026-03-03", dt.date(2026, 3, 3), Decimal("7.5")),
        (f"{header}:2026-03-06", dt.date(2026, 3, 6), Decimal("4")),
    ]
    assert {(e.project_id, e.task_id, e.employee_id, e.billable) for e in entries} == {
        (project.project_id, project.task_ids["Build"], resource, True)
    }
    assert systems.psa.approved_entries(header) == entries


def test_a_header_without_task_books_to_the_project_and_unapproved_holds_nothing(systems: SalesforceSystems) -> None:
    project = systems.psa.create_project(plan())
    header = systems.driver.approved_timecard(project.project_id, MONDAY, [0, 0, 0, 0, 0, 2, 3], billable=False)
    pending = systems.driver.approved_timecard(project.project_id, MONDAY, [1, 0, 0, 0, 0, 0, 0], approved=False)
    entries = systems.psa.approved_entries(header)
    assert [(e.worked_on.isoformat(), e.task_id, e.billable) for e in entries] == [
        ("2026-03-07", project.project_id, False),
        ("2026-03-08", project.project_id, False),
    ]
    assert systems.psa.approved_entries(pending) == []


def test_more_than_24_hours_in_a_day_refuses_the_header_by_name(systems: SalesforceSystems) -> None:
    project = systems.psa.create_project(plan())
    header = systems.driver.approved_timecard(project.project_id, MONDAY, [8, 25, 0, 0, 0, 0, 0])
    with pytest.raises(ValidationFailed, match=header):
        systems.psa.approved_entries(header)


def test_time_entry_changes_are_approved_headers_only(systems: SalesforceSystems) -> None:
    start = systems.psa.start_cursor("time_entry", dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    project = systems.psa.create_project(plan())
    approved = systems.driver.approved_timecard(project.project_id, MONDAY, [8, 0, 0, 0, 0, 0, 0])
    pending = systems.driver.approved_timecard(project.project_id, MONDAY, [8, 0, 0, 0, 0, 0, 0], approved=False)

    page = systems.psa.changes_since("time_entry", start, 10)
    assert [c.record_id for c in page.changes] == [approved]

    systems.driver.update("psa", "pse__Timecard_Header__c", pending, {"pse__Approved__c": True})
    later = systems.psa.changes_since("time_entry", page.cursor, 10)
    assert [c.record_id for c in later.changes] == [pending] and not later.more


def test_a_page_of_approved_headers_is_read_in_one_query(systems: SalesforceSystems) -> None:
    start = systems.psa.start_cursor("time_entry", dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    project = systems.psa.create_project(plan())
    headers = [systems.driver.approved_timecard(project.project_id, MONDAY, [n, 0, 0, 0, 0, 0, 1]) for n in (1, 2, 3)]
    page = systems.psa.changes_since("time_entry", start, 10)
    systems.control.clear_calls(systems.psa_tenant)

    unknown = ["a0X000000000000AAA", "a0X000000000001", "x"]  # a bad checksum, no such record, no id
    entries = systems.psa.approved_entries_of([change.record_id for change in page.changes] + unknown)

    assert sorted(entries) == sorted(headers)
    assert [[float(entry.hours) for entry in entries[header]] for header in headers] == [[1, 1], [2, 1], [3, 1]]
    assert [method for method, _ in _calls(systems)] == ["GET"]  # one query, `Id IN (...)`
    assert entries[headers[0]] == systems.psa.approved_entries(headers[0])


def test_same_org_uses_the_crm_account_and_never_writes_it(same_org: SalesforceSystems) -> None:
    account = same_org.driver.account("Acme")
    deal = same_org.driver.won_opportunity(account, [("CONS-1", "Consulting", 1, 100)])
    before = same_org.driver.record("shared", "Account", account)

    record = same_org.psa.create_project(plan(account_id=account, opportunity_id=deal))

    assert same_org.psa.capabilities.clients_are_crm_accounts
    assert record.client_id == account
    assert same_org.driver.record("shared", "Account", account) == before
    project = same_org.driver.record("shared", "pse__Proj__c", record.project_id)
    assert (project["pse__Account__c"], project["pse__Opportunity__c"]) == (account, deal)
    with pytest.raises(OwnershipConflict):
        same_org.psa.rename_client(account, "Renamed")
    assert same_org.crm.get_opportunity(deal).won  # the CRM connector reads the same org


def test_same_org_without_the_account_id_is_refused(same_org: SalesforceSystems) -> None:
    with pytest.raises(ValidationFailed):
        same_org.psa.create_project(plan())


def test_changes_of_time_entries_are_approved_headers_only(systems: SalesforceSystems) -> None:
    project = systems.psa.create_project(plan())
    approved = systems.driver.approved_timecard(project.project_id, MONDAY, [8, 0, 0, 0, 0, 0, 0])
    pending = systems.driver.approved_timecard(project.project_id, MONDAY, [8, 0, 0, 0, 0, 0, 0], approved=False)

    read = systems.psa.changes_of("time_entry", [approved, pending])

    assert [(c.record_type, c.record_id) for c in read] == [("time_entry", approved)]
    assert read[0].created_at is not None
