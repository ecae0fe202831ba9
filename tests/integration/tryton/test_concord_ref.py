"""Concord's Tryton module, concord_sync, in the real crm / psa / erp databases: concord_ref
(the find-or-create key) and timesheet approval. The push is in test_concord_sync.py."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from concord.connectors.tryton import TrytonPermanentError
from concord.local.tryton import DATABASES

from .records import CUSTOMER, Connect, customer_invoice, one, project_with_task, time_line

# -- concord_ref -----------------------------------------------------------------------------

# Where each model exists follows from the modules each database activates (docs/tryton.md).
CONCORD_REF_MODELS = {
    "crm": {"party.party", "account.invoice", "sale.opportunity"},
    "psa": {"party.party", "account.invoice", "project.work"},
    "erp": {"party.party", "account.invoice", "project.work"},
}
ALL_REF_MODELS = {"party.party", "project.work", "account.invoice", "sale.opportunity"}


@pytest.mark.parametrize("database", DATABASES)
def test_concord_ref_is_on_the_models_the_database_has(tryton_client: Connect, database: str) -> None:
    client = tryton_client(database)

    have = {
        model
        for model in ALL_REF_MODELS
        if client.search_read("ir.model.field", [["model", "=", model], ["name", "=", "concord_ref"]], ["id"])
    }
    models = {
        m["name"]
        for m in client.search_read(  # in 8.2, ir.model's name is "a.b"
            "ir.model", [["name", "in", sorted(ALL_REF_MODELS)]], ["name"]
        )
    }

    assert have == CONCORD_REF_MODELS[database] == models
    for model in have:  # searchable
        assert client.search_read(model, [["concord_ref", "=", "no-such-ref"]], ["id"]) == []


@pytest.mark.parametrize("database", DATABASES)
def test_party_is_found_by_concord_ref_which_is_unique(tryton_client: Connect, database: str) -> None:
    client = tryton_client(database)
    ref = f"acct-{database}-{time.monotonic_ns()}"

    (party_id,) = client.create("party.party", [{"name": "Referenced Ltd", "concord_ref": ref}])

    assert client.search_read("party.party", [["concord_ref", "=", ref]], ["id"]) == [{"id": party_id}]
    with pytest.raises(TrytonPermanentError):
        client.create("party.party", [{"name": "Referenced twin", "concord_ref": ref}])
    # Copying a record does not copy its canonical id.
    (copy_id,) = client.call("model.party.party.copy", [party_id], {})
    assert one(client, "party.party", [["id", "=", copy_id]], ["concord_ref"])["concord_ref"] is None


def test_concord_ref_is_writable_by_rpc_on_work_opportunity_and_invoice(tryton_client: Connect) -> None:
    psa, crm, erp = tryton_client("psa"), tryton_client("crm"), tryton_client("erp")
    stamp = time.monotonic_ns()

    project_id, _ = project_with_task(psa, f"Ref project {stamp}")
    psa.write("project.work", [project_id], {"concord_ref": f"prj-{stamp}"})
    customer = one(crm, "party.party", [["name", "=", CUSTOMER]], ["id"])
    (opportunity_id,) = crm.create(
        "sale.opportunity", [{"party": customer["id"], "description": "Ref deal", "concord_ref": f"opp-{stamp}"}]
    )
    invoice_id = customer_invoice(erp, f"Ref customer {stamp}", 1)
    erp.write("account.invoice", [invoice_id], {"concord_ref": f"inv-{stamp}"})

    assert psa.search_read("project.work", [["concord_ref", "=", f"prj-{stamp}"]], ["id"]) == [{"id": project_id}]
    assert crm.search_read("sale.opportunity", [["concord_ref", "=", f"opp-{stamp}"]], ["id"]) == [
        {"id": opportunity_id}
    ]
    assert erp.search_read("account.invoice", [["concord_ref", "=", f"inv-{stamp}"]], ["id"]) == [{"id": invoice_id}]


def test_concord_ref_is_read_only_in_the_party_form(tryton_client: Connect) -> None:
    crm = tryton_client("crm")

    view = crm.call("model.party.party.fields_view_get", None, "form")

    assert '<field name="concord_ref" readonly="1"' in view["arch"]


# -- timesheet approval ----------------------------------------------------------------------


def test_approve_sets_state_and_time_and_locks_the_line(tryton_client: Connect) -> None:
    psa = tryton_client("psa")
    _, task = project_with_task(psa, "Approval project")
    line_id = time_line(psa, task, 2.5)
    fields = ["approval_state", "approved_at", "duration"]
    assert one(psa, "timesheet.line", [["id", "=", line_id]], fields)["approval_state"] == "draft"

    # When the line is approved
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    psa.button("timesheet.line", "approve", [line_id])

    # Then it is approved, with the time of approval (naive UTC, as Tryton stores datetimes)
    line = one(psa, "timesheet.line", [["id", "=", line_id]], fields)
    assert line["approval_state"] == "approved"
    assert before <= line["approved_at"] <= dt.datetime.now(dt.UTC).replace(tzinfo=None)
    # ...duration, work and date are locked, other fields are not
    for values in (
        {"duration": dt.timedelta(hours=8)},
        {"date": dt.date(2000, 1, 3)},
        {"work": task["timesheet_works"][0]},
    ):
        with pytest.raises(TrytonPermanentError, match="is approved"):
            psa.write("timesheet.line", [line_id], values)
    psa.write("timesheet.line", [line_id], {"description": "Sprint work, reviewed"})
    # ...approving again changes nothing (safe to retry), and the state is not writable
    psa.button("timesheet.line", "approve", [line_id])
    assert one(psa, "timesheet.line", [["id", "=", line_id]], fields) == line
    with pytest.raises(TrytonPermanentError):
        psa.write("timesheet.line", [line_id], {"approval_state": "draft"})
