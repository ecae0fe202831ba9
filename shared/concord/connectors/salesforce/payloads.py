"""Salesforce's own record shapes as the REST API returns them (only the fields Concord reads).

Org-specific custom fields (tax id, legal entity, ...) are named by configuration, so mappers
read those from the raw record; these models hold the standard fields. Unknown fields are
ignored: an org's records carry many more.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class VendorRecord(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class ChildRecords[T](VendorRecord):
    """A child subquery's result inside a parent record (null in the JSON when it has no rows)."""

    total_size: int = Field(alias="totalSize")
    done: bool
    records: list[T]


class AccountRow(VendorRecord):
    id: str = Field(alias="Id")
    name: str = Field(alias="Name")
    billing_street: str | None = Field(default=None, alias="BillingStreet")
    billing_city: str | None = Field(default=None, alias="BillingCity")
    billing_state: str | None = Field(default=None, alias="BillingState")
    billing_postal_code: str | None = Field(default=None, alias="BillingPostalCode")
    billing_country: str | None = Field(default=None, alias="BillingCountry")
    currency: str | None = Field(default=None, alias="CurrencyIsoCode")


class ProductRef(VendorRecord):
    product_code: str | None = Field(default=None, alias="ProductCode")
    name: str | None = Field(default=None, alias="Name")


class LineItemRow(VendorRecord):
    id: str = Field(alias="Id")
    product: ProductRef | None = Field(default=None, alias="Product2")
    quantity: Decimal = Field(alias="Quantity")
    unit_price: Decimal = Field(alias="UnitPrice")
    description: str | None = Field(default=None, alias="Description")


class OpportunityRow(VendorRecord):
    id: str = Field(alias="Id")
    account_id: str | None = Field(default=None, alias="AccountId")
    name: str = Field(alias="Name")
    amount: Decimal | None = Field(default=None, alias="Amount")
    currency: str | None = Field(default=None, alias="CurrencyIsoCode")
    close_date: dt.date | None = Field(default=None, alias="CloseDate")
    is_won: bool = Field(alias="IsWon")
    line_items: ChildRecords[LineItemRow] | None = Field(default=None, alias="OpportunityLineItems")


class ChangeRow(VendorRecord):
    """What change capture selects of any object."""

    id: str = Field(alias="Id")
    system_modstamp: dt.datetime = Field(alias="SystemModstamp")
    created_date: dt.datetime = Field(alias="CreatedDate")


# The SELECT lists matching the models above.
ACCOUNT_FIELDS = (
    "Id",
    "Name",
    "BillingStreet",
    "BillingCity",
    "BillingState",
    "BillingPostalCode",
    "BillingCountry",
    "CurrencyIsoCode",
)
LINE_ITEM_FIELDS = ("Id", "Product2.ProductCode", "Product2.Name", "Quantity", "UnitPrice", "Description")
OPPORTUNITY_FIELDS = ("Id", "AccountId", "Name", "Amount", "CurrencyIsoCode", "CloseDate", "IsWon")
CHANGE_FIELDS = ("Id", "SystemModstamp", "CreatedDate")
