"""Shared fixtures of the unit suite: no network, fake AWS credentials, fresh caches.

AWS is emulated in-process by moto (`mock_aws`, never a server). Every boto3 client Concord
caches (its own, Powertools Parameters' and the idempotent publisher's) is dropped before and
after each test, so no client or cached secret outlives the moto backend it was made for.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import botocore.loaders
import botocore.session
import pytest
from aws_lambda_powertools.utilities import parameters
from pytest_socket import disable_socket, enable_socket

from concord import observability
from concord.aws import consumer, idempotency
from concord.aws.clients import client, resource

REPO_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = REPO_ROOT / "functions"
# Vendors' published test vectors, copied into the repository with their licence (NOTICE.md beside each).
VENDOR_FIXTURES = REPO_ROOT / "tests" / "fixtures"

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


# --------------------------------------------------------------------------- environment


@pytest.fixture(autouse=True)
def _no_network() -> Iterator[None]:
    disable_socket(allow_unix_socket=True)
    yield
    enable_socket()


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials in one region; nothing from the developer's AWS config leaks in."""
    for name, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "concord-unit-tests",
        "POWERTOOLS_METRICS_NAMESPACE": "Concord",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "POWERTOOLS_IDEMPOTENCY_DISABLED"):
        monkeypatch.delenv(name, raising=False)
    # observability's Metrics read the namespace when concord was first imported, which
    # may have been before this fixture ran.
    monkeypatch.setattr(observability.metrics, "namespace", "Concord")
    monkeypatch.setattr(observability.metrics, "service", "concord-unit-tests")


@pytest.fixture(autouse=True, scope="package")
def _one_botocore_loader() -> Iterator[None]:
    """Share botocore's model loader across sessions: parse each service model once.

    moto gives every test a fresh default boto3 session, and Powertools makes sessions of its
    own, so without this each test re-reads the (large) endpoint and service JSON files.
    The loader only hands out read-only model data, as it does to clients of one session.
    """
    shared = botocore.loaders.create_loader()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session, "create_loader", lambda search_path_string=None: shared)
        yield


def _clear_caches() -> None:
    client.cache_clear()
    resource.cache_clear()
    idempotency._store.cache_clear()
    consumer._queue_url.cache_clear()
    parameters.clear_caches()
    observability.metrics.clear_metrics()


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    _clear_caches()
    yield
    _clear_caches()


# --------------------------------------------------------------------------- Lambda


@dataclass
class FakeLambdaContext:
    function_name: str = "concord-unit-test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:concord-unit-test"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture
