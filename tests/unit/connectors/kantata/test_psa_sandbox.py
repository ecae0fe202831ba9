"""KantataPsa against the in-process Kantata sandbox."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

import pytest

from concord.connectors.kantata.mappers import workspace_title
from concord.connectors.kit.cursors import TimeCursor
from concord.connectors.kit.errors import AuthFailed, Throttled
from concord.domain import FinancialStatus, ProjectPlan, ProjectState, TaskPlan
from concord.errors import ConfigurationError, ValidationFailed
from concord.events.types import Money

from .sandbox_systems import TENANT, TOKEN, KantataSystems, connection, kantata_systems

API = "/api/v1"


def plan(ref: str = "project:crm:1") -> ProjectPlan:
    return ProjectPlan(
        external_ref=ref,
        name="Acme rollout",
        customer_ref="customer-1",
        customer_name="Acme",
        budget=Money(amount=Decimal("12000"), currency="USD"),
        tasks=[
            TaskPlan(name="Design", service_item="CONS-1", planned_hours=40),
            TaskPlan(name="Build", service_item="CONS-1", planned_hours=80),
        ],
    )


def _calls(systems: KantataSystems) -> list[tuple[str, str]]:
    return [(c.method, c.path) for c in systems.control.calls(TENANT)]


def test_create_project_twice_makes_one_workspace_with_its_reference_and_tasks(systems: KantataSystems) -> None:
    systems.control.clear_calls(TENANT)
    first = systems.psa.create_project(plan())
    assert [method for method, _ in _calls(systems)].count("POST") == 4  # workspace, reference, two stories

    systems.control.clear_calls(TENANT)
    second = systems.psa.create_project(plan())

    assert second == first and set(first.task_ids) == {"Design", "Build"}
    assert [method for method, _ in _calls(systems)] == ["GET", "GET"]  # the reference, the stories
    admin = systems.admin()
    (workspace,) = admin.records("workspaces")
    assert workspace["title"] == "Acme rollout [project:crm:1]" and workspace["price_in_cents"] == 1_200_000
    (reference,) = admin.records("external_references", subject_type="Workspace")
    assert (reference["subject_id"], reference["service_name"], reference["service_model_ref"]) == (
        first.project_id,
        "concord",
        "project:crm:1",
    )
    assert sorted(story["title"] for story in admin.records("stories")) == ["Build", "Design"]
    assert systems.psa.project_budget(first.project_id) == Money(amount=Decimal("12000"), currency="USD")


def test_a_workspace_created_before_a_crash_is_found_by_its_title_not_made_again(systems: KantataSystems) -> None:
    admin = systems.admin()
    orphan = admin.create(
        "workspaces",
        "workspace",
        {
            "title": workspace_title(plan()),
            "creator_role": "maven",
            "budgeted": True,
            "price": "12000",
            "currency": "USD",
        },
    )

    record = systems.psa.create_project(plan())

    assert record.project_id == orphan["id"]
    assert len(admin.records("workspaces")) == 1
    assert admin.records("external_references", subject_type="Workspace")[0]["subject_id"] == orphan["id"]


def test_a_similar_title_is_not_taken_for_the_workspace(systems: KantataSystems) -> None:
    systems.admin().create("workspaces", "workspace", {"title": "Other [project:crm:1]", "creator_role": "maven"})
    record = systems.psa.create_project(plan())
    assert len(systems.admin().records("workspaces")) == 2 and record.project_id != "1001"


def test_project_state_sets_the_workspace_status(systems: KantataSystems) -> None:
    project = systems.psa.create_project(plan())
    systems.psa.set_project_state(project.project_id, ProjectState.ON_HOLD, "saga compensation")
    assert systems.admin().records("workspaces", only=project.project_id)[0]["status_key"] == 310
    systems.psa.set_project_state(project.project_id, ProjectState.CLOSED, "done")
    assert systems.admin().records("workspaces", only=project.project_id)[0]["status_key"] == 400


def test_billing_statuses_in_bulk_with_failures_by_project(systems: KantataSystems) -> None:
    seeded = systems.control.seed(TENANT, "workspaces", [{"title": f"P{n}", "currency": "USD"} for n in range(101)])
    ids = [row["id"] for row in seeded]
    systems.control.clear_calls(TENANT)

    assert systems.psa.set_billing_statuses(dict.fromkeys(ids, FinancialStatus.INVOICED)) == {}
    assert [call for call in _calls(systems) if call[0] == "POST"] == [("POST", f"{API}/custom_field_values.json")] * 2
    assert systems.psa.billing_status(ids[100]) is FinancialStatus.INVOICED

    failed = systems.psa.set_billing_statuses(
        {ids[0]: FinancialStatus.PAID, "987654": FinancialStatus.PAID, "not-an-id": FinancialStatus.PAID}
    )
    assert set(failed) == {"987654", "not-an-id"} and isinstance(failed["987654"], ValidationFailed)
    assert systems.psa.billing_status(ids[0]) is FinancialStatus.PAID
    assert systems.psa.billing_status(ids[1]) is FinancialStatus.INVOICED


def test_time_counts_once_its_submission_is_approved(systems: KantataSystems) -> None:
    project = systems.psa.create_project(plan())
    cursor = systems.psa.start_cursor("time_entry", dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    submission = systems.consultant.log_time(project.project_id, 1.25, worked_on=dt.date(2026, 3, 3))

    assert systems.psa.approved_time(project.project_id) == []
    assert systems.psa.approved_entries(submission) == []
    assert systems.psa.changes_since("time_entry", cursor, 10).changes == []

    systems.consultant.approve([submission])
    (entry,) = systems.psa.approved_time(project.project_id)
    assert (entry.hours, entry.worked_on, entry.task_id, entry.employee_id) == (
        Decimal("1.25"),
        dt.date(2026, 3, 3),
        project.task_ids["Design"],
        "1002",
    )
    assert systems.psa.approved_entries(submission) == [entry]
    assert [change.record_id for change in systems.psa.changes_since("time_entry", cursor, 10).changes] == [submission]


def test_polling_in_pages_of_one_neither_skips_nor_repeats_submissions_of_one_second(systems: KantataSystems) -> None:
    project = systems.psa.create_project(plan())
    cursor = systems.psa.start_cursor("time_entry", dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    submissions = [systems.consultant.log_time(project.project_id, 1) for _ in range(4)]
    systems.consultant.approve(submissions)  # Kantata stamps to the second: several share one

    systems.control.clear_calls(TENANT)
    seen: list[str] = []
    for _ in range(10):
        page = systems.psa.changes_since("time_entry", cursor, 1)
        seen += [change.record_id for change in page.changes]
        cursor = page.cursor
        if not page.more:
            break

    assert sorted(seen) == sorted(submissions) and len(seen) == 4
    # Four pages of one read the submissions once: the run's later pages come from what it read.
    assert len([c for c in systems.control.calls(TENANT) if "timesheet_submissions" in c.path]) == 1
    assert systems.psa.changes_since("time_entry", cursor, 10).changes == []
    # A resumed run re-reads a minute back but announces nothing it read already, and what it
    # reports as progress never falls behind.
    resumed = systems.psa.changes_since("time_entry", systems.psa.resume_cursor("time_entry", cursor), 10)
    assert resumed.changes == []
    assert TimeCursor.decode(resumed.cursor).checkpoint.written_at >= TimeCursor.decode(cursor).written_at


def test_change_capture_announces_a_page_of_approvals_from_one_read(systems: KantataSystems) -> None:
    """The poll, then one `only=` read of the page's submissions with their time entries, not a
    read per submission."""
    project = systems.psa.create_project(plan())
    cursor = systems.psa.start_cursor("time_entry", dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    submissions = [systems.consultant.log_time(project.project_id, 1 + n) for n in range(5)]
    systems.consultant.approve(submissions[:4])
    systems.control.clear_calls(TENANT)

    page = systems.psa.changes_since("time_entry", cursor, 10)
    entries = systems.psa.approved_entries_of([change.record_id for change in page.changes] + [submissions[4], "x"])

    assert sorted(k for k, v in entries.items() if v) == sorted(submissions[:4])
    assert entries.get(submissions[4], []) == []  # not approved: no approved time
    assert [entry.hours for submission in submissions[:4] for entry in entries[submission]] == [1, 2, 3, 4]
    assert len([c for c in systems.control.calls(TENANT) if "timesheet_submissions" in c.path]) == 2
    assert entries[submissions[0]] == list(systems.psa.approved_entries(submissions[0]))


def test_changes_of_leaves_out_unknown_unapproved_and_malformed_ids(systems: KantataSystems) -> None:
    project = systems.psa.create_project(plan())
    approved, pending = (systems.consultant.log_time(project.project_id, 2) for _ in range(2))
    systems.consultant.approve([approved])

    read = systems.psa.changes_of("time_entry", [approved, pending, approved, "424242", "x"])

    assert [change.record_id for change in read] == [approved]
    with pytest.raises(ConfigurationError):
        systems.psa.changes_of("invoice", [approved])


def test_a_429_without_headers_is_throttled_and_halves_the_shared_budget(systems: KantataSystems) -> None:
    budget = systems.psa.client.vendor.budget
    systems.control.set_budget(TENANT, 0)

    with pytest.raises(Throttled) as raised:
        systems.psa.billing_status("1001")

    state, _ = budget.store.load(budget.key)
    assert raised.value.retry_after is None and state is not None
    assert state.rate == pytest.approx(budget.policy.rate_per_second / 2)
    systems.control.set_budget(TENANT, 100)
    assert systems.psa.billing_status("1001") is None


def test_a_refused_token_is_an_auth_error_and_never_logged(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    with (
        kantata_systems(token="not-a-kantata-token") as systems,
        caplog.at_level(logging.DEBUG),
        pytest.raises(AuthFailed) as raised,
    ):
        systems.psa.billing_status("1001")
    assert "oauth: Invalid OAuth 2 Request" in str(raised.value)
    assert "not-a-kantata-token" not in caplog.text + capsys.readouterr().out + str(raised.value)


def test_a_connection_without_its_field_id_names_the_field_not_the_token() -> None:
    from concord.connectors.kantata import connect
    from concord.connectors.registry import ConnectorContext, Role

    secret = connection("http://127.0.0.1:1")
    del secret["billing_status_field_id"]
    with pytest.raises(ConfigurationError) as raised:
        connect(Role.PSA, secret, ConnectorContext(default_legal_entity="x", reload_connection=lambda: secret))
    assert "billing_status_field_id" in str(raised.value) and TOKEN not in str(raised.value)


def test_a_throttled_status_batch_fails_it_and_every_batch_after_it(systems: KantataSystems) -> None:
    project = systems.psa.create_project(plan())
    statuses = {project.project_id: FinancialStatus.INVOICED} | {
        str(n): FinancialStatus.PAID for n in range(900000, 900149)
    }
    systems.control.set_budget(TENANT, 0)  # the account's requests are spent: 429 from now on
    systems.control.clear_calls(TENANT)

    failed = systems.psa.set_billing_statuses(statuses)  # two batches of 100

    assert set(failed) == set(statuses) and all(isinstance(error, Throttled) for error in failed.values())
    assert len([c for c in systems.control.calls(TENANT) if "custom_field_values" in c.path]) == 1
