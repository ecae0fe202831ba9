"""`--systems` parsing, the stack state that records it, and the poller's watches per vendor."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from concord.cli.main import app
from concord.local.roles import SystemsChoiceError, describe, parse_systems, poll_watches, saas_roles
from concord.local.stack import LocalStack, LocalStackError, with_poll_watches
from concord.local.state import StackState
from concord.local.template import FunctionSpec, Topology
from concord.local.vendors import VendorSandboxes

from .loopback import loopback_only  # noqa: F401 - the fixture

TEMPLATE_WATCHES = [
    {"system": "crm", "record_type": "opportunity", "source": "crm"},
    {"system": "crm", "record_type": "customer", "source": "crm"},
    {"system": "psa", "record_type": "time_entry", "source": "psa"},
    {"system": "erp", "record_type": "invoice", "source": "erp"},
]


def test_no_choice_means_tryton_everywhere() -> None:
    assert parse_systems(None) == {"crm": "tryton", "psa": "tryton", "erp": "tryton"}
    assert parse_systems("") == parse_systems(None)


def test_named_roles_take_their_vendor_and_the_rest_stay_tryton() -> None:
    assert parse_systems(" crm=Salesforce , psa=certinia") == {"crm": "salesforce", "psa": "certinia", "erp": "tryton"}
    assert describe(parse_systems("psa=certinia")) == "crm=tryton,psa=certinia,erp=tryton"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sales=salesforce", "unknown role 'sales'; the roles are crm, psa, erp"),
        ("crm=netsuite", "'netsuite' cannot be the CRM; choose one of hubspot, salesforce, tryton"),
        ("psa=hubspot", "'hubspot' cannot be the PSA; choose one of certinia, kantata, tryton"),
        ("psa=salesforce", "'salesforce' cannot be the PSA; choose one of certinia, kantata, tryton"),
        (
            "erp=certinia",
            "choose one of business_central, dynamics_finance, netsuite, quickbooks, tryton, workday, xero",
        ),
        ("crm", "expected role=kind"),
        ("crm=salesforce,crm=tryton", "named twice"),
    ],
)
def test_a_bad_choice_is_refused_with_the_choices(text: str, message: str) -> None:
    with pytest.raises(SystemsChoiceError, match=message):
        parse_systems(text)


def test_the_cli_refuses_a_bad_choice_before_starting_anything(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["local", "up", "--state-dir", str(tmp_path), "--systems", "crm=netsuite"])
    assert result.exit_code == 2
    output = " ".join(result.output.split())  # rich wraps long lines
    assert "cannot be the CRM; choose one of hubspot, salesforce, tryton" in output
    assert not StackState.exists(tmp_path)


def test_saas_roles_are_polled_with_their_vendor_source_and_tryton_roles_keep_the_template() -> None:
    watches = poll_watches(TEMPLATE_WATCHES, parse_systems("crm=salesforce,psa=certinia"))
    assert sorted(map(lambda w: (w["system"], w["record_type"], w["source"]), watches)) == [
        ("crm", "customer", "salesforce"),
        ("crm", "opportunity", "salesforce"),
        ("erp", "invoice", "erp"),
        ("psa", "time_entry", "certinia"),
    ]
    assert poll_watches(TEMPLATE_WATCHES, parse_systems(None)) == TEMPLATE_WATCHES


def test_a_business_central_erp_is_polled_for_invoices_and_payments() -> None:
    watches = poll_watches(TEMPLATE_WATCHES, parse_systems("erp=business_central"))
    assert sorted((w["system"], w["record_type"], w["source"]) for w in watches if w["system"] == "erp") == [
        ("erp", "invoice", "business_central"),
        ("erp", "payment", "business_central"),
    ]


def test_the_topology_carries_the_watches_to_the_poller_only() -> None:
    poller = FunctionSpec(
        "poll",
        "functions/change_capture",
        "h.handler",
        60,
        256,
        {"POLL_WATCHES": json.dumps(TEMPLATE_WATCHES), "X": "1"},
    )
    other = FunctionSpec("audit", "functions/audit_trail", "h.handler", 30, 256, {"X": "2"})
    topology = Topology([], [], [], [], [], [], [], [poller, other], [], [], [])
    changed = with_poll_watches(topology, parse_systems("psa=certinia"))
    watches = json.loads(changed.function("poll").environment["POLL_WATCHES"])
    assert {"system": "psa", "record_type": "time_entry", "source": "certinia"} in watches
    assert {"system": "psa", "record_type": "time_entry", "source": "psa"} not in watches
    assert changed.function("poll").environment["X"] == "1"
    assert changed.function("audit") == other


def test_a_fresh_state_records_the_choice_and_sandbox_ports_only_for_saas(tmp_path: Path) -> None:
    saas = LocalStack(
        tmp_path, systems_choice=parse_systems("crm=salesforce"), sandbox_port=9101, vendor_faults_port=9102
    )
    state = saas.current_state()
    state.save(tmp_path)
    loaded = StackState.load(tmp_path)
    assert loaded.systems == {"crm": "salesforce", "psa": "tryton", "erp": "tryton"}
    assert (loaded.sandbox_port, loaded.vendor_faults_port) == (9101, 9102)
    vendors = LocalStack(tmp_path).vendors(loaded)  # a later command knows the vendors from the state
    assert vendors is not None and dict(vendors.saas) == {"crm": "salesforce"}
    assert vendors.faults_url == "http://127.0.0.1:9102"

    tryton_only = LocalStack(tmp_path / "t").current_state()
    assert tryton_only.sandbox_port is None and LocalStack(tmp_path / "t").vendors(tryton_only) is None


def test_a_state_written_before_roles_existed_still_loads(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text(
        json.dumps(
            {
                "host": "127.0.0.1",
                "aws_port": 1,
                "webhook_port": 2,
                "lambda_port": 3,
                "tryton_port": 4,
                "faults_port": 5,
            }
        )
    )
    state = StackState.load(tmp_path)
    assert state.systems is None and LocalStack(tmp_path).vendors(state) is None


def test_saas_connections_point_connectors_at_the_fault_proxy(tmp_path: Path) -> None:
    vendors = VendorSandboxes(tmp_path, "127.0.0.1", 9101, 9102, {"crm": "salesforce", "psa": "certinia"})
    connections = {role: json.loads(value) for role, value in vendors.connections().items()}
    assert connections["crm"] == {
        "kind": "salesforce",
        "instance_url": "http://127.0.0.1:9102/crm",
        "auth": {
            "type": "client_credentials",
            "client_id": "concord-sandbox",
            "client_secret": "concord-sandbox-secret",
        },
    }
    assert connections["psa"]["kind"] == "certinia" and connections["psa"]["org"] == "separate"
    assert connections["psa"]["instance_url"] == "http://127.0.0.1:9102/psa"


def test_a_kantata_psa_runs_its_own_sandbox_and_connects_with_its_static_token(tmp_path: Path) -> None:
    vendors = VendorSandboxes(tmp_path, "127.0.0.1", 9101, 9102, saas_roles(parse_systems("psa=kantata")))
    (connection,) = (json.loads(value) for value in vendors.connections().values())
    assert vendors.vendor == "kantata"
    assert connection["kind"] == "kantata" and connection["base_url"] == "http://127.0.0.1:9102/psa/api/v1"
    assert connection["token"] and connection["billing_status_field_id"] > 0
    watches = poll_watches([], parse_systems("psa=kantata"))
    assert watches == [{"system": "psa", "record_type": "time_entry", "source": "kantata"}]


def test_a_sandbox_port_in_use_is_refused_naming_its_option(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        stack = LocalStack(tmp_path, systems_choice=parse_systems("crm=salesforce"), sandbox_port=port)
        vendors = stack.vendors(stack.current_state())
        assert vendors is not None
        with pytest.raises(LocalStackError, match=f"port {port} .* already in use.*--sandbox-port"):
            stack._start_vendors(vendors)
    assert vendors.sandbox_pid() is None  # nothing was started


def test_crm_hubspot_is_served_by_the_hubspot_sandbox_with_its_static_token(tmp_path: Path) -> None:
    from concord.local.roles import parse_systems, poll_watches
    from concord.local.vendors import VendorSandboxes

    choice = parse_systems("crm=hubspot")
    vendors = VendorSandboxes(tmp_path, "127.0.0.1", 8780, 8781, {"crm": choice["crm"]})
    connection = json.loads(vendors.connections()["crm"])
    assert vendors.vendor == "hubspot"
    assert connection["kind"] == "hubspot" and connection["base_url"] == "http://127.0.0.1:8781/crm"
    assert connection["auth"]["type"] == "static_token"
    assert {w["source"] for w in poll_watches([], choice) if w["system"] == "crm"} == {"hubspot"}
