"""Contacts under the system-of-record rules, against in-memory systems (the world: sync_world.py,
a won deal whose account is an ERP customer and a PSA client): a CRM contact's changes reach
both, the role the ERP owns is kept and its conflict raised, older changes and echoes write nothing."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from concord.aws.systems import RoleConnector
from concord.domain import Contact, CrmCapabilities, PsaCapabilities
from concord.errors import ConfigurationError
from concord.events import new_event
from concord.events.envelope import ContactChangedEvent, SyncExceptionRaisedEvent
from concord.events.payloads import ContactRole
from concord.events.types import ErrorClass, Severity, System
from concord.sync.contacts import sync_contact, sync_contacts
from concord.sync.ids import canonical_id
from concord.sync.systems import Systems

from . import sync_world
from .fakes import FakeCrm, FakeErp, FakePsa, erp_capabilities, system_of_record
from .sync_world import ACCOUNT, ERP_CUSTOMER, NOW, PSA_CLIENT

CONTACT = "c-1"
CONTACT_REF = canonical_id("contact", System.CRM, CONTACT)


systems = sync_world.systems  # the fixture: a deal quote-to-cash turned into an ERP customer and a PSA project


@pytest.fixture()
def world(systems: Systems) -> Systems:
    """That deal, in systems that all keep contacts, and a billing contact of the account in the CRM."""
    crm, erp, psa = _crm(systems), _erp(systems), _psa(systems)
    crm.capabilities = CrmCapabilities(contacts=True)
    erp.capabilities = erp_capabilities().model_copy(update={"contacts": True})
    psa.capabilities = PsaCapabilities(contacts=True)
    crm.contacts[CONTACT] = Contact(
        contact_id=CONTACT,
        organization_id=ACCOUNT,
        role=ContactRole.BILLING,
        name="Ada Park",
        email="ada@northwind.example",
        phone="+1 617 555 0100",
    )
    return systems


def _crm(systems: Systems) -> FakeCrm:
    return systems.crm  # type: ignore[return-value]


def _erp(systems: Systems) -> FakeErp:
    return systems.erp  # type: ignore[return-value]


def _psa(systems: Systems) -> FakePsa:
    return systems.psa  # type: ignore[return-value]


def contact_changed(at: dt.datetime = NOW, contact: str = CONTACT) -> ContactChangedEvent:
    return new_event(
        ContactChangedEvent,
        {"contact_id": contact, "account_id": ACCOUNT, "role": "billing", "name": "Ada Park", "email": "a@b.example"},
        legal_entity="us-01",
        occurred_at=at,
    )


def crm_says(systems: Systems, **changes: object) -> None:
    crm = _crm(systems)
    crm.contacts[CONTACT] = crm.contacts[CONTACT].model_copy(update=changes)


def copy_in(systems: Systems, system: System) -> Contact:
    book = _erp(systems) if system is System.ERP else _psa(systems)
    return book.get_contact(systems.xref.records_of("contact", CONTACT_REF)[system])


def test_the_shipped_table_gives_the_contact_to_the_crm_and_its_role_to_the_erp() -> None:
    table = system_of_record()
    assert table.owner("contact") is System.CRM
    assert [table.owner("contact", f) for f in ("name", "email", "phone")] == [System.CRM] * 3
    assert table.owner("contact", "role") is System.ERP


def test_a_new_crm_contact_is_added_to_the_erp_customer_and_the_psa_client(world: Systems) -> None:
    synced = sync_contact(contact_changed(), world, NOW)

    assert synced.applied and synced.systems == {"erp": "written: email, name, phone, role"} | {
        "psa": "written: email, name, phone, role"
    }
    erp_copy, psa_copy = copy_in(world, System.ERP), copy_in(world, System.PSA)
    assert (erp_copy.organization_id, psa_copy.organization_id) == (ERP_CUSTOMER, PSA_CLIENT)
    for copy in (erp_copy, psa_copy):
        assert (copy.name, copy.email, copy.phone, copy.role) == (
            "Ada Park",
            "ada@northwind.example",
            "+1 617 555 0100",
            ContactRole.BILLING,
        )
    assert [e.action for e in world.xref.lineage("contact", CONTACT_REF)] == ["created", "created"]


def test_a_changed_email_reaches_both_copies(world: Systems) -> None:
    sync_contact(contact_changed(), world, NOW)
    crm_says(world, email="ada.park@northwind.example", name="Ada Park-Lee")

    synced = sync_contact(contact_changed(NOW + dt.timedelta(minutes=1)), world, NOW)

    assert synced.systems == {"erp": "written: email, name", "psa": "written: email, name"}
    assert copy_in(world, System.ERP).email == copy_in(world, System.PSA).email == "ada.park@northwind.example"
    assert not _bus(world)


def test_a_role_the_erp_owns_is_kept_and_the_crms_edit_raised_for_a_person(world: Systems) -> None:
    sync_contact(contact_changed(), world, NOW)
    crm_says(world, role=ContactRole.PROJECT, phone="+1 617 555 0199")

    synced = sync_contact(contact_changed(NOW + dt.timedelta(minutes=1)), world, NOW)

    # the phone the CRM owns is written, the role the ERP owns is not (in the ERP, nor the PSA)
    assert copy_in(world, System.ERP).role is copy_in(world, System.PSA).role is ContactRole.BILLING
    assert copy_in(world, System.ERP).phone == "+1 617 555 0199"
    assert synced.conflicts == ("erp.role", "psa.role")
    (exception,) = _bus(world)
    assert isinstance(exception, SyncExceptionRaisedEvent) and exception.id == synced.exception_event_id
    assert exception.data.flow == "contact_master" and exception.data.error_class is ErrorClass.CONFLICT
    assert exception.data.severity is Severity.HIGH
    assert "role is owned by the ERP: it holds 'billing', the CRM's 'project' was not applied" in exception.data.reason
    assert {(r.system, r.record_type) for r in exception.data.records} == {
        (System.CRM, "contact"),
        (System.ERP, "contact"),
        (System.PSA, "contact"),
    }


def test_an_older_change_after_a_newer_one_does_not_win(world: Systems) -> None:
    sync_contact(contact_changed(NOW), world, NOW)
    crm_says(world, email="older@northwind.example")

    synced = sync_contact(contact_changed(NOW - dt.timedelta(hours=1)), world, NOW)

    assert not synced.applied and synced.detail.startswith("stale")
    assert copy_in(world, System.ERP).email == "ada@northwind.example"


def test_an_echo_of_what_concord_wrote_reads_the_crm_only_and_writes_nothing(world: Systems) -> None:
    sync_contact(contact_changed(), world, NOW)
    writes = _erp(world).contact_writes, _psa(world).contact_writes
    # The ERP and PSA copies changed behind Concord's back: an echo does not even read them
    erp_copy = copy_in(world, System.ERP)
    _erp(world).contacts[erp_copy.contact_id] = erp_copy.model_copy(update={"name": "Someone Else"})

    synced = sync_contact(contact_changed(NOW + dt.timedelta(minutes=1)), world, NOW)

    assert synced.detail == "written: nothing (unchanged since last synced)"
    assert (_erp(world).contact_writes, _psa(world).contact_writes) == writes
    assert copy_in(world, System.ERP).name == "Someone Else"


def test_systems_behind_the_role_connectors_stand_in_are_synced(world: Systems) -> None:
    """A function's connectors are stand-ins connected on first use (aws.systems.RoleConnector)."""
    crm, erp, psa = world.crm, world.erp, world.psa
    proxied = dataclasses.replace(
        world, crm=RoleConnector(lambda: crm), erp=RoleConnector(lambda: erp), psa=RoleConnector(lambda: psa)
    )

    synced = sync_contact(contact_changed(), proxied, NOW)

    assert synced.applied and _erp(world).contacts and _psa(world).contacts


