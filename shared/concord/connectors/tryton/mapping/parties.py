"""Parties: party.party, party.address and party.identifier as Customer (CRM) and ErpCustomer
(ERP), and the values Concord writes to them.

Tryton documentation: https://docs.tryton.org/modules-party/
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from concord.domain import Customer, ErpCustomer
from concord.events.types import Address, joined_lines

from ..names import CONCORD_REF
from .rows import validated

_TAX_ID_NOISE = re.compile(r"[\s.\-/]")
# Two-letter VAT prefixes of the EU (Greece uses EL), handled by Tryton's `eu_vat` type.
_EU_VAT_PREFIXES = frozenset("AT BE BG CY CZ DE DK EE EL ES FI FR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split())
_TAX_TYPE_BY_COUNTRY = {"US": "us_ein", "CA": "ca_bn", "GB": "gb_vat"}


def compact_tax_id(tax_id: str) -> str:
    """Upper case, without spaces, dots, dashes or slashes: "de 123.456-789" -> "DE123456789"."""
    return _TAX_ID_NOISE.sub("", tax_id).upper()


def identifier_domain(tax_id: str) -> list[Any]:
    """party.identifier records holding this tax id, however Tryton stored it.

    Tryton keeps the code as typed (formatted by python-stdnum for typed identifiers) and a
    `code_compact`; stdnum's compact form keeps the country prefix for EU VAT numbers
    ("DE123456789") but drops it for national VAT types ("GB980780684" -> "980780684" as
    gb_vat), so the prefix-less form only matches an identifier of that country's VAT type.
    """
    compact = compact_tax_id(tax_id)
    clauses: list[Any] = ["OR", ["code", "=", tax_id.strip()], ["code_compact", "=", compact]]
    if len(compact) > 2 and compact[:2].isalpha():
        clauses.append([["code_compact", "=", compact[2:]], ["type", "=", f"{compact[:2].lower()}_vat"]])
    return [clauses]


def tax_identifier_type(tax_id: str, country: str | None) -> str | None:
    """The party.identifier type Tryton validates this tax id as, if Concord can tell."""
    prefix = compact_tax_id(tax_id)[:2]
    if prefix in _EU_VAT_PREFIXES:
        return "eu_vat"
    if prefix == "GB":
        return "gb_vat"
    return _TAX_TYPE_BY_COUNTRY.get(country or "")


def to_address(row: Mapping[str, Any] | None) -> Address | None:
    """A party.address as a canonical Address; None when it lacks street, city or country
    (the canonical address needs all three, Tryton requires none of them)."""
    if not row:
        return None
    street = joined_lines(row.get("street") or "")
    country = (row.get("country.") or {}).get("code")
    if not (street and row.get("city") and country):
        return None
    subdivision = (row.get("subdivision.") or {}).get("code") or ""
    region = subdivision.split("-", 1)[1] if subdivision.startswith(f"{country}-") else subdivision
    return validated(
        Address,
        "address",
        street=street,
        city=row["city"],
        postal_code=row.get("postal_code") or "",
        region=region,
        country=country,
    )


def to_customer(
    party: Mapping[str, Any],
    address: Mapping[str, Any] | None,
    tax_id: str | None,
    currency: str | None,
    legal_entity: str,
) -> Customer:
    """A CRM party as the canonical Customer (account_id = Tryton party id)."""
    return validated(
        Customer,
        f"party {party['id']}",
        account_id=str(party["id"]),
        name=party["name"],
        billing_address=to_address(address),
        tax_id=tax_id,
        currency=currency,
        legal_entity=legal_entity,
    )


def to_erp_customer(
    party: Mapping[str, Any], tax_id: str | None, address: Mapping[str, Any] | None = None, currency: str | None = None
) -> ErpCustomer:
    return validated(
        ErpCustomer,
        f"party {party['id']}",
        customer_id=str(party["id"]),
        name=party["name"],
        tax_id=tax_id,
        external_ref=party.get(CONCORD_REF) or None,
        billing_address=to_address(address),
        currency=currency,
    )


def to_tryton_party_values(customer: Customer, external_ref: str | None) -> dict[str, Any]:
    """party.party values of a customer Concord created or linked (addresses and identifiers
    are separate records, see to_tryton_address_values / to_tryton_identifier_values);
    external_ref None leaves the party's concord_ref alone."""
    values: dict[str, Any] = {"name": customer.name, "active": True}
    if external_ref is not None:
        values[CONCORD_REF] = external_ref
    return values


def to_tryton_address_values(address: Address, country_id: int | None, subdivision_id: int | None) -> dict[str, Any]:
    """party.address values; `street` is a function field whose setter fills
    street_unstructured. The region is kept only if it names a seeded subdivision."""
    return {
        "street": address.street,
        "city": address.city,
        "postal_code": address.postal_code,
        "country": country_id,
        "subdivision": subdivision_id,
        "invoice": True,
    }


def address_differs(row: Mapping[str, Any], address: Address) -> bool:
    current = to_address(row)
    return current is None or (current.street, current.city, current.postal_code, current.country) != (
        address.street,
        address.city,
        address.postal_code,
        address.country,
    )


def to_tryton_identifier_values(
    party_id: int | None, tax_id: str, country: str | None, *, typed: bool = True
) -> dict[str, Any]:
    """party.identifier values (party_id None: created inside its party). Typed identifiers
    are checked by Tryton (python-stdnum) and make the party's `tax_identifier`; an id Tryton
    cannot validate is stored untyped."""
    values: dict[str, Any] = {"code": tax_id.strip(), "type": tax_identifier_type(tax_id, country) if typed else None}
    if party_id is not None:
        values["party"] = party_id
    return values
