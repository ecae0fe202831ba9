"""Concord's records <-> Dynamics 365 Finance entity bodies (pure functions, named by direction):
what the connector sends and reads, and what the mapping regression corpus renders
(concord.mappings). Entities and their fields: entities.py.
https://learn.microsoft.com/en-us/dynamics365/fin-ops-core/dev-itpro/data-entities/odata
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from concord.domain import Customer, CustomerUpdate, ErpCustomer, InvoiceLine, RevenueLine, RevenueSchedule
from concord.errors import ValidationFailed
from concord.events.types import Address

from .entities import COMPANY, CUSTOMERS
from .ids import record_id

ACTIVE, BLOCKED = "No", "All"  # OnHoldStatus: not on hold / on hold for every transaction
# The sales order header field that holds Concord's project reference (the customer's order reference).
PROJECT_REF = "CustomersOrderReference"
# A price, or in a rendering (concord.mappings) the placeholder of one only a run knows.
Price = Decimal | str


def to_customer_fields(
    name: str | None, tax_id: str | None, address: Address | None, country_regions: Mapping[str, str]
) -> dict[str, Any]:
    """The customer fields Concord writes, only those given; an address in a country with no
    mapped country/region id is a ValidationFailed."""
    fields: dict[str, Any] = {}
    if name is not None:
        fields["OrganizationName"] = name
    if tax_id is not None:
        fields["TaxExemptNumber"] = tax_id
    if address is not None:
        region = country_regions.get(address.country)
        if region is None:
            raise ValidationFailed(f"dynamics_finance: no country/region id mapped for {address.country}")
        fields.update(
            {
                "AddressStreet": address.street,
                "AddressCity": address.city,
                "AddressZipCode": address.postal_code or "",
                "AddressState": address.region or "",
                "AddressCountryRegionId": region,
            }
        )
    return fields


def to_customer_changes(changes: CustomerUpdate, country_regions: Mapping[str, str]) -> dict[str, Any]:
    fields = to_customer_fields(changes.name, changes.tax_id, changes.billing_address, country_regions)
    if changes.currency:
        fields["SalesCurrencyCode"] = changes.currency
    return fields


def to_active_customer(customer: Customer, country_regions: Mapping[str, str]) -> dict[str, Any]:
    """The customer's fields, released from hold."""
    fields = to_customer_fields(customer.name, customer.tax_id, customer.billing_address, country_regions)
    return {**fields, "OnHoldStatus": ACTIVE}


def to_new_customer(
    customer: Customer, company: str, account: str, customer_group: str, country_regions: Mapping[str, str]
) -> dict[str, Any]:
    """A customer Concord creates under its deterministic account."""
    body = {
        COMPANY: company,
        "CustomerAccount": account,
        "CustomerGroupId": customer_group,
        **to_active_customer(customer, country_regions),
    }
    if customer.currency:
        body["SalesCurrencyCode"] = customer.currency
    return body


def to_erp_customer(row: Mapping[str, Any], country_regions: Mapping[str, str]) -> ErpCustomer:
    countries = {region: code for code, region in country_regions.items()}
    address = None
    if row.get("AddressStreet") and row.get("AddressCity") and row.get("AddressCountryRegionId") in countries:
        address = Address(
            street=row["AddressStreet"],
            city=row["AddressCity"],
            postal_code=row.get("AddressZipCode") or "",
            region=row.get("AddressState") or "",
            country=countries[row["AddressCountryRegionId"]],
        )
    return ErpCustomer(
        customer_id=record_id(CUSTOMERS, row),
        name=row.get("OrganizationName") or "",
        tax_id=row.get("TaxExemptNumber") or None,
        billing_address=address,
        currency=row.get("SalesCurrencyCode") or None,
    )


def to_invoice_header(
    company: str, account: str, currency: str, ref_field: str, project_ref: str, invoiced_on: dt.date
) -> dict[str, Any]:
    """A project's free text invoice header, without lines: its draft."""
    return {
        COMPANY: company,
        "CustomerAccount": account,
        "CurrencyCode": currency,
        ref_field: project_ref,
        "InvoiceDate": invoiced_on.isoformat(),
    }


def to_free_text_line(
    header: Mapping[str, Any],
    number: int | str,
    line: InvoiceLine,
    main_account: str,
    unit_price: Price,
    ref: tuple[str, str] | None,
) -> dict[str, Any]:
    """A free text invoice line on `header` (its company and InvoiceIdentifier), numbered
    `number` (a placeholder in a rendering, which cannot know the draft's lines); `ref` is the
    extension field and the concord_ref it holds, where the environment has one."""
    body: dict[str, Any] = {
        COMPANY: header[COMPANY],
        "InvoiceIdentifier": header["InvoiceIdentifier"],
        "LineNumber": number,
        "Description": line.description,
        "MainAccountDisplayValue": main_account,
        "Quantity": line.quantity,
        "UnitPrice": _number(unit_price),
    }
    if ref is not None:
        field, concord_ref = ref
        body[field] = concord_ref
    return body


def deferred_currency(project_ref: str, deferred: list[RevenueLine]) -> str:
    """The one currency of a project's deferred lines (a sales order has one); ValidationFailed else."""
    currencies = {line.amount.currency for line in deferred}
    if len(currencies) != 1:
        raise ValidationFailed(f"project {project_ref}: deferred lines in several currencies {sorted(currencies)}")
    return currencies.pop()


def to_sales_order_header(company: str, account: str, currency: str, project_ref: str) -> dict[str, Any]:
    """The project's sales order that carries its deferred revenue lines."""
    return {
        COMPANY: company,
        "OrderingCustomerAccountNumber": account,
        "CurrencyCode": currency,
        PROJECT_REF: project_ref,
    }


def to_revenue_line(
    order: Mapping[str, Any], line: RevenueLine, schedule_id: str, schedule: RevenueSchedule
) -> dict[str, Any]:
    """A sales order line on the revenue schedule its method needs, with the contract's dates."""
    return {
        COMPANY: order[COMPANY],
        "SalesOrderNumber": order["SalesOrderNumber"],
        "ItemNumber": line.service_item,
        "LineDescription": line.description,
        "OrderedSalesQuantity": float(line.quantity),
        "SalesPrice": float(line.amount.amount / line.quantity),
        "LineAmount": float(line.amount.amount),
        "RevRecRevenueScheduleId": schedule_id,
        "RevRecContractStartDate": _midday(schedule.starts_on),
        "RevRecContractEndDate": _midday(schedule.ends_on),
    }


def _number(price: Price) -> float | str:
    return float(price) if isinstance(price, Decimal) else price


def _midday(day: dt.date) -> str:
    """A date as Finance's date-only fields take it in a DateTimeOffset (noon UTC: no time zone moves its day)."""
    return f"{day.isoformat()}T12:00:00Z"
