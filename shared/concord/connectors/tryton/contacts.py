"""The people of a party in Tryton: a CRM account's contacts, an ERP customer's, a PSA client's.

Tryton 8.2 (without party_relationship, which no database activates) keeps no contact person
as a record of its own: a person is the party's contact mechanisms that carry their name
(party.contact_mechanism `name`; https://docs.tryton.org/modules-party/design.html#contact-mechanism).
Concord reads a contact as:

- its email mechanism (type `email`, `name` = the person): the contact's id is that mechanism's;
- its phone: a `phone` or `mobile` mechanism of the same party with the same name;
- its role: billing when the email mechanism has the `invoice` usage (a Boolean account_invoice
  adds, active in all three databases: where the party's invoices are sent), project otherwise.

Renaming a person in Tryton's form means renaming each of their mechanisms; Concord renames both.
"""

from __future__ import annotations

from typing import Any

from concord.domain import Contact, ContactDetails, ContactUpdate
from concord.events.payloads import ContactRole

from . import lookups, names
from .names import Model
from .rpc import TrytonRpcClient

PHONE_TYPES = ["phone", "mobile"]
EMAIL_FIELDS = ["name", "value", "party", "invoice"]


class TrytonContacts:
    """ports.CrmContacts and ports.ContactBook over the connector's `client` (mixed into
    TrytonCrm, TrytonErp and TrytonPsa)."""

    client: TrytonRpcClient

    def get_contact(self, contact_id: str) -> Contact:
        email = _email_mechanism(self.client, contact_id)
        phone = _phone_mechanism(self.client, email["party"], email["name"])
        return Contact(
            contact_id=str(email["id"]),
            organization_id=str(email["party"]),
            role=ContactRole.BILLING if email.get("invoice") else ContactRole.PROJECT,
            name=email["name"],
            email=email["value"],
            phone=phone["value"] if phone else None,
        )

    def create_contact(self, organization_id: str, details: ContactDetails) -> str:
        """The person's email (and phone) mechanisms on the party, in one call; a person whose
        email the party already has is that mechanism (a retried create adds nobody twice)."""
        party_id = names.record_id(organization_id, "party")
        # https://docs.tryton.org/server/ref/models.html#trytond.model.ModelStorage.search_read
        existing = lookups.search_read(
            self.client,
            Model.CONTACT_MECHANISM,
            [["party", "=", party_id], ["type", "=", "email"], ["value", "=", details.email]],
            ["id"],
            limit=1,
        )
        if existing:
            return str(existing[0]["id"])
        mechanisms: list[dict[str, Any]] = [
            {
                "party": party_id,
                "type": "email",
                "value": details.email,
                "name": details.name,
                "invoice": details.role is ContactRole.BILLING,
            }
        ]
        if details.phone:
            mechanisms.append({"party": party_id, "type": "phone", "value": details.phone, "name": details.name})
        # https://docs.tryton.org/server/ref/models.html#trytond.model.ModelStorage.create
        return str(self.client.create(Model.CONTACT_MECHANISM, mechanisms)[0])

    def update_contact(self, contact_id: str, changes: ContactUpdate) -> None:
        email = _email_mechanism(self.client, contact_id)
        values: dict[str, Any] = {}
        if changes.email is not None:
            values["value"] = changes.email
        if changes.name is not None:
            values["name"] = changes.name
        if changes.role is not None:
            values["invoice"] = changes.role is ContactRole.BILLING
        if values:
            # https://docs.tryton.org/server/ref/models.html#trytond.model.ModelStorage.write
            self.client.write(Model.CONTACT_MECHANISM, [email["id"]], values)
        if changes.name is None and changes.phone is None:
            return
        phone = _phone_mechanism(self.client, email["party"], email["name"])
        phone_values = {k: v for k, v in (("name", changes.name), ("value", changes.phone)) if v is not None}
        if phone:
            self.client.write(Model.CONTACT_MECHANISM, [phone["id"]], phone_values)
        elif changes.phone is not None:
            name = changes.name or email["name"]
            self.client.create(
                Model.CONTACT_MECHANISM,
                [{"party": email["party"], "type": "phone", "value": changes.phone, "name": name}],
            )


def _email_mechanism(client: TrytonRpcClient, contact_id: str) -> lookups.Row:
    id_ = names.record_id(contact_id, "contact")
    return lookups.read_one(client, Model.CONTACT_MECHANISM, id_, EMAIL_FIELDS, "contact", [["type", "=", "email"]])


def _phone_mechanism(client: TrytonRpcClient, party_id: int, name: str | None) -> lookups.Row | None:
    if not name:
        return None
    rows = lookups.search_read(
        client,
        Model.CONTACT_MECHANISM,
        [["party", "=", party_id], ["type", "in", PHONE_TYPES], ["name", "=", name]],
        ["id", "value"],
        order=[("id", "ASC")],
        limit=1,
    )
    return rows[0] if rows else None
