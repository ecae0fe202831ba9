"""Master data on the local stack against real Tryton (issue #19 part 2): a service item created
in the ERP appears in the CRM's and PSA's catalogues; an approval naming a cost centre the
legal entity does not map is parked with that reason."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from concord.events import new_event
from concord.events.envelope import TimeApprovedEvent
from concord.local.inspect import LocalView
from concord.local.scenarios.tryton import user_client
from concord.local.stack import LocalStack
from concord.local.systems import LocalSystems

from .test_sync_flows import BILLING_DLQ, put

pytestmark = pytest.mark.e2e

SCHEDULED = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}


@pytest.fixture(scope="module")
def systems(local_stack: LocalStack) -> LocalSystems:
    systems = local_stack.systems()
    assert systems is not None, "the e2e stack must run with its business systems"
    return systems


def catalogue_entry(systems: LocalSystems, database: str, code: str) -> list[dict[str, object]]:
    client = user_client(systems, database)
    return client.search_read("product.template", [["code", "=", code]], ["name", "type", "list_price"])


def test_a_service_item_created_in_the_erp_appears_in_the_crm_and_psa_catalogues(
    view: LocalView, systems: LocalSystems
) -> None:
    view.invoke("change_capture", SCHEDULED)  # the ERP's product watch has its checkpoint from here on
    finance = user_client(systems, "erp")
    code = f"DATA-{uuid.uuid4().hex[:6].upper()}"
    (hour,) = finance.search_read("product.uom", [["symbol", "=", "h"]], ["id"])
    finance.create(
        "product.template",
        [{"name": "Data engineering", "code": code, "type": "service", "default_uom": hour["id"], "list_price": 180}],
    )

    reports = view.invoke("change_capture", SCHEDULED)

    assert any(r["watch"] == "erp:service_item" and r["events"] >= 1 for r in reports["watches"]), reports
    for database in ("crm", "psa"):
        entries = view.wait_for(lambda db=database: catalogue_entry(systems, db, code), timeout=60, interval=0.5)
        assert entries, f"{code} did not reach the {database} catalogue"
        ((entry),) = entries
        assert (entry["name"], entry["type"], float(entry["list_price"])) == ("Data engineering", "service", 180.0)


def test_an_approval_naming_an_unknown_cost_centre_is_parked_with_that_reason(view: LocalView) -> None:
    event = new_event(
        TimeApprovedEvent,
        {
            "time_entry_id": f"T-{uuid.uuid4().hex[:6]}",
            "project_id": "41",
            "task_id": "42",
            "employee_id": "3",
            "worked_on": dt.date.today(),
            "hours": "2.00",
            "billable": True,
            "approved_at": dt.datetime.now(dt.UTC),
            "cost_centre": "NO-SUCH-CC",
        },
        legal_entity="us-01",
        occurred_at=dt.datetime.now(dt.UTC),
    )
    put(view, [event])

    parked = view.wait_for(
        lambda: [m for m in view.dlq_messages(BILLING_DLQ) if json.loads(m["Body"])["detail"]["id"] == event.id],
        timeout=90,
        interval=0.5,
    )
    assert parked, "the approval was not parked"
    (message,) = parked
    failures = view.audit.failures_of(message["MessageId"])
    assert failures and "unknown cost centre 'NO-SUCH-CC' for legal entity us-01" in failures[-1].reason
