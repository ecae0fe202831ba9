"""Quote-to-cash on the local stack against real Tryton: a won deal in the CRM becomes an
ERP customer and a PSA project, once, or is compensated and reported."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from concord.aws.sagas import redrive_saga
from concord.local.consistency import SystemsView
from concord.local.faults import FaultController
from concord.local.inspect import LocalView
from concord.local.sagas import executions_for, steps, wait_for_execution, when_state_entered
from concord.local.scenarios.tryton import SalesRep, crm_client, random_ein
from concord.local.stack import LocalStack, aws_client
from concord.local.systems import LocalSystems
from concord.sync.ids import canonical_id

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def systems(local_stack: LocalStack) -> LocalSystems:
    systems = local_stack.systems()
    assert systems is not None, "the e2e stack must run with its business systems"
    return systems


@pytest.fixture(scope="module")
def sfn(view: LocalView) -> Any:
    return aws_client(view.state, "stepfunctions")


@pytest.fixture(scope="module")
def rep(systems: LocalSystems) -> SalesRep:
    return SalesRep(crm_client(systems))


@pytest.fixture(scope="module")
def tryton(systems: LocalSystems) -> SystemsView:
    return SystemsView.direct(systems)


def new_account(rep: SalesRep, name: str, *, tax_id: bool = True) -> int:
    return rep.create_account(
        f"{name} {uuid.uuid4().hex[:6]}",
        street="1 Main Street",
        city="Boston",
        country="US",
        tax_id=random_ein() if tax_id else None,
    )


def records_with_ref(tryton: SystemsView, opportunity_id: str) -> tuple[list[dict], list[dict]]:
    customer = tryton.crm.get_customer(tryton.crm.get_opportunity(opportunity_id).account_id)
    parties = tryton.erp.client.search_read(
        "party.party",
        [["concord_ref", "=", canonical_id("customer", "crm", customer.account_id)], ["active", "in", [True, False]]],
        ["id", "active"],
    )
    projects = tryton.psa.client.search_read(
        "project.work", [["concord_ref", "=", canonical_id("project", "crm", opportunity_id)]], ["id", "status.name"]
    )
    return parties, projects


def exception_for(view: LocalView, execution: dict[str, Any]) -> dict[str, Any] | None:
    trigger = json.loads(execution["input"])["event"]["id"]
    return next(
        (e.detail for e in view.audit_events_of_type("SyncExceptionRaised") if e.data["caused_by_event_id"] == trigger),
        None,
    )


def test_a_duplicated_trigger_runs_one_saga_and_creates_one_record_per_system(
    view: LocalView, sfn: Any, rep: SalesRep, tryton: SystemsView
) -> None:
    # Given a deal won in the CRM (Tryton pushes OpportunityClosedWon)
    opportunity = str(rep.win_opportunity(new_account(rep, "Contoso"), "Rollout", [("Discovery", 8), ("Build", 40)]))
    first = wait_for_execution(sfn, opportunity)
    assert first["status"] == "SUCCEEDED", first

    # When the same trigger arrives twice more (a redelivery on the bus)
    trigger = json.loads(first["input"])["event"]
    for _ in range(2):
        view.events.put_events(
            Entries=[
                {
                    "EventBusName": view.topology.setting("EVENT_BUS_NAME"),
                    "Source": "concord.crm",
                    "DetailType": "OpportunityClosedWon",
                    "Detail": json.dumps(trigger),
                }
            ]
        )
    view.wait_for(
        lambda: (
            view.sqs.get_queue_attributes(
                QueueUrl=view.queue_url("concord-local-quote-to-cash"), AttributeNames=["All"]
            )["Attributes"]["ApproximateNumberOfMessages"]
            == "0"
        ),
        timeout=20,
    )

    # Then there is still one saga, one ERP customer and one PSA project with the deal's tasks
    assert [e["status"] for e in executions_for(sfn, opportunity)] == ["SUCCEEDED"]
    parties, projects = records_with_ref(tryton, opportunity)
    assert len(parties) == 1 and parties[0]["active"]
    assert len(projects) == 1
    (row_project,) = [row for row in tryton.deal(opportunity) if row.what == "project + tasks"]
    assert row_project.agree, row_project
    assert all(row.agree for row in tryton.deal(opportunity))
    activated = [e for e in view.audit_events_of_type("ProjectActivated") if e.data["opportunity_id"] == opportunity]
    assert len(activated) == 1


def test_an_erp_outage_mid_saga_is_compensated_reported_then_completed_by_a_redrive(
    view: LocalView, sfn: Any, rep: SalesRep, tryton: SystemsView, systems: LocalSystems
) -> None:
    faults = FaultController(systems.faults_url)
    opportunity = str(rep.win_opportunity(new_account(rep, "Fabrikam"), "Migration", [("Assessment", 16)]))

    # When the ERP goes down while the saga creates the PSA project
    try:
        when_state_entered(sfn, opportunity, "CreatePsaProject", lambda: faults.set("erp", "outage"))
        failed = wait_for_execution(sfn, opportunity)
    finally:
        faults_report = faults.list()
        faults.clear("erp")

    # Then the ERP step was retried, the saga compensated and failed, and reported why
    assert failed["status"] == "FAILED"
    runs = {run.state: run for run in steps(sfn, failed["executionArn"])}
    assert runs["AssignBillingTerms"].failed_attempts == runs["AssignBillingTerms"].attempts > 1
    assert "Compensate" in runs and "RaiseSyncException" in runs
    assert "PublishProjectActivated" not in runs
    assert faults_report.injected.get("erp")
    exception = view.wait_for(lambda: exception_for(view, failed), timeout=20)
    assert exception is not None
    data = exception["data"]
    assert (data["step"], data["error_class"], data["severity"]) == ("AssignBillingTerms", "transient", "warning")
    # nothing it created is left unmarked: the project is on hold, and the ERP customer it
    # could not deactivate (the ERP was down) is named in the exception
    parties, projects = records_with_ref(tryton, opportunity)
    (project,) = projects
    assert project["status."]["name"] == "On Hold"
    assert {("psa", str(project["id"])), ("erp", str(parties[0]["id"]))} <= {
        (r["system"], r["record_id"]) for r in data["records"]
    }
    assert f"NOT ERP customer {parties[0]['id']} deactivated" in data["reason"]

    # When the ERP is back and the saga is redriven, it completes on the same records
    redrive_saga(sfn, failed["executionArn"])
    completed = wait_for_execution(sfn, opportunity, count=2)
    assert completed["status"] == "SUCCEEDED", completed
    assert records_with_ref(tryton, opportunity)[0] == parties
    assert all(row.agree for row in tryton.deal(opportunity))


def test_incomplete_master_data_fails_validation_with_its_reason_and_creates_nothing(
    view: LocalView, sfn: Any, rep: SalesRep, tryton: SystemsView
) -> None:
    # (Tryton itself refuses to quote a sale without an invoice address; the tax id that
    # legal entity us-01 requires is Concord's rule.)
    opportunity = str(rep.win_opportunity(new_account(rep, "No Tax Id", tax_id=False), "Audit", [("Audit", 4)]))

    failed = wait_for_execution(sfn, opportunity)

    assert failed["status"] == "FAILED"
    exception = view.wait_for(lambda: exception_for(view, failed), timeout=20)
    assert exception is not None
    data = exception["data"]
    assert (data["step"], data["error_class"], data["severity"]) == ("ValidateCustomer", "validation", "warning")
    assert "legal entity us-01 requires the customer's tax id" in data["reason"]
    # a validation failure is not retried
    assert steps(sfn, failed["executionArn"])[0].attempts == 1
    assert records_with_ref(tryton, opportunity) == ([], [])


def republished(trigger: dict[str, Any], version: int) -> dict[str, Any]:
    """The pushed trigger as a new event of `version`: v2 as a CRM that states the contract
    (fixed fee, a billing owner), v1 as a producer that predates both fields."""
    data = dict(trigger["data"])
    if version == 1:
        del data["contract_type"], data["billing_owner"]
    else:
        data |= {"contract_type": "fixed_fee", "billing_owner": "Dana Whitfield"}
    return trigger | {"id": str(uuid.uuid4()), "version": version, "data": data}


@pytest.mark.parametrize(("version", "contract"), [(1, "time_and_materials"), (2, "fixed_fee")])
def test_opportunity_closed_won_v1_and_v2_both_drive_quote_to_cash(
    view: LocalView, sfn: Any, rep: SalesRep, tryton: SystemsView, version: int, contract: str
) -> None:
    # Given a won deal whose pushed trigger (v2) ran its saga
    opportunity = str(rep.win_opportunity(new_account(rep, f"Tailspin v{version}"), "Advisory", [("Plan", 6)]))
    pushed = wait_for_execution(sfn, opportunity)
    trigger = json.loads(pushed["input"])["event"]
    assert pushed["status"] == "SUCCEEDED" and trigger["version"] == 2

    # When another producer publishes the deal as an event of this version
    event = republished(trigger, version)
    view.events.put_events(
        Entries=[
            {
                "EventBusName": view.topology.setting("EVENT_BUS_NAME"),
                "Source": "concord.crm",
                "DetailType": "OpportunityClosedWon",
                "Detail": json.dumps(event),
            }
        ]
    )

    # Then it runs the saga to the end, read as v2 (a v1 trigger upcast with its defaults)
    second = wait_for_execution(sfn, opportunity, count=2)
    assert second["status"] == "SUCCEEDED", second
    assert second["name"] == event["id"]
    started = json.loads(second["input"])["event"]
    assert (started["version"], started["data"]["contract_type"]) == (2, contract)
    terms = json.loads(second["output"])["billing_terms"]["detail"]
    assert f"contract {contract}" in terms
    # ...on the records the first run made, and the audit trail keeps the event as it was sent
    parties, projects = records_with_ref(tryton, opportunity)
    assert len(parties) == 1 and len(projects) == 1
    view.wait_for(
        lambda: any(e.event_id == event["id"] for e in view.audit_events_of_type("OpportunityClosedWon")), timeout=30
    )
    (recorded,) = [e for e in view.audit_events_of_type("OpportunityClosedWon") if e.event_id == event["id"]]
    assert recorded.detail["version"] == version
