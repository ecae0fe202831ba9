"""The people a fake system keeps (FakeCrm's accounts', FakeErp's customers', FakePsa's clients'):
the contacts capability (ports.CrmContacts, ports.ContactBook) in memory."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from concord.domain import Contact, ContactDetails, ContactUpdate
from concord.errors import PermanentError

_ids = itertools.count(500)


class ContactNotFound(PermanentError):
    pass


@dataclass
class FakeContacts:
    contacts: dict[str, Contact] = field(default_factory=dict)
    contact_writes: int = 0

    def get_contact(self, contact_id: str) -> Contact:
        if contact_id not in self.contacts:
            raise ContactNotFound(f"no contact {contact_id}")
        return self.contacts[contact_id]

    def create_contact(self, organization_id: str, details: ContactDetails) -> str:
        """A person with that email already at the organization is returned, not added twice."""
        for contact in self.contacts.values():
            if contact.organization_id == organization_id and contact.email == details.email:
                return contact.contact_id
        contact_id = f"contact-{next(_ids)}"
        self.contacts[contact_id] = Contact(
            contact_id=contact_id, organization_id=organization_id, **details.model_dump()
        )
        self.contact_writes += 1
        return contact_id

    def update_contact(self, contact_id: str, changes: ContactUpdate) -> None:
        self.contacts[contact_id] = self.get_contact(contact_id).model_copy(
            update=changes.model_dump(exclude_none=True)
        )
        self.contact_writes += 1
