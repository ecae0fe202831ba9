"""Parties (CRM accounts): concord_ref, and AccountChanged on create or relevant change;
their named contact mechanisms (the account's people): ContactChanged."""

from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from . import push
from .common import ConcordRefMixin
from .events import ACCOUNT_FIELDS, CONTACT_FIELDS, PARTY_FIELDS, contact_fields_changed


class Party(ConcordRefMixin, metaclass=PoolMeta):
    __name__ = "party.party"

    @classmethod
    def on_modification(cls, mode, parties, field_names=None):
        super().on_modification(mode, parties, field_names=field_names)
        if mode == "create":
            changed = ACCOUNT_FIELDS
        elif mode == "write":
            changed = sorted({PARTY_FIELDS[f] for f in field_names or () if f in PARTY_FIELDS})
        else:
            return
        if changed:
            for party in parties:
                push.enqueue("AccountChanged", party.id, changed)


class Address(metaclass=PoolMeta):
    __name__ = "party.address"

    @classmethod
    def on_modification(cls, mode, addresses, field_names=None):
        super().on_modification(mode, addresses, field_names=field_names)
        for address in addresses:
            push.enqueue("AccountChanged", address.party.id, ["billing_address"])


class Identifier(metaclass=PoolMeta):
    __name__ = "party.identifier"

    @classmethod
    def on_modification(cls, mode, identifiers, field_names=None):
        super().on_modification(mode, identifiers, field_names=field_names)
        for identifier in identifiers:
            push.enqueue("AccountChanged", identifier.party.id, ["tax_id"])


class ContactMechanism(metaclass=PoolMeta):
    "A person is the party's mechanisms named after them; their email mechanism is the contact."

    __name__ = "party.contact_mechanism"

    @classmethod
    def on_modification(cls, mode, mechanisms, field_names=None):
        super().on_modification(mode, mechanisms, field_names=field_names)
        if mode not in {"create", "write"} or not push.enabled("ContactChanged"):
            return
        for mechanism in mechanisms:
            if mode == "create":
                changed = (
                    CONTACT_FIELDS if mechanism.type == "email" else contact_fields_changed(mechanism.type, ["value"])
                )
            else:
                changed = contact_fields_changed(mechanism.type, field_names or ())
            email = _email_of(mechanism) if changed else None
            if email is not None:
                push.enqueue("ContactChanged", email.id, changed)


def _email_of(mechanism):
    "The email mechanism of the person `mechanism` belongs to (None: it names nobody)."
    if not mechanism.name:
        return None
    if mechanism.type == "email":
        return mechanism
    with Transaction().set_context(active_test=False):
        emails = (
            Pool()
            .get("party.contact_mechanism")
            .search(
                [("party", "=", mechanism.party.id), ("type", "=", "email"), ("name", "=", mechanism.name)],
                order=[("id", "ASC")],
                limit=1,
            )
        )
    return emails[0] if emails else None
