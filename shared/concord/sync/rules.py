"""Per-legal-entity business rules, from configuration (nothing tied to one business unit)."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

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


# A role's system: where a cost centre has its own id.
Role = Literal["crm", "psa", "erp"]


class TaxRules(BaseModel):
    """Which tax code the ERP puts on an invoice line: service item -> canonical tax category
    -> the ERP's tax code (of this legal entity). No category: the ERP's own default applies."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    codes: dict[Name, Name] = Field(default_factory=dict)  # tax category -> ERP tax code
    service_items: dict[Name, Name] = Field(default_factory=dict)  # service item -> tax category
    default_category: Name | None = None  # of a service item not listed

    @model_validator(mode="after")
    def _categories_have_codes(self) -> TaxRules:
        named = {*self.service_items.values(), *([self.default_category] if self.default_category else [])}
        if missing := named - set(self.codes):
            raise ValueError(f"tax categories without a tax code: {sorted(missing)}")
        return self

    def code_for(self, service_item: str) -> str | None:
        category = self.service_items.get(service_item, self.default_category)
        return self.codes[category] if category else None


class LegalEntityRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # The first is the currency the entity invoices in.
    currencies: Annotated[list[CurrencyCode], Field(min_length=1)]
    tax_id_required: bool = True
    default_payment_term: Name
    billing: BillingMapping
    revenue: RevenueRules = RevenueRules()
    # Cost centre (canonical code) -> each system's own id of it (a department, class,
    # dimension value or analytic account); a system not listed uses the canonical code.
    cost_centres: dict[Name, dict[Role, Name]] = Field(default_factory=dict)
    tax: TaxRules = TaxRules()

    @property
    def billing_currency(self) -> str:
        return self.currencies[0]

    def cost_centre_of(self, system: Role, system_id: str) -> str | None:
        """The canonical code of the cost centre `system` calls `system_id` (None: unknown)."""
        return next((code for code, ids in self.cost_centres.items() if ids.get(system, code) == system_id), None)

    def cost_centre_id(self, code: str, system: Role) -> str:
        """`system`'s id of a configured cost centre."""
        return self.cost_centres[code].get(system, code)


_RULES = TypeAdapter(dict[str, LegalEntityRules])


def parse_rules(raw: str | dict) -> dict[str, LegalEntityRules]:
    return _RULES.validate_python(json.loads(raw) if isinstance(raw, str) else raw)