def load_handler(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], ModuleType]:
    """Import functions/<name>/handler.py as its own module (registered for pydantic)."""

    def load(function: str) -> ModuleType:
        module_name = f"concord_unit_{function}_handler"
        spec = importlib.util.spec_from_file_location(module_name, FUNCTIONS_DIR / function / "handler.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, module_name, module)
        spec.loader.exec_module(module)
        return module

    return load


# --------------------------------------------------------------------------- sample events

_EUR = "EUR"

# One valid `data` payload per event type, in JSON form (as a sender would put it on the wire).
SAMPLE_DATA: dict[str, dict[str, Any]] = {
    "OpportunityClosedWon": {
        "opportunity_id": "OPP-1001",
        "account_id": "ACC-2002",
        "name": "Data platform rollout",
        "amount": {"amount": "120000.00", "currency": _EUR},
        "closed_on": "2025-03-14",
        "lines": [
            {
                "service_item": "SVC-CONSULTING",
                "description": "Senior consulting",
                "quantity": "100",
                "unit_price": {"amount": "1200.00", "currency": _EUR},
            }
        ],
        "payment_term": "NET30",
        "contract_type": "fixed_fee",
        "billing_owner": "Dana Whitfield",
    },
    "AccountChanged": {
        "account_id": "ACC-2002",
        "name": "Acme GmbH",
        "billing_address": {
            "street": "Hauptstrasse 1",
            "city": "Berlin",
            "postal_code": "10115",
            "country": "DE",
        },
        "tax_id": "DE123456789",
        "currency": _EUR,
        "changed_fields": ["name", "billing_address"],
    },
    "ContactChanged": {
        "contact_id": "CON-5005",
        "account_id": "ACC-2002",
        "role": "billing",
        "name": "Greta Hahn",
        "email": "greta.hahn@acme.example",
        "phone": "+49 30 1234567",
        "changed_fields": ["email"],
    },
    "ProjectActivated": {
        "project_id": "PRJ-3003",
        "opportunity_id": "OPP-1001",
        "erp_customer_id": "CUST-4004",
        "name": "Data platform rollout",
        "budget": {"amount": "120000.00", "currency": _EUR},
        "tasks": [{"task_id": "T-1", "name": "Discovery", "budget": {"amount": "10000", "currency": _EUR}}],
    },
    "ContractChanged": {
        "project_id": "PRJ-3003",
        "contract_type": "milestone",
        "billing_owner": "Jane Doe",
        "milestones": [
            {
                "milestone_id": "MS-1",
                "name": "Kick-off",
                "amount": {"amount": "5000.00", "currency": _EUR},
                "due_on": "2025-04-01",
            }
        ],
    },
    "StaffingChanged": {
        "project_id": "PRJ-3003",
        "assignments": [
            {
                "employee_id": "EMP-7",
                "role": "Lead engineer",
                "planned_hours": "120.50",
                "cost_rate": {"amount": "85.00", "currency": _EUR},
            }
        ],
    },
    "TimeApproved": {
        "time_entry_id": "TE-555",
        "project_id": "PRJ-3003",
        "task_id": "T-1",
        "employee_id": "EMP-7",
        "worked_on": "2025-04-02",
        "hours": "7.50",
        "billable": True,
        "approved_at": "2025-04-03T09:00:00+00:00",
    },
    "ExpenseApproved": {
        "expense_id": "EXP-9",
        "project_id": "PRJ-3003",
        "employee_id": "EMP-7",
        "incurred_on": "2025-04-02",
        "amount": {"amount": "42.10", "currency": _EUR},
        "category": "Travel",
        "billable": False,
        "approved_at": "2025-04-03T09:00:00+00:00",
    },
    "ServiceItemChanged": {
        "item_id": "17",
        "code": "CONSULT-HR",
        "name": "Consulting hour",
        "unit": "hour",
        "list_price": {"amount": "150.00", "currency": "USD"},
        "active": True,
    },
    "InvoicePosted": {
        "invoice_id": "INV-88",
        "number": "2025-0001",
        "customer_id": "CUST-4004",
        "project_id": "PRJ-3003",
        "invoiced_on": "2025-04-30",
        "due_on": "2025-05-30",
        "total": {"amount": "5950.00", "currency": _EUR},
    },
    "PaymentReceived": {
        "payment_id": "PAY-12",
        "invoice_id": "INV-88",
        "amount": {"amount": "5950.00", "currency": _EUR},
        "received_on": "2025-05-20",
        "invoice_amount_due": {"amount": "0.00", "currency": _EUR},
    },
    "SyncExceptionRaised": {
        "flow": "opportunity_to_project",
        "step": "create_project",
        "severity": "high",
        "error_class": "transient",
        "reason": "PSA did not answer",
        "caused_by_event_id": "evt-1",
        "records": [{"system": "crm", "record_type": "opportunity", "record_id": "OPP-1001"}],
    },
    "DriftDetected": {
        "object_type": "customer",
        "canonical_id": "CUST-4004",
        "field": "tax_id",
        "authority": "crm",
        "values": [{"system": "crm", "value": "DE123456789"}, {"system": "erp", "value": None}],
        "severity": "warning",
    },
    "ChangeNotified": {
        "system": "crm",
        "record_type": "opportunity",
        "record_ids": ["0065e00000AbCdEAAV"],
        "vendor_source": "salesforce",
    },
}


@pytest.fixture
def sample_data() -> Callable[[str], dict[str, Any]]:
    """A fresh (mutable) copy of a valid `data` payload for an event type."""
    return lambda event_type: copy.deepcopy(SAMPLE_DATA[event_type])


@pytest.fixture
def sample_event_types() -> set[str]:
    return set(SAMPLE_DATA)


@pytest.fixture
def webhook_vector() -> dict[str, Any]:
    """The reference signing vector of the Standard Webhooks libraries."""
    vectors = json.loads((VENDOR_FIXTURES / "standard-webhooks" / "test-vectors.json").read_text())
    (vector,) = [v for v in vectors["vectors"] if v["name"] == "reference_sign"]
    return {**vector, "tolerance_seconds": vectors["tolerance_seconds"]}
