"""Opportunities (CRM): sale.opportunity and its lines as the canonical Opportunity, and the
status notes Concord leaves on a party (financial status) or a project (billing status).

Tryton documentation: https://docs.tryton.org/modules-sale-opportunity/
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from concord.domain import FinancialStatus, Opportunity
from concord.errors import ValidationFailed
from concord.events.payloads import OpportunityLine
from concord.events.types import Money

from ..names import BILLING_STATUS_NOTE, FINANCIAL_STATUS_NOTE, stamp
from .rows import validated


def to_opportunity_line(row: Mapping[str, Any], unit_price: Decimal, currency: str, what: str) -> OpportunityLine:
    product = row.get("product.") or {}
    if not product.get("code"):
        raise ValidationFailed(f"{what}: line {row['id']} has no product with a code (Concord's service item)")
    description = (row.get("description") or "").strip() or product.get("rec_name") or product["code"]
    return validated(
        OpportunityLine,
        what,
        service_item=product["code"],
        description=description[:255],
        quantity=Decimal(str(row["quantity"])),
        unit_price=Money(amount=unit_price, currency=currency),
    )


def to_opportunity(row: Mapping[str, Any], lines: Sequence[OpportunityLine]) -> Opportunity:
    """A sale.opportunity as the canonical Opportunity.

    name: its description, else its number; amount: its estimated `amount`, else the sum of
    the lines; won: state == "won" (reached when the converted sale is confirmed);
    closed_on: its end date (set by Tryton when won, lost or cancelled); billing_owner: its
    employee (the salesperson who owns it), by name. Tryton's opportunity has no contract type.
    """
    currency = row["currency."]["code"]
    amount = row.get("amount")
    if amount is None:
        amount = sum((line.quantity * line.unit_price.amount for line in lines), Decimal(0))
    return validated(
        Opportunity,
        f"opportunity {row['id']}",
        opportunity_id=str(row["id"]),
        account_id=str(row["party"]) if row.get("party") else "",
        name=(row.get("description") or "").strip() or row["number"],
        amount=Money(amount=Decimal(amount), currency=currency),
        closed_on=row.get("end_date"),
        won=row["state"] == "won",
        lines=list(lines),
        billing_owner=(row.get("employee.") or {}).get("rec_name"),
    )


def financial_status_note(status: FinancialStatus, moment: dt.datetime | None = None) -> str:
    return f"{FINANCIAL_STATUS_NOTE}{status.value} (set by Concord {stamp(moment)})"


def billing_status_note(status: FinancialStatus, moment: dt.datetime | None = None) -> str:
    return f"{BILLING_STATUS_NOTE}{status.value} (set by Concord {stamp(moment)})"


def status_of_note(message: str | None, prefix: str) -> FinancialStatus | None:
    """The status a Concord status note records (None if it is not one)."""
    if not message or not message.startswith(prefix):
        return None
    value = message[len(prefix) :].split(" ", 1)[0]
    try:
        return FinancialStatus(value)
    except ValueError:
        return None
