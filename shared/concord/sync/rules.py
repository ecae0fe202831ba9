"""Per-legal-entity business rules, from configuration (nothing tied to one business unit)."""

from __future__ import annotations

import json
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from ..events.types import CurrencyCode, Name


class BillingMapping(BaseModel):
    """How approved work becomes ERP invoice lines: service items are product codes that exist
    in the ERP (the ERP prices time at its list price for the item; expenses at their cost)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    time_service_item: Name
    # Opportunity lines sold by the hour (their quantity becomes the task's planned hours);
    # the time service item always is.
    hourly_service_items: frozenset[Name] = frozenset()
    # expense category (as the PSA names it, lower case) -> service item
    expense_service_items: dict[str, Name] = Field(default_factory=dict)
    # for a category not listed; None refuses it (a person must map it first)
    default_expense_service_item: Name | None = None

    def is_hourly(self, service_item: str) -> bool:
        return service_item == self.time_service_item or service_item in self.hourly_service_items

    def expense_item(self, category: str) -> str | None:
        return self.expense_service_items.get(category.strip().lower(), self.default_expense_service_item)


class RevenueRules(BaseModel):
    """How a won deal's revenue is recognized, where the ERP keeps revenue schedules: hourly
    lines as invoiced, milestone lines when released, every other line ratably over the term."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    term_months: int = Field(default=12, ge=1, le=120)  # the contract term a deal runs from its close
    milestone_service_items: frozenset[Name] = frozenset()


class LegalEntityRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # The first is the currency the entity invoices in.
    currencies: Annotated[list[CurrencyCode], Field(min_length=1)]
    tax_id_required: bool = True
    default_payment_term: Name
    billing: BillingMapping
    revenue: RevenueRules = RevenueRules()

    @property
    def billing_currency(self) -> str:
        return self.currencies[0]


_RULES = TypeAdapter(dict[str, LegalEntityRules])


def parse_rules(raw: str | dict) -> dict[str, LegalEntityRules]:
    return _RULES.validate_python(json.loads(raw) if isinstance(raw, str) else raw)