def test_a_system_declaring_contacts_without_the_methods_is_a_configuration_error(world: Systems) -> None:
    class Pretender:
        capabilities = erp_capabilities().model_copy(update={"contacts": True})

    with pytest.raises(ConfigurationError, match="declares contacts but its connector keeps none"):
        sync_contact(contact_changed(), dataclasses.replace(world, erp=Pretender()), NOW)


def test_a_system_without_contacts_is_not_applicable_and_the_other_is_written(world: Systems) -> None:
    _erp(world).capabilities = erp_capabilities()

    synced = sync_contact(contact_changed(), world, NOW)

    assert synced.systems["erp"] == "not applicable: the ERP keeps no contacts of its own"
    assert synced.systems["psa"] == "written: email, name, phone, role"
    assert System.ERP not in world.xref.records_of("contact", CONTACT_REF)


def test_a_psa_whose_clients_are_the_crm_accounts_is_not_written(world: Systems) -> None:
    _psa(world).capabilities = PsaCapabilities(contacts=True, clients_are_crm_accounts=True)

    synced = sync_contact(contact_changed(), world, NOW)

    assert synced.systems["psa"].startswith("not applicable") and not _psa(world).contacts


def test_a_contact_of_an_account_without_a_customer_waits_for_its_first_won_deal(world: Systems) -> None:
    crm_says(world, organization_id="8")

    synced = sync_contact(contact_changed(), world, NOW)

    assert not synced.applied
    assert synced.systems["erp"] == "not a customer there yet: it becomes one at the account's first won deal"
    assert not _erp(world).contacts and not _psa(world).contacts


def test_a_crm_without_contacts_is_a_configuration_error(world: Systems) -> None:
    _crm(world).capabilities = CrmCapabilities()
    with pytest.raises(ConfigurationError, match="keeps no contacts"):
        sync_contact(contact_changed(), world, NOW)


def test_a_batch_syncs_each_contact_once_for_its_newest_change(world: Systems) -> None:
    older, newer = contact_changed(NOW - dt.timedelta(minutes=5)), contact_changed(NOW)
    outcomes = sync_contacts([("m1", newer), ("m2", older)], world, NOW)

    assert outcomes["m1"].applied  # type: ignore[union-attr]
    assert outcomes["m2"].detail == f"superseded by the newer change {newer.id}"  # type: ignore[union-attr]
    assert world.xref.applied_version("contact", CONTACT_REF) == NOW


def _bus(systems: Systems) -> list[object]:
    return systems.bus.published  # type: ignore[attr-defined,no-any-return]
