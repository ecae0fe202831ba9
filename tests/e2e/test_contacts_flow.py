"""Contacts on the session's local stack against real Tryton (issue #19): a person added to or
changed on a CRM account reaches the ERP customer and the PSA client (push: ContactChanged →
the contact master flow); a role change the ERP owns is raised for a person and not applied."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from concord.local.consistency import SystemsView
from concord.local.inspect import LocalView
from concord.local.scenarios.tryton import SalesRep
from concord.stores.registry import Registry
from concord.sync.ids import canonical_id

# The won deal (an ERP customer and a PSA client) and the systems, as the sync-flow tests make them.
from .test_sync_flows import Deal, deal, rep, systems, tryton, xref  # noqa: F401

pytestmark = pytest.mark.e2e


def people(database: Any, party_id: str) -> dict[str, dict[str, Any]]:
    """The party's named email mechanisms (its people), by email; `invoice` as a bool (SQLite
    gives 0 or 1)."""
    rows = database.search_read(
        "party.contact_mechanism",
        [["party", "=", int(party_id)], ["type", "=", "email"], ["name", "!=", None]],
        ["name", "value", "invoice"],
    )
    return {row["value"]: {**row, "invoice": bool(row["invoice"])} for row in rows}


def test_a_crm_contact_reaches_the_erp_and_psa_and_an_erp_owned_role_edit_is_raised_not_applied(
    view: LocalView, rep: SalesRep, tryton: SystemsView, xref: Registry, deal: Deal
) -> None:
    client_id = xref.records_of("customer", deal.customer_ref)["psa"]
    email = f"ada.{uuid.uuid4().hex[:6]}@tailspin.example"
    # When a sales rep adds the account's billing contact in the CRM (push: ContactChanged)
    (email_id,) = rep.crm.create(
        "party.contact_mechanism",
        [{"party": int(deal.account_id), "type": "email", "value": email, "name": "Ada Park", "invoice": True}],
    )

    # Then the person reaches the ERP customer and the PSA client, as the billing contact
    erp_people = lambda: people(tryton.erp.client, deal.erp_customer_id)
    psa_people = lambda: people(tryton.psa.client, client_id)
    assert view.wait_for(lambda: email in erp_people() and email in psa_people(), timeout=60, interval=0.5)
    assert erp_people()[email]["name"] == psa_people()[email]["name"] == "Ada Park"
    assert erp_people()[email]["invoice"] is True

    # When the rep corrects the email (the CRM owns it), it is changed in both
    new_email = f"ada.park.{uuid.uuid4().hex[:6]}@tailspin.example"
    rep.crm.write("party.contact_mechanism", [email_id], {"value": new_email})
    assert view.wait_for(lambda: new_email in erp_people() and new_email in psa_people(), timeout=60, interval=0.5)
    assert email not in erp_people()

    # When the rep also makes them a project contact (the role is the ERP's: finance decides
    # who gets the invoices)
    rep.crm.write("party.contact_mechanism", [email_id], {"invoice": False})

    # Then the conflict is raised for a person, and the ERP keeps its billing contact
    contact_ref = canonical_id("contact", "crm", str(email_id))
    conflict = view.wait_for(
        lambda: [
            e.data
            for e in view.audit_events_of_type("SyncExceptionRaised")
            if e.data["flow"] == "contact_master" and any(r["record_id"] == str(email_id) for r in e.data["records"])
        ],
        timeout=60,
        interval=0.5,
    )
    assert conflict and conflict[0]["error_class"] == "conflict" and conflict[0]["severity"] == "high"
    assert "role is owned by the ERP: it holds 'billing', the CRM's 'project' was not applied" in conflict[0]["reason"]
    assert erp_people()[new_email]["invoice"] is True
    assert psa_people()[new_email]["invoice"] is True
    assert {e.system for e in xref.lineage("contact", contact_ref)} == {"erp", "psa"}
