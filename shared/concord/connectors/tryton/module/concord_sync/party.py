"""Parties (CRM accounts): concord_ref, and AccountChanged on create or relevant change."""

from trytond.pool import PoolMeta

from . import push
from .common import ConcordRefMixin
from .events import ACCOUNT_FIELDS, PARTY_FIELDS


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
