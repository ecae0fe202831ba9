"""Concord's whole job with SaaS vendors in every role, on ONE local stack per system combination
(one sandbox process behind its own fault proxy, a vendor per tenant), reused by every test here:
quote-to-cash, billing of approved time, financial status back to CRM and PSA, customer master and
project terms. The combinations cover every SaaS connector with three stacks (Tryton in every role
is the session stack of the other e2e modules). The users are the lifecycle demo's
(concord.local.demo.saas): the ERP's is its finance user (concord.local.scenarios.finance). The
sandboxes push nothing: the tests run change capture themselves. A combination joins with a line
in STACKS."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from concord.catalog import PROJECT_TERMS
from concord.events import Envelope, new_event
from concord.events.envelope import ContractChangedEvent, StaffingChangedEvent
from concord.local.demo.checks import Checks
from concord.local.demo.saas import WEEK, SaasDemo, poll_until, run_change_capture, saas_demo
from concord.local.faults import FaultController
from concord.local.inspect import LocalView
from concord.local.roles import SANDBOX_OF_KIND, parse_systems
from concord.local.stack import STACK_NAME, LocalStack
from concord.naming import DLQ_SUFFIX
from concord.sync.ids import canonical_id

from ..conftest import free_port, sharing_synth_cache
from .conftest import VISIBILITY_TIMEOUT_CAP

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class SaasStack:
    systems: str  # the stack's --systems


# One stack per combination; together they run every SaaS connector in its role.
STACKS = {
    "salesforce-certinia-netsuite": SaasStack("crm=salesforce,psa=certinia,erp=netsuite"),
    "hubspot-kantata-business_central": SaasStack("crm=hubspot,psa=kantata,erp=business_central"),
    "salesforce-kantata-dynamics_finance": SaasStack("crm=salesforce,psa=kantata,erp=dynamics_finance"),
    "hubspot-certinia-xero": SaasStack("crm=hubspot,psa=certinia,erp=xero"),
    "hubspot-kantata-workday": SaasStack("crm=hubspot,psa=kantata,erp=workday"),
    "salesforce-kantata-quickbooks": SaasStack("crm=salesforce,psa=kantata,erp=quickbooks"),
}


@pytest.fixture(scope="module", params=list(STACKS))
def combination(request: pytest.FixtureRequest) -> SaasStack:
    return STACKS[str(request.param)]


@pytest.fixture(scope="module")
def saas_stack(
    combination: SaasStack, tmp_path_factory: pytest.TempPathFactory, local_synth_cache: Path
) -> Iterator[LocalStack]:
    stack = LocalStack(
        state_dir=sharing_synth_cache(tmp_path_factory.mktemp("saas-stack"), local_synth_cache),
        aws_port=free_port(),
        webhook_port=free_port(),
        lambda_port=free_port(),
        tryton_port=free_port(),
        faults_port=free_port(),
        sandbox_port=free_port(),
        vendor_faults_port=free_port(),
        systems_choice=parse_systems(combination.systems),
        visibility_timeout_cap=VISIBILITY_TIMEOUT_CAP,
    )
    stack.up()
    view = LocalView(stack)
    for schedule in view.topology.schedules:  # the tests run change capture themselves
        view.events.disable_rule(Name=schedule.name)
    yield stack
    stack.down()


@pytest.fixture(scope="module")
def demo(saas_stack: LocalStack) -> SaasDemo:
    checks = Checks()
    built = saas_demo(saas_stack, Console(file=StringIO()), checks)
    assert built is not None, checks.failures
    run_change_capture(built.view)  # checkpoints at "now"
    return built


@pytest.fixture(scope="module")
def deal(demo: SaasDemo) -> tuple[str, str, str]:
    won = demo.quote_to_cash()
    assert won is not None, demo.checks.failures
    return won


def test_the_stack_runs_each_role_in_its_vendors_sandbox_tenant(saas_stack: LocalStack) -> None:
    status = saas_stack.status()
    choice = saas_stack.systems_choice
    assert choice is not None
    assert status["running"] and status["roles"] == dict(choice)
    assert status["vendors"]["sandbox"]["alive"] and status["vendors"]["fault_proxy"]["alive"]
    assert status["vendors"]["sandbox"]["tenants"] == {role: SANDBOX_OF_KIND[kind] for role, kind in choice.items()}


def test_a_won_deal_becomes_an_erp_customer_and_a_psa_project_with_tasks(
    demo: SaasDemo, deal: tuple[str, str, str]
) -> None:
    account, opportunity, project = deal
    assert demo.checks.failures == []
    assert demo.xref.records_of("project", canonical_id("project", "crm", opportunity))["psa"] == project
    assert demo._erp_customer(account)["name"] == demo.rep.account_name(account)
    assert demo.consultant.task_names(project) == ["Build", "Discovery"]
    assert demo.rep.deal(opportunity).won


def test_approved_time_is_billed_once_in_the_erp_and_paid_shows_in_crm_and_psa(
    demo: SaasDemo, deal: tuple[str, str, str]
) -> None:
    _, opportunity, project = deal
    demo.billing(opportunity, project)
    assert demo.checks.failures == []
    assert demo.finance.billed_hours(canonical_id("project", "crm", opportunity)) == Decimal(str(sum(WEEK)))
    assert (demo.rep.financial_status(opportunity), demo.consultant.billing_status(project)) == ("paid", "paid")
    run_change_capture(demo.view)  # another poll finds nothing more to bill
    assert demo.finance.billed_hours(canonical_id("project", "crm", opportunity)) == Decimal(str(sum(WEEK)))


def test_renaming_the_customer_in_the_crm_renames_the_erp_customer(demo: SaasDemo, deal: tuple[str, str, str]) -> None:
    account, _, _ = deal
    demo.customer_master(account)
    assert demo.checks.failures == []
    assert demo._erp_customer(account)["name"] == demo.rep.account_name(account)


def test_project_terms_changes_are_taken_as_not_applicable_by_erps_without_contract_objects(
    demo: SaasDemo, deal: tuple[str, str, str]
) -> None:
    _, _, project = deal
    rate = {"amount": "85.00", "currency": "USD"}
    now = dt.datetime.now(dt.UTC)
    events: list[Envelope] = [
        new_event(
            StaffingChangedEvent,
            {
                "project_id": project,
                "assignments": [{"employee_id": "1", "role": "Lead", "planned_hours": "60", "cost_rate": rate}],
            },
            legal_entity="us-01",
            occurred_at=now,
        ),
        new_event(
            ContractChangedEvent,
            {
                "project_id": project,
                "contract_type": "time_and_materials",
                "billing_owner": "Dana Whitfield",
                "milestones": [],
            },
            legal_entity="us-01",
            occurred_at=now,
        ),
    ]
    put(demo.view, events)

    # Both changes reach the bus (the audit trail records them) and the project-terms consumer
    # takes them off its queue: applied, or recorded as not applicable, never parked or raised.
    recorded = demo.view.wait_for(
        lambda: all(demo.view.audit.event(e.id) is not None for e in events), timeout=60, interval=0.5
    )
    assert recorded, "the staffing and contract changes never reached the bus"
    queue = PROJECT_TERMS.physical_name(STACK_NAME)
    assert demo.view.wait_for(lambda: queue_is_drained(demo.view, queue), timeout=60, interval=0.5)
    raised = [e.detail["data"] for e in demo.view.audit_events_of_type("SyncExceptionRaised")]
    assert [r for r in raised if r["flow"] == PROJECT_TERMS.name] == [], raised
    assert demo.view.dlq_messages(queue + DLQ_SUFFIX) == []
    assert poll_until(demo.view, lambda: True, timeout=10)


def test_a_fault_on_the_crm_tenant_fails_only_the_crm_watches_and_clears(
    saas_stack: LocalStack, demo: SaasDemo
) -> None:
    vendors = saas_stack.vendors()
    assert vendors is not None
    with FaultController(vendors.faults_url) as faults:
        faults.set("crm", "error", status=503)
        try:
            with pytest.raises(RuntimeError, match="crm:opportunity") as failed:
                run_change_capture(demo.view)
            assert "psa:time_entry" not in str(failed.value)
        finally:
            faults.clear("crm")
    assert poll_until(demo.view, lambda: True, timeout=10)


def put(view: LocalView, events: list[Envelope]) -> None:
    """Canonical events on the bus, as the PSA's webhook would publish them."""
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


def queue_is_drained(view: LocalView, queue: str) -> bool:
    """No message of `queue` waiting or being worked on."""
    url = view.sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    attributes = view.sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return all(value == "0" for value in attributes.values())
