"""HubSpot CRM objects <-> Concord's domain records (pure functions, named by direction)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from concord.domain import Customer, FinancialStatus, Opportunity
from concord.errors import ValidationFailed
from concord.events.payloads import OpportunityLine
from concord.events.types import Address, Money, joined_lines

from .payloads import SimpleObject


def to_canonical_customer(
    company: SimpleObject, *, tax_id: str, legal_entity: str, currency: str, default_legal_entity: str
) -> Customer:
    """A company as a Customer; tax id, legal entity and currency are the portal's custom properties."""
    try:
        return Customer(
            account_id=company.id,
            name=company.value("name") or "",
            billing_address=to_canonical_address(company),
            tax_id=company.value(tax_id),
            currency=company.value(currency),
            legal_entity=company.value(legal_entity) or default_legal_entity,
        )
    except ValidationError as error:
        raise ValidationFailed(f"hubspot company {company.id}: {_fields(error)}") from None


def to_canonical_address(company: SimpleObject) -> Address | None:
    """The company address when it has a street, a city and a country (ISO 3166 alpha-2);
    None when any of those is empty."""
    street, city, country = company.value("address"), company.value("city"), company.value("country")
    if not (street and city and country):
        return None
    code = country.strip().upper()
    if len(code) != 2 or not code.isalpha():
        raise ValidationFailed(f"hubspot company {company.id}: country is not an ISO 3166 alpha-2 code")
    return Address(
        street=joined_lines(street),
        city=city,
        postal_code=company.value("zip") or "",
        region=company.value("state") or "",
        country=code,
    )


def to_canonical_opportunity(
    deal: SimpleObject, line_items: list[SimpleObject], *, product_code: str, default_currency: str | None
) -> Opportunity:
    """A deal with its line items; its account is its first associated company."""
    companies = deal.associated("companies")
    if not companies:
        raise ValidationFailed(f"hubspot deal {deal.id}: no associated company")
    currency = deal.value("deal_currency_code") or default_currency
    if not currency:
        raise ValidationFailed(f"hubspot deal {deal.id}: no deal_currency_code and no default currency")
    try:
        return Opportunity(
            opportunity_id=deal.id,
            account_id=companies[0],
            name=deal.value("dealname") or "",
            amount=Money(amount=_decimal(deal.value("amount") or "0", deal.id), currency=currency),
            closed_on=_date(deal.value("closedate")),
            won=deal.value("hs_is_closed_won") == "true",
            lines=[to_canonical_line(item, currency, product_code) for item in line_items],
        )
    except ValidationError as error:
        raise ValidationFailed(f"hubspot deal {deal.id}: {_fields(error)}") from None


def to_canonical_line(item: SimpleObject, currency: str, product_code: str) -> OpportunityLine:
    """One line item: the service item is its product code (hs_sku, or the configured property)."""
    code = item.value(product_code)
    if not code:
        raise ValidationFailed(f"hubspot line item {item.id}: no {product_code}")
    return OpportunityLine(
        service_item=code,
        description=item.value("name") or code,
        quantity=_decimal(item.value("quantity") or "0", item.id),
        unit_price=Money(amount=_decimal(item.value("price") or "0", item.id), currency=currency),
    )


def to_canonical_status(value: str | None, record: str) -> FinancialStatus | None:
    if value in (None, ""):
        return None
    try:
        return FinancialStatus(value)
    except ValueError:
        raise ValidationFailed(f"hubspot {record}: financial status {value!r} is not one Concord sets") from None


def to_hubspot_status_inputs(status_property: str, statuses: Mapping[str, FinancialStatus]) -> list[dict[str, Any]]:
    """batch/update inputs setting the status property on each deal id; the trace id is the
    deal id, so a 207 error names the record it belongs to."""
    return [
        {"id": deal_id, "properties": {status_property: status.value}, "objectWriteTraceId": deal_id}
        for deal_id, status in statuses.items()
    ]


def to_datetime(value: str | None) -> dt.datetime | None:
    """A datetime property: ISO 8601 (what reads return) or epoch milliseconds."""
    if not value:
        return None
    if value.isdigit():
        return dt.datetime.fromtimestamp(int(value) / 1000, tz=dt.UTC)
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _date(value: str | None) -> dt.date | None:
    moment = to_datetime(value)
    return moment.date() if moment else None


def _decimal(value: str, record: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ValidationFailed(f"hubspot {record}: {value!r} is not a number") from None


def _fields(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in issue['loc'])}: {issue['msg']}" for issue in error.errors())
