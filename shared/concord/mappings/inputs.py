"""What the flows hand to connectors for one canonical event, derived as the flows derive it.

What only a run knows (a vendor's ids from the cross-reference registry, a record read from the
CRM) is a placeholder (`requests.placeholder`), so a rendering depends on the event and the
mapping configuration alone: the same event always renders the same requests.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pydantic import Field, Json

from ..domain import Customer, CustomerUpdate, FinancialStatus, InvoiceLine, InvoiceState, Opportunity, ProjectPlan
from ..events.envelope import (
    AccountChangedEvent,
    ExpenseApprovedEvent,
    InvoicePostedEvent,
    OpportunityClosedWonEvent,
    PaymentReceivedEvent,
    TimeApprovedEvent,
)
from ..events.types import System
from ..ownership import SystemOfRecord, load_system_of_record
from ..settings import Settings
from ..sync.billing import invoice_line
from ..sync.financials import project_status
from ..sync.ids import canonical_id
from ..sync.quote_to_cash import CustomerValidated, project_plan
from ..sync.rules import LegalEntityRules, parse_rules
from .requests import placeholder
from .vendors import CONNECTORS, RenderedConnectors


@dataclass(frozen=True)
class MappingConfig:
    """The configuration mappings depend on: the legal entities' rules and the system of record;
    and the connectors a rendering covers (concord.mappings.render)."""

    rules: dict[str, LegalEntityRules]
    ownership: SystemOfRecord
    connectors: tuple[str, ...] = CONNECTORS

    def rules_for(self, legal_entity: str) -> LegalEntityRules | None:
        return self.rules.get(legal_entity)


class MappingSettings(Settings):
    """The variables the flows read their mapping configuration from (aws.systems); a function
    given neither renders nothing."""

    legal_entities: str | None = Field(default=None, alias="LEGAL_ENTITIES")
    system_of_record: str | None = Field(default=None, alias="SYSTEM_OF_RECORD")
    # A JSON list of connectors (the stage's `rendered_connectors`); unset: every connector.
    rendered_connectors: Json[RenderedConnectors] | None = Field(default=None, alias="RENDERED_CONNECTORS")

    def config(self) -> MappingConfig | None:
        if not (self.legal_entities and self.system_of_record):
            return None
        connectors = CONNECTORS if self.rendered_connectors is None else self.rendered_connectors
        return MappingConfig(parse_rules(self.legal_entities), load_system_of_record(self.system_of_record), connectors)


def customer_ref(account_id: str) -> str:
    return canonical_id("customer", System.CRM, account_id)


def customer_of(event: AccountChangedEvent) -> Customer:
    data = event.data
    return Customer(
        account_id=data.account_id,
        name=data.name,
        billing_address=data.billing_address,
        tax_id=data.tax_id,
        currency=data.currency,
        legal_entity=event.legal_entity,
    )


def customer_update_of(event: AccountChangedEvent, ownership: SystemOfRecord) -> CustomerUpdate:
    """The fields the CRM owns, as customer master writes them into an ERP customer that differs."""
    values: dict[str, Any] = {
        "name": event.data.name,
        "billing_address": event.data.billing_address,
        "tax_id": event.data.tax_id,
        "currency": event.data.currency,
    }
    return CustomerUpdate(
        **{
            field: value
            for field, value in values.items()
            if value is not None and ownership.owner("customer", field) is System.CRM
        }
    )


def plan_of(event: OpportunityClosedWonEvent, rules: LegalEntityRules) -> ProjectPlan:
    """The PSA project quote-to-cash plans for a won deal (the customer's name is read from the
    CRM at run time: a placeholder here)."""
    data = event.data
    name = placeholder("crm account name")
    customer = Customer(account_id=data.account_id, name=name, legal_entity=event.legal_entity)
    validated = CustomerValidated(
        customer=customer,
        customer_ref=customer_ref(data.account_id),
        opportunity=opportunity_of(event),
        existing_erp_customer_id=None,
    )
    project_ref = canonical_id("project", System.CRM, data.opportunity_id)
    return project_plan(validated, project_ref, None, rules)


def opportunity_of(event: OpportunityClosedWonEvent) -> Opportunity:
    data = event.data
    return Opportunity(
        opportunity_id=data.opportunity_id,
        account_id=data.account_id,
        name=data.name,
        amount=data.amount,
        closed_on=data.closed_on,
        won=True,
        lines=list(data.lines),
    )


def line_of(event: TimeApprovedEvent | ExpenseApprovedEvent, rules: LegalEntityRules) -> InvoiceLine | None:
    """The ERP invoice line billing flows add; None for work that is not billable."""
    if not event.data.billable:
        return None
    return invoice_line(event, rules)


def status_of(event: InvoicePostedEvent | PaymentReceivedEvent) -> FinancialStatus:
    """The financial status this event alone gives its project, on the day it occurred (the flow
    derives it from all the project's invoices)."""
    today: dt.date = event.occurred_at.date()
    if isinstance(event, InvoicePostedEvent):
        posted = event.data
        state = InvoiceState(
            invoice_id=posted.invoice_id, total=posted.total, amount_due=posted.total, due_on=posted.due_on
        )
        return project_status([state], today)
    paid = event.data
    return FinancialStatus.PAID if paid.invoice_amount_due.amount <= 0 else FinancialStatus.PARTIALLY_PAID
