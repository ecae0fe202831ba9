"""Salesforce CRM records <-> Concord's domain records (pure functions, named by direction)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from concord.domain import Customer, FinancialStatus, Opportunity
from concord.errors import ValidationFailed
from concord.events.payloads import OpportunityLine
from concord.events.types import Address, Money, joined_lines

from .payloads import AccountRow, LineItemRow, OpportunityRow


def to_canonical_customer(
    record: Mapping[str, Any], *, tax_id_field: str, legal_entity_field: str, default_legal_entity: str
) -> Customer:
    """An Account as a Customer; its legal entity is its own field's, else the configured default."""
    account = AccountRow.model_validate(record)
    try:
        return Customer(
            account_id=account.id,
            name=account.name,
            billing_address=to_canonical_address(account),
            tax_id=record.get(tax_id_field) or None,
            currency=account.currency,
            legal_entity=record.get(legal_entity_field) or default_legal_entity,
        )
    except ValidationError as error:
        raise ValidationFailed(f"salesforce Account {account.id}: {_fields(error)}") from None


def to_canonical_address(account: AccountRow) -> Address | None:
    """The billing address, when it has a street, a city and a country (ISO 3166 alpha-2, as
    orgs with State and Country Picklists store it); None when any of those is empty."""
    if not (account.billing_street and account.billing_city and account.billing_country):
        return None
    country = account.billing_country.strip().upper()
    if len(country) != 2 or not country.isalpha():
        raise ValidationFailed(f"salesforce Account {account.id}: BillingCountry is not an ISO 3166 alpha-2 code")
    return Address(
        street=joined_lines(account.billing_street),  # BillingStreet is a textarea
        city=account.billing_city,
        postal_code=account.billing_postal_code or "",
        region=account.billing_state or "",
        country=country,
    )


def to_canonical_opportunity(record: Mapping[str, Any]) -> Opportunity:
    """An Opportunity with its line items (from the OpportunityLineItems subquery)."""
    row = OpportunityRow.model_validate(record)
    if not row.account_id:
        raise ValidationFailed(f"salesforce Opportunity {row.id}: no AccountId")
    if not row.currency:
        raise ValidationFailed(f"salesforce Opportunity {row.id}: no CurrencyIsoCode")
    if row.line_items and not row.line_items.done:
        raise ValidationFailed(
            f"salesforce Opportunity {row.id}: its line items came in part (follow nextRecordsUrl first)"
        )
    items = row.line_items.records if row.line_items else []
    try:
        return Opportunity(
            opportunity_id=row.id,
            account_id=row.account_id,
            name=row.name,
            amount=Money(amount=row.amount or Decimal(0), currency=row.currency),
            closed_on=row.close_date,
            won=row.is_won,
            lines=[to_canonical_line(item, row.currency) for item in items],
        )
    except ValidationError as error:
        raise ValidationFailed(f"salesforce Opportunity {row.id}: {_fields(error)}") from None


def to_canonical_line(item: LineItemRow, currency: str) -> OpportunityLine:
    """One line item: the service item is its product's ProductCode (the same in every system)."""
    product = item.product
    if product is None or not product.product_code:
        raise ValidationFailed(f"salesforce OpportunityLineItem {item.id}: its product has no ProductCode")
    return OpportunityLine(
        service_item=product.product_code,
        description=item.description or product.name or product.product_code,
        quantity=item.quantity,
        unit_price=Money(amount=item.unit_price, currency=currency),
    )


def to_canonical_status(value: Any, record: str) -> FinancialStatus | None:
    if value in (None, ""):
        return None
    try:
        return FinancialStatus(value)
    except ValueError:
        raise ValidationFailed(f"salesforce {record}: financial status {value!r} is not one Concord sets") from None


def to_salesforce_status_updates(
    sobject: str, status_field: str, statuses: Mapping[str, FinancialStatus]
) -> list[dict[str, Any]]:
    """sObject Collections update records setting `status_field` on each record id."""
    return [
        {"attributes": {"type": sobject}, "id": record_id, status_field: status.value}
        for record_id, status in statuses.items()
    ]


def _fields(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in issue['loc'])}: {issue['msg']}" for issue in error.errors())
