"""The people of a party in real Tryton 8.2 (connectors/tryton/contacts.py): an ERP customer's and
a PSA client's contacts created, read and changed through the connectors, and a CRM account's
contact read as the person's email and phone mechanisms."""

from __future__ import annotations

import uuid

import pytest

from concord.connectors.tryton import TrytonCrm, TrytonErp, TrytonPsa
from concord.domain import ContactDetails, ContactUpdate
from concord.events.payloads import ContactRole

from .records import Connect

CONNECTORS = {"erp": TrytonErp, "psa": TrytonPsa}


def _party(tryton_client: Connect, database: str) -> int:
    (party_id,) = tryton_client(database).create("party.party", [{"name": f"Contoso {uuid.uuid4().hex[:6]}"}])
    return int(party_id)


@pytest.mark.parametrize("database", sorted(CONNECTORS))
def test_a_contact_is_created_read_and_changed_field_by_field(tryton_client: Connect, database: str) -> None:
    party_id = _party(tryton_client, database)
    book = CONNECTORS[database](tryton_client(database, concord=True))
    details = ContactDetails(
        role=ContactRole.BILLING, name="Ada Park", email="ada@contoso.example", phone="+1 555 0100"
    )

    contact_id = book.create_contact(str(party_id), details)

    contact = book.get_contact(contact_id)
    assert contact.organization_id == str(party_id)
    assert ContactDetails.model_validate(contact.model_dump(include=set(ContactDetails.model_fields))) == details
    # a retried create finds the person by email instead of adding them twice
    assert book.create_contact(str(party_id), details) == contact_id

    # When the name, email and role change (and the phone stays)
    book.update_contact(
        contact_id, ContactUpdate(name="Ada Park-Lee", email="ada.lee@contoso.example", role=ContactRole.PROJECT)
    )
    changed = book.get_contact(contact_id)
    assert (changed.name, changed.email, changed.role, changed.phone) == (
        "Ada Park-Lee",
        "ada.lee@contoso.example",
        ContactRole.PROJECT,
        "+1 555 0100",  # the phone mechanism was renamed with the person, so it is still theirs
    )
    # And when only the phone changes, it is the one written
    book.update_contact(contact_id, ContactUpdate(phone="+1 555 0199"))
    assert book.get_contact(contact_id).phone == "+1 555 0199"
    mechanisms = tryton_client(database).search_read(
        "party.contact_mechanism", [["party", "=", party_id]], ["type", "name", "value", "invoice"]
    )
    assert sorted((m["type"], m["name"], m["value"]) for m in mechanisms) == [
        ("email", "Ada Park-Lee", "ada.lee@contoso.example"),
        ("phone", "Ada Park-Lee", "+1 555 0199"),
    ]


def test_a_person_without_a_phone_gets_one_added(tryton_client: Connect) -> None:
    party_id = _party(tryton_client, "erp")
    erp = TrytonErp(tryton_client("erp", concord=True))
    contact_id = erp.create_contact(
        str(party_id), ContactDetails(role=ContactRole.PROJECT, name="Bo Lind", email="bo@contoso.example")
    )
    assert erp.get_contact(contact_id).phone is None

    erp.update_contact(contact_id, ContactUpdate(phone="+46 8 555 0100"))

    assert erp.get_contact(contact_id).phone == "+46 8 555 0100"


def test_a_crm_contact_is_the_persons_email_and_phone_and_its_role_the_invoice_usage(tryton_client: Connect) -> None:
    crm_client = tryton_client("crm")
    party_id = _party(tryton_client, "crm")
    email_id, _, _ = crm_client.create(
        "party.contact_mechanism",
        [
            {"party": party_id, "type": "email", "value": "cy@contoso.example", "name": "Cy Moss", "invoice": True},
            {"party": party_id, "type": "mobile", "value": "+1 555 0142", "name": "Cy Moss"},
            # the switchboard names nobody: not this person's phone
            {"party": party_id, "type": "phone", "value": "+1 555 0000"},
        ],
    )

    contact = TrytonCrm(tryton_client("crm", concord=True), legal_entity="us-01").get_contact(str(email_id))

    assert contact.model_dump(mode="json") == {
        "contact_id": str(email_id),
        "organization_id": str(party_id),
        "role": "billing",
        "name": "Cy Moss",
        "email": "cy@contoso.example",
        "phone": "+1 555 0142",
    }
