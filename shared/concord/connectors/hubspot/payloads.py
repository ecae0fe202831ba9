"""HubSpot's CRM object shapes as the date-versioned API returns them (what Concord reads).

Every property value is a string (or null) in `properties`; portal-specific custom properties
(tax id, legal entity, financial status) are named by configuration, so mappers read those from
the raw `properties`. Unknown fields are ignored.
Object shape: https://developers.hubspot.com/docs/api-reference/2026-03/crm/objects/companies/get-company
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field


class VendorRecord(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class AssociatedId(VendorRecord):
    """One association of an object read with `associations=`: `{"id", "type"}` (v3 shape) or
    `{"toObjectId", "associationTypes"}` (v4 shape); both name the other object's id."""

    id: str = Field(validation_alias=AliasChoices("id", "toObjectId"))


class Associations(VendorRecord):
    results: list[AssociatedId] = Field(default_factory=list)


class SimpleObject(VendorRecord):
    id: str
    properties: dict[str, str | None] = Field(default_factory=dict)
    associations: dict[str, Associations] = Field(default_factory=dict)
    created_at: dt.datetime | None = Field(default=None, alias="createdAt")
    updated_at: dt.datetime | None = Field(default=None, alias="updatedAt")

    def value(self, name: str) -> str | None:
        """A property's value; an empty string is no value, as HubSpot's UI shows it."""
        found = self.properties.get(name)
        return found if found not in (None, "") else None

    def associated(self, object_type: str) -> list[str]:
        return [entry.id for entry in self.associations.get(object_type, Associations()).results]


class BatchError(VendorRecord):
    """One failed input of a batch call (a 207 Multi-Status answer's `errors`), or an error body."""

    status: str = "error"
    category: str = ""
    message: str = ""
    context: dict[str, Any] = Field(default_factory=dict)
    errors: list[dict[str, Any]] = Field(default_factory=list)
    object_write_trace_id: str | None = Field(default=None, alias="objectWriteTraceId")
    policy_name: str = Field(default="", alias="policyName")  # 429: TEN_SECONDLY_ROLLING or DAILY

    def named(self, key: str) -> list[str]:
        """The strings `context[key]` lists (e.g. "ids", "propertyName")."""
        values = self.context.get(key)
        return [str(value) for value in values] if isinstance(values, list) else []


class BatchResult(VendorRecord):
    """A batch answer: what was done (`results`) and, on 207, what failed (`errors`)."""

    status: str = ""
    results: list[SimpleObject] = Field(default_factory=list)
    errors: list[BatchError] = Field(default_factory=list)


class SearchPage(VendorRecord):
    # Polling re-anchors each page on the last write time it saw (HubSpot caps a search at
    # 10,000 results), so the answer's `paging.next.after` and `total` are not read.
    results: list[SimpleObject] = Field(default_factory=list)


# Standard properties Concord reads (the custom ones come from configuration).
COMPANY_PROPERTIES = ("name", "address", "city", "state", "zip", "country")
DEAL_PROPERTIES = ("dealname", "amount", "deal_currency_code", "closedate", "dealstage", "hs_is_closed_won")
LINE_ITEM_PROPERTIES = ("name", "quantity", "price", "amount", "hs_product_id")
# The stamps change capture reads: https://developers.hubspot.com/docs/api-reference/2026-03/crm/search/guide
MODIFIED = "hs_lastmodifieddate"
CREATED = "createdate"
