"""The local stack with SaaS vendors as CRM and PSA (one sandbox process behind its own fault
proxy, a vendor per tenant), Tryton as ERP: Salesforce + Certinia, and HubSpot + Kantata. One
stack per combination, on its own ports; change capture is run by the tests (the sandboxes
push nothing)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from concord.local.demo.checks import Checks
from concord.local.demo.saas import WEEK, SaasDemo, poll_until, run_change_capture, saas_demo
from concord.local.faults import FaultController
from concord.local.inspect import LocalView
from concord.local.roles import parse_systems
from concord.local.stack import LocalStack
from concord.sync.ids import canonical_id

from ..conftest import free_port, sharing_synth_cache
from .conftest import VISIBILITY_TIMEOUT_CAP

pytestmark = pytest.mark.e2e


# --systems -> the sandbox vendor of each SaaS tenant
COMBINATIONS = {
    "crm=salesforce,psa=certinia": {"crm": "salesforce", "psa": "salesforce"},
    "crm=hubspot,psa=kantata": {"crm": "hubspot", "psa": "kantata"},
}


@pytest.fixture(scope="module", params=list(COMBINATIONS))
def saas_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, local_synth_cache: Path
) -> Iterator[LocalStack]:
    stack = LocalStack(
        state_dir=sharing_synth_cache(tmp_path_factory.mktemp("saas-stack"), local_synth_cache),
        aws_port=free_port(), webhook_port=free_port(), lambda_port=free_port(),
        tryton_port=free_port(), faults_port=free_port(),
        sandbox_port=free_port(), vendor_faults_port=free_port(),
        systems_choice=parse_systems(request.param),
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


def test_the_stack_records_its_vendors_and_runs_their_sandbox(saas_stack: LocalStack) -> None:
    status = saas_stack.status()
    choice = saas_stack.systems_choice
    assert choice is not None
    assert status["running"] and status["roles"] == dict(choice) and status["roles"]["erp"] == "tryton"
    assert status["vendors"]["sandbox"]["alive"] and status["vendors"]["fault_proxy"]["alive"]
    assert status["vendors"]["sandbox"]["tenants"] == COMBINATIONS[f"crm={choice['crm']},psa={choice['psa']}"]


def test_a_deal_won_in_the_crm_becomes_an_erp_customer_and_a_psa_project_with_tasks(
    demo: SaasDemo, deal: tuple[str, str, str]
) -> None:
    account, opportunity, project = deal
    assert demo.checks.failures == []
    assert demo.xref.records_of("project", canonical_id("project", "crm", opportunity))["psa"] == project
    assert demo._erp_customer(account)["name"] == demo.rep.account_name(account)
    assert demo.consultant.task_names(project) == ["Build", "Discovery"]
    assert demo.rep.deal(opportunity).won


def test_approved_psa_time_is_billed_and_the_financial_status_comes_back_to_both(
    demo: SaasDemo, deal: tuple[str, str, str]
) -> None:
    _, opportunity, project = deal
    demo.billing(opportunity, project)
    assert demo.checks.failures == []
    assert demo.finance.billed_hours(canonical_id("project", "crm", opportunity)) == Decimal(str(sum(WEEK)))
    assert demo.rep.financial_status(opportunity) == "paid"
    assert demo.consultant.billing_status(project) == "paid"


def test_renaming_the_customer_in_the_crm_renames_the_erp_customer(
    demo: SaasDemo, deal: tuple[str, str, str]
) -> None:
    account, _, _ = deal
    demo.customer_master(account)
    assert demo.checks.failures == []
    assert demo._erp_customer(account)["name"] == demo.rep.account_name(account)


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
