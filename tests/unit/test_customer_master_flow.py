"""The customer master under system-of-record rules, against in-memory systems (the world:
sync_world.py): the shipped table, then account changes reaching the ERP and the PSA."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from concord.domain import (
    PsaCapabilities,
)
from concord.events import new_event
from concord.events.envelope import (
    AccountChangedEvent,
    SyncExceptionRaisedEvent,
)
from concord.events.types import ErrorClass, System
from concord.ownership import SystemOfRecord, decide_fields, load_system_of_record
from concord.sync.customer_master import sync_customer
from concord.sync.systems import Systems

from . import sync_world
from .fakes import (
    FakeErp,
    system_of_record,
)
from .sync_world import (
    ACCOUNT,
    ADDRESS,
    CUSTOMER_REF,
    ERP_CUSTOMER,
    NOW,
    PSA_CLIENT,
    account_changed,
    crm_says,
)

systems = sync_world.systems  # the fixture: a deal quote-to-cash turned into an ERP customer and a PSA project


# --- system of record -------------------------------------------------------------------------


def test_the_shipped_table_names_an_authority_for_every_object() -> None:
    table = system_of_record()
    assert table.owner("customer") is System.CRM
    assert table.owner("customer", "tax_id") is System.ERP
    assert table.owner("invoice") is System.ERP
    assert table.owner("time_entry") is System.PSA


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"customer": {"authority": "concord"}}, "no object's authority"),
        ({"gadget": {"authority": "crm"}}, "unknown object types"),
        ({"customer": {"authority": "crm", "fields": {"name": "concord"}}}, "owns no field"),
    ],
)
def test_a_broken_table_is_refused_with_its_reason(change: dict, message: str) -> None:
    shipped = system_of_record().model_dump(mode="json", by_alias=True)
    with pytest.raises(ValidationError, match=message):
        load_system_of_record({**shipped, "objects": {**shipped["objects"], **change}})


def test_a_table_missing_an_object_is_refused() -> None:
    shipped = system_of_record().model_dump(mode="json", by_alias=True)
    del shipped["objects"]["invoice"]
    with pytest.raises(ValidationError, match="no authority named for"):
        SystemOfRecord.model_validate(shipped)


def test_owners_write_empty_fields_fill_and_foreign_values_conflict() -> None:
    decision = decide_fields(
        system_of_record(),
        "customer",
        System.CRM,
        incoming={"name": "Northwind Ltd", "tax_id": "99-0000000", "currency": "USD", "billing_address": None},
        current={"name": "Northwind", "tax_id": "12-3456789", "currency": "USD", "billing_address": ADDRESS},
    )
    assert decision.write == {"name": "Northwind Ltd"}
    assert decision.conflicts == {"tax_id": ("12-3456789", "99-0000000")}
    assert set(decision.unchanged) == {"currency", "billing_address"}
    filled = decide_fields(system_of_record(), "customer", System.CRM, {"tax_id": "99-0000000"}, {"tax_id": ""})
    assert filled.write == {"tax_id": "99-0000000"} and not filled.conflicts


# --- customer master --------------------------------------------------------------------------


def account_changed_again(exception: SyncExceptionRaisedEvent) -> AccountChangedEvent:
    """The event that caused `exception`, delivered once more (same id)."""
    return new_event(
        AccountChangedEvent,
        {"account_id": ACCOUNT, "name": "Northwind Advisory", "tax_id": "98-7654321"},
        legal_entity="us-01",
        occurred_at=NOW,
        event_id=exception.data.caused_by_event_id,
    )


def test_a_renamed_account_renames_the_erp_customer_and_psa_client(systems: Systems) -> None:
    crm_says(systems, name="Northwind Advisory")
    outcome = sync_customer(account_changed("Northwind Advisory"), systems, NOW)
    assert outcome.written == ("name",) and not outcome.conflicts
    assert systems.erp.customers[ERP_CUSTOMER].name == "Northwind Advisory"  # type: ignore[attr-defined]
    assert systems.psa.clients[PSA_CLIENT] == "Northwind Advisory"  # type: ignore[attr-defined]


def test_a_psa_whose_clients_are_the_crm_accounts_is_not_written(systems: Systems) -> None:
    systems.psa.capabilities = PsaCapabilities(clients_are_crm_accounts=True)  # type: ignore[misc]
    crm_says(systems, name="Northwind Advisory")
    outcome = sync_customer(account_changed("Northwind Advisory"), systems, NOW)
    assert outcome.written == ("name",)
    assert systems.psa.clients[PSA_CLIENT] == "Northwind"  # type: ignore[attr-defined]
    assert all(e.system != System.PSA for e in systems.xref.lineage("customer", CUSTOMER_REF))


def test_a_tax_id_owned_by_the_erp_is_not_overwritten_and_the_conflict_is_reported(systems: Systems) -> None:
    crm_says(systems, name="Northwind Advisory", tax_id="98-7654321")
    outcome = sync_customer(account_changed("Northwind Advisory", tax_id="98-7654321"), systems, NOW)
    assert outcome.conflicts == ("tax_id",) and outcome.written == ("name",)
    assert systems.erp.customers[ERP_CUSTOMER].tax_id == "12-3456789"  # type: ignore[attr-defined]
    (exception,) = systems.bus.published  # type: ignore[attr-defined]
    assert isinstance(exception, SyncExceptionRaisedEvent)
    assert exception.data.error_class is ErrorClass.CONFLICT and "98-7654321" in exception.data.reason
    # the same event redelivered reports under the same id: one exception on the bus, not two
    again = sync_customer(account_changed_again(exception), systems, NOW)
    assert again.exception_event_id == exception.id


def test_an_older_change_after_a_newer_one_does_not_win(systems: Systems) -> None:
    crm_says(systems, name="Newer Name")
    sync_customer(account_changed("Newer Name", at=NOW), systems, NOW)
    erp: FakeErp = systems.erp  # type: ignore[assignment]
    writes = len(erp.updates)
    outcome = sync_customer(account_changed("Older Name", at=NOW - dt.timedelta(minutes=5)), systems, NOW)
    assert not outcome.applied and outcome.detail.startswith("stale")
    assert len(erp.updates) == writes and erp.customers[ERP_CUSTOMER].name == "Newer Name"


def test_an_echo_of_what_concord_wrote_writes_nothing(systems: Systems) -> None:
    outcome = sync_customer(account_changed(), systems, NOW)
    assert not outcome.applied and systems.erp.updates == []  # type: ignore[attr-defined]


def test_an_account_that_never_won_a_deal_is_not_pushed_to_the_erp(systems: Systems) -> None:
    outcome = sync_customer(account_changed(account="8"), systems, NOW)
    assert not outcome.applied and "first won deal" in outcome.detail
