"""The objects a portal plays and their properties: standard ones, Concord's custom ones (created at
set-up), enumeration options, and the portal's required-property rules.

Properties: https://developers.hubspot.com/docs/api-reference/2026-03/crm/properties/guide
"""

from __future__ import annotations

from dataclasses import dataclass, field

DATETIME = frozenset({"createdate", "hs_lastmodifieddate", "closedate"})
NUMBER = frozenset({"hs_object_id", "amount", "quantity", "price"})
FINANCIAL_STATUSES = ("not_invoiced", "invoiced", "partially_paid", "paid", "overdue")

# Association type ids of the default (HUBSPOT_DEFINED) labels:
# https://developers.hubspot.com/docs/api-reference/2026-03/crm/associations/guide
ASSOCIATION_TYPES: dict[int, tuple[str, str]] = {
    5: ("deals", "companies"),
    341: ("companies", "deals"),
    19: ("deals", "line_items"),
    20: ("line_items", "deals"),
}


@dataclass(frozen=True)
class ObjectSchema:
    name: str
    properties: frozenset[str]
    options: dict[str, tuple[str, ...]] = field(default_factory=dict)  # enumeration values


def _common() -> set[str]:
    return {"hs_object_id", "createdate", "hs_lastmodifieddate"}


def crm_portal() -> dict[str, ObjectSchema]:
    return {
        "companies": ObjectSchema(
            "companies",
            frozenset(
                _common()
                | {
                    "name",
                    "domain",
                    "address",
                    "city",
                    "state",
                    "zip",
                    "country",
                    "industry",
                    "concord_tax_id",
                    "concord_legal_entity",
                    "concord_currency",
                    "concord_ref",
                }
            ),
        ),
        "deals": ObjectSchema(
            "deals",
            frozenset(
                _common()
                | {
                    "dealname",
                    "amount",
                    "deal_currency_code",
                    "closedate",
                    "dealstage",
                    "pipeline",
                    "hs_is_closed_won",
                    "concord_financial_status",
                    "concord_ref",
                }
            ),
            options={"concord_financial_status": FINANCIAL_STATUSES},
        ),
        "line_items": ObjectSchema(
            "line_items",
            frozenset(_common() | {"name", "quantity", "price", "amount", "hs_sku", "hs_product_id", "description"}),
        ),
    }


# The properties HubSpot derives: a write may not set them.
READ_ONLY = frozenset({"hs_object_id", "createdate", "hs_lastmodifieddate", "hs_is_closed_won"})
WON_STAGE = "closedwon"
