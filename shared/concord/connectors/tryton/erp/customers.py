"""ErpCustomers over Tryton: customers are parties (party.party) with addresses
(party.address) and identifiers (party.identifier). Module docs:
https://docs.tryton.org/modules-party/, https://docs.tryton.org/modules-account-invoice/
"""

from __future__ import annotations

import logging
from typing import Any

from concord.domain import Customer, CustomerUpdate, ErpCustomer
from concord.errors import ValidationFailed
from concord.events.types import Address
from concord.ports import ErpCustomers

from .. import lookups, mapping, names
from ..names import CONCORD_REF, Model
from ..rpc import TrytonPermanentError
from .session import ErpSession

logger = logging.getLogger(__name__)


class TrytonErpCustomers(ErpSession, ErpCustomers):
    """Customer master data in the `erp` database."""

    def find_customer(self, *, tax_id: str | None, name: str) -> ErpCustomer | None:
        """By tax identifier, else by exact name (natural keys), archived parties included.
        Several matches for the tax id or the name raise AmbiguousMatch: a person has to pick."""
        # https://docs.tryton.org/modules-party/design.html#party
        candidates: list[dict[str, Any]] = []
        if tax_id and tax_id.strip():
            candidates = lookups.parties_by_tax_id(self.client, tax_id, active_test=False)
        if not candidates:
            candidates = lookups.search_read(
                self.client,
                Model.PARTY,
                [["name", "=", name]],
                ["name", CONCORD_REF],
                order=[("id", "ASC")],
                active_test=False,
            )
        if not candidates:
            return None
        if len(candidates) > 1:
            raise names.AmbiguousMatch(
                f"{len(candidates)} ERP parties match customer {name!r} (tax id {tax_id!r}): "
                f"{[c['id'] for c in candidates]}"
            )
        return self._erp_customer(candidates[0])

    def upsert_customer(self, customer: Customer, external_ref: str, customer_id: str | None) -> ErpCustomer:
        """Update the party `customer_id`, or create the customer when it is None.

        A create stores external_ref as the party's concord_ref (unique), and finds the party
        an earlier call created with it instead of creating a second one (a retry after a
        crash): that party is updated. An update links a party without a concord_ref to
        external_ref; one linked to another ref keeps it. Archived parties are reactivated.
        Writes name, the invoice (else first) address, and adds the tax identifier if the
        party lacks it; other addresses and identifiers are left alone. The region is kept
        only when it names a subdivision seeded in Tryton. A second call with the same data
        writes nothing.
        """
        party: dict[str, Any] | None
        if customer_id is not None:
            party = lookups.read_one(
                self.client,
                Model.PARTY,
                names.record_id(customer_id, "customer"),
                ["name", CONCORD_REF, "active"],
                "customer",
            )
        else:
            party = self._by_ref(external_ref)
            if party is None:
                return self._create_customer(customer, external_ref)
        party_id = int(party["id"])
        ref = party.get(CONCORD_REF) or (None if self._by_ref(external_ref) else external_ref)
        values = mapping.to_tryton_party_values(customer, ref)
        if "active" in party and not party["active"]:
            # An archived party's fields are read-only (DeactivableMixin states): revive first.
            self.client.write(Model.PARTY, [party_id], {"active": True})
            party = {**party, "active": True}
        if any(party.get(k) != v for k, v in values.items()):
            # https://docs.tryton.org/server/ref/models.html#trytond.model.ModelStorage.write
            self.client.write(Model.PARTY, [party_id], values)
        if customer.billing_address:
            self._update_address(party_id, customer.billing_address)
        if customer.tax_id and not self._has_identifier(party_id, customer.tax_id):
            country = customer.billing_address.country if customer.billing_address else None
            self._create_identifier(party_id, customer.tax_id, country)
        return self._erp_customer({**party, **values})

    def deactivate_customer(self, customer_id: str, reason: str) -> None:
        """Archive the party (active = False) and attach the reason as an ir.note
        ("Concord deactivated this customer: <reason> (<time>)"). Idempotent."""
        party_id = names.record_id(customer_id, "customer")
        party = lookups.read_one(self.client, Model.PARTY, party_id, ["active"], "customer")
        if party["active"]:
            self.client.write(Model.PARTY, [party_id], {"active": False})
        target = lookups.resource(Model.PARTY, party_id)
        message = f"{names.DEACTIVATION_NOTE}{reason.strip()}"
        latest = lookups.latest_note(self.client, target, names.DEACTIVATION_NOTE)
        if not (latest and latest.startswith(f"{message} (")):
            lookups.add_note(self.client, target, f"{message} ({names.stamp()})")

    def set_payment_term(self, customer_id: str, payment_term: str) -> None:
        """Set the party's customer payment term, found by its exact name (e.g. "Net 30 days");
        an unknown name is a ValidationFailed (permanent)."""
        party_id = names.record_id(customer_id, "customer")
        party = lookups.read_one(self.client, Model.PARTY, party_id, ["customer_payment_term"], "customer")
        # https://docs.tryton.org/modules-account-invoice/design.html#payment-term
        terms = lookups.search_read(self.client, Model.PAYMENT_TERM, [["name", "=", payment_term]], ["id"])
        if not terms:
            raise ValidationFailed(f"no payment term named {payment_term!r} in the ERP")
        if len(terms) > 1:
            raise names.AmbiguousMatch(f"{len(terms)} ERP payment terms named {payment_term!r}")
        if party["customer_payment_term"] != terms[0]["id"]:
            self.client.write(Model.PARTY, [party_id], {"customer_payment_term": terms[0]["id"]})

    def get_customer(self, customer_id: str) -> ErpCustomer:
        """The party (archived ones too) with its invoice (else first) address, its tax
        identifier, and its customer currency, else the company's."""
        party_id = names.record_id(customer_id, "customer")
        party = lookups.read_one(
            self.client, Model.PARTY, party_id, ["name", CONCORD_REF, "customer_currency.code"], "customer"
        )
        addresses = lookups.party_addresses(self.client, party_id)
        tax_id = lookups.party_identifiers(self.client, [party_id]).get(party_id)
        return mapping.to_erp_customer(
            party, tax_id, addresses[0] if addresses else None, self.customer_currency(party)
        )

    def update_customer(self, customer_id: str, changes: CustomerUpdate) -> None:
        """Write the fields `changes` sets, only those that differ (a repeat writes nothing).

        name: the party's; currency: its customer currency; billing_address: its invoice
        (else first) address, as upsert_customer; tax_id: REPLACES its tax identifier (the
        one get_customer reports: the first typed one, else the first untyped), kept untyped
        when Tryton cannot validate it, created when it has none.
        """
        party_id = names.record_id(customer_id, "customer")
        party = lookups.read_one(self.client, Model.PARTY, party_id, ["name", "customer_currency.code"], "customer")
        values: dict[str, Any] = {}
        if changes.name is not None and changes.name != party["name"]:
            values["name"] = changes.name
        if changes.currency is not None and changes.currency != self.customer_currency(party):
            values["customer_currency"] = self.currency_id(changes.currency)
        if values:
            self.client.write(Model.PARTY, [party_id], values)
        country = None
        if changes.billing_address is not None:
            self._update_address(party_id, changes.billing_address)
            country = changes.billing_address.country
        if changes.tax_id is not None and changes.tax_id.strip():
            self._replace_tax_id(party_id, changes.tax_id, country)

    def customer_currency(self, party: dict[str, Any]) -> str:
        return (party.get("customer_currency.") or {}).get("code") or self.company_currency()[0]

    def _replace_tax_id(self, party_id: int, tax_id: str, country: str | None) -> None:
        rows = lookups.search_read(
            self.client,
            Model.IDENTIFIER,
            [["party", "=", party_id]],
            ["type", "code"],
            order=[("sequence", "ASC"), ("id", "ASC")],
        )
        current_code = lookups.party_identifiers(self.client, [party_id]).get(party_id)
        current = next((r for r in rows if r["code"] == current_code), None)
        matching = {
            r["id"]
            for r in lookups.search_read(
                self.client, Model.IDENTIFIER, [["party", "=", party_id], *mapping.identifier_domain(tax_id)], ["id"]
            )
        }
        if current is not None and current["id"] in matching:
            return
        if country is None:
            addresses = lookups.party_addresses(self.client, party_id)
            country = (addresses[0].get("country.") or {}).get("code") if addresses else None
        if current is None:
            self._create_identifier(party_id, tax_id, country)
        elif matching:
            # The new id is already one of its identifiers: drop the old tax identifier.
            self.client.call(f"model.{Model.IDENTIFIER}.delete", [current["id"]])
        else:

            def write(typed: bool) -> int:
                values = mapping.to_tryton_identifier_values(None, tax_id, country, typed=typed)
                self.client.write(Model.IDENTIFIER, [current["id"]], values)
                return int(current["id"])

            self._typed_or_plain(write, tax_id, country)

    def _by_ref(self, external_ref: str) -> dict[str, Any] | None:
        rows = lookups.search_read(
            self.client,
            Model.PARTY,
            [[CONCORD_REF, "=", external_ref]],
            ["name", CONCORD_REF, "active"],
            order=[("id", "ASC")],
            active_test=False,
        )
        if len(rows) > 1:
            raise names.AmbiguousMatch(
                f"{len(rows)} ERP parties have concord_ref {external_ref!r}: {[r['id'] for r in rows]}"
            )
        return rows[0] if rows else None

    def _erp_customer(self, party: dict[str, Any]) -> ErpCustomer:
        tax_id = lookups.party_identifiers(self.client, [int(party["id"])]).get(int(party["id"]))
        return mapping.to_erp_customer(party, tax_id)

    def _create_customer(self, customer: Customer, external_ref: str) -> ErpCustomer:
        values = mapping.to_tryton_party_values(customer, external_ref)
        if customer.billing_address:
            values["addresses"] = [["create", [self._address_values(customer.billing_address)]]]
        country = customer.billing_address.country if customer.billing_address else None

        def create(typed: bool) -> int:
            if customer.tax_id:
                values["identifiers"] = [
                    ["create", [mapping.to_tryton_identifier_values(None, customer.tax_id, country, typed=typed)]]
                ]
            (party_id,) = self.client.create(Model.PARTY, [values])
            return int(party_id)

        try:
            party_id = self._typed_or_plain(create, customer.tax_id, country)
        except TrytonPermanentError:
            # concord_ref is unique: a concurrent upsert of the same customer won the race.
            if party := self._by_ref(external_ref):
                return self._erp_customer(party)
            raise
        logger.info("tryton erp created customer id=%s concord_ref=%s", party_id, external_ref)
        return mapping.to_erp_customer(
            {"id": party_id, **values}, lookups.party_identifiers(self.client, [party_id]).get(party_id)
        )

    def _create_identifier(self, party_id: int, tax_id: str, country: str | None) -> None:
        def create(typed: bool) -> int:
            values = mapping.to_tryton_identifier_values(party_id, tax_id, country, typed=typed)
            return int(self.client.create(Model.IDENTIFIER, [values])[0])

        self._typed_or_plain(create, tax_id, country)

    @staticmethod
    def _typed_or_plain(create: Any, tax_id: str | None, country: str | None) -> int:
        """Create with a typed identifier; if Tryton refuses it (a UserError: python-stdnum
        finds the number invalid for that type), store the number without a type instead."""
        if not (tax_id and mapping.tax_identifier_type(tax_id, country)):
            return int(create(False))
        try:
            return int(create(True))
        except TrytonPermanentError as exc:
            if exc.kind != "UserError":
                raise
            logger.warning("tryton erp stores tax id %r untyped: %s", tax_id, exc)
            return int(create(False))

    def _has_identifier(self, party_id: int, tax_id: str) -> bool:
        return bool(
            lookups.search_read(
                self.client,
                Model.IDENTIFIER,
                [["party", "=", party_id], *mapping.identifier_domain(tax_id)],
                ["id"],
                limit=1,
            )
        )

    def _update_address(self, party_id: int, address: Address) -> None:
        rows = lookups.party_addresses(self.client, party_id)
        if not rows:
            self.client.create(Model.ADDRESS, [{"party": party_id, **self._address_values(address)}])
        elif mapping.address_differs(rows[0], address):
            self.client.write(Model.ADDRESS, [rows[0]["id"]], self._address_values(address))

    def _address_values(self, address: Address) -> dict[str, Any]:
        countries = lookups.search_read(self.client, Model.COUNTRY, [["code", "=", address.country]], ["id"], limit=1)
        if not countries:
            raise ValidationFailed(f"country {address.country!r} does not exist in the ERP")
        subdivision = None
        if address.region:
            rows = lookups.search_read(
                self.client,
                Model.SUBDIVISION,
                [
                    ["country", "=", countries[0]["id"]],
                    ["OR", ["code", "=", f"{address.country}-{address.region}"], ["name", "=", address.region]],
                ],
                ["id"],
                limit=1,
            )
            subdivision = rows[0]["id"] if rows else None
        return mapping.to_tryton_address_values(address, countries[0]["id"], subdivision)
