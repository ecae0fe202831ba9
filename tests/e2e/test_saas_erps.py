"""Concord's whole job with each SaaS ERP: quote-to-cash, billing of approved time, financial
status back to CRM and PSA, customer master and project terms, on ONE local stack per ERP kind
(CRM and PSA played by SaaS sandboxes: Salesforce and Certinia, or HubSpot and Kantata), reused by every test here. The
users are the lifecycle demo's (concord.local.demo.saas): the ERP's is its finance user
(concord.local.scenarios.finance). An ERP joins with one line in ERP_STACKS."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from rich.console import Console

from concord.events import Envelope, new_event
from concord.events.envelope import ContractChangedEvent, StaffingChangedEvent
from concord.local.demo.checks import Checks
from concord.local.demo.saas import WEEK, SaasDemo, poll_until, run_change_capture, saas_demo
from concord.local.inspect import LocalView
from concord.local.roles import SANDBOX_OF_KIND, parse_systems
from concord.local.stack import LocalStack, aws_client
from concord.sync.ids import canonical_id
from concord.sync.project_terms import NOT_APPLICABLE

from ..conftest import free_port
from .conftest import VISIBILITY_TIMEOUT_CAP

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class ErpStack:
    systems: str  # the stack's --systems
    contract_objects: bool  # the connector's capability: project terms applied, or not applicable


# ERP kind -> its stack (a new ERP joins with a line).
ERP_STACKS = {
    "netsuite": ErpStack("crm=salesforce,psa=certinia,erp=netsuite", contract_objects=False),
    "business_central": ErpStack("crm=salesforce,psa=certinia,erp=business_central", contract_objects=False),
    "dynamics_finance": ErpStack("crm=hubspot,psa=kantata,erp=dynamics_finance", contract_objects=False),
}


@pytest.fixture(scope="module", params=list(ERP_STACKS))
def erp_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def erp_stack(erp_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    stack = LocalStack(
        state_dir=tmp_path_factory.mktemp(f"erp-{erp_kind}-stack"),
        aws_port=free_port(),
        webhook_port=free_port(),
        lambda_port=free_port(),
        tryton_port=free_port(),
        faults_port=free_port(),
        sandbox_port=free_port(),
        vendor_faults_port=free_port(),
        systems_choice=parse_systems(ERP_STACKS[erp_kind].systems),
        visibility_timeout_cap=VISIBILITY_TIMEOUT_CAP,
    )
    stack.up()
    view = LocalView(stack)
    for schedule in view.topology.schedules:  # the tests run change capture themselves
        view.events.disable_rule(Name=schedule.name)
    yield stack
    stack.down()


@pytest.fixture(scope="module")
def demo(erp_stack: LocalStack) -> SaasDemo:
    checks = Checks()
    built = saas_demo(erp_stack, Console(file=StringIO()), checks)
    assert built is not None, checks.failures
    run_change_capture(built.view)  # checkpoints at "now"
    return built


@pytest.fixture(scope="module")
def deal(demo: SaasDemo) -> tuple[str, str, str]:
    won = demo.quote_to_cash()
    assert won is not None, demo.checks.failures
    return won


def test_the_stack_runs_the_erp_in_its_own_sandbox_tenant(erp_stack: LocalStack, erp_kind: str) -> None:
    status = erp_stack.status()
    assert status["running"] and status["roles"]["erp"] == erp_kind
    assert (
        status["vendors"]["sandbox"]["alive"]
        and status["vendors"]["sandbox"]["tenants"]["erp"] == SANDBOX_OF_KIND[erp_kind]
    )


def test_a_won_deal_becomes_an_erp_customer_and_a_psa_project(demo: SaasDemo, deal: tuple[str, str, str]) -> None:
    account, opportunity, project = deal
    assert demo.checks.failures == []
    assert demo.xref.records_of("project", canonical_id("project", "crm", opportunity))["psa"] == project
    assert demo._erp_customer(account)["name"] == demo.rep.account_name(account)
    assert demo.consultant.task_names(project) == ["Build", "Discovery"]


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


def test_project_terms_are_applied_or_recorded_not_applicable_per_the_erps_capabilities(
    demo: SaasDemo, deal: tuple[str, str, str], erp_kind: str
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

    outcomes = demo.view.wait_for(
        lambda: terms_outcomes(demo.view) if len(terms_outcomes(demo.view)) == 2 else None, timeout=60, interval=0.5
    )

    assert outcomes is not None, terms_outcomes(demo.view)
    raised = [e.detail["data"] for e in demo.view.audit_events_of_type("SyncExceptionRaised")]
    if ERP_STACKS[erp_kind].contract_objects:
        assert all(o["applied"] for o in outcomes), outcomes
    else:
        assert outcomes == [{"applied": False, "detail": NOT_APPLICABLE, "exception_event_id": None}] * 2
    assert [r for r in raised if r["flow"] == "project_terms"] == [], raised
    assert demo.view.dlq_messages("concord-local-sync-project-terms-dlq") == []
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


def terms_outcomes(view: LocalView) -> list[dict[str, Any]]:
    """What sync_project_terms returned for each event it completed (its idempotency records)."""
    table = view.topology.setting("IDEMPOTENCY_TABLE_NAME")
    items = aws_client(view.state, "dynamodb").scan(TableName=table)["Items"]
    results = [
        json.loads(item["data"]["S"])
        for item in items
        if item.get("status", {}).get("S") == "COMPLETED" and "data" in item
    ]
    return [r for r in results if isinstance(r, dict) and set(r) == {"applied", "detail", "exception_event_id"}]
