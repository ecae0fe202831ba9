"""The port contract: the same assertions for every implementation of concord.ports.

Each implementation comes with a harness: its connectors and a scenario driver that does in its
system what a person would (win a deal, approve time, rename an account). The tests in
test_port_contract.py take a harness and never look behind the ports, so an implementation
passes by behaving, not by being built a certain way.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from concord.domain import (
    ApprovedTime,
    Customer,
    LineRefs,
    ProjectRecord,
    RecognitionMethod,
    RecordChange,
    RevenueLine,
    RevenueSchedule,
)
from concord.events.types import Address, Money
from concord.ports import ChangeSource, CrmPort, ErpPort, PsaPort


class Scenario(Protocol):
    """What people do in the systems under test, in the vendor's own way."""

    def won_deal(self) -> tuple[str, str]:
        """A new account (billing address, tax id) and a won opportunity with lines for it:
        (account id, opportunity id) in the CRM."""
        ...

    def rename_account(self, account_id: str, name: str) -> None: ...

    def approve_time(self, project: ProjectRecord, hours: Decimal, worked_on: dt.date) -> None:
        """Hours logged on the project's first task and approved in the PSA."""
        ...

    def unknown_id(self, record_type: str) -> str:
        """A well-formed id no record of `record_type` has."""
        ...

    def post_invoice(self, project_ref: str) -> str:
        """Finance posts the project's open draft in the ERP, its own way (NetSuite: bills the
        sales order); the ERP's id of the posted invoice."""
        ...

    def pay_invoice(self, invoice_id: str, amount: Decimal) -> None:
        """The customer pays `amount` of the posted invoice, recorded by finance in the ERP."""
        ...


@dataclass
class Harness:
    name: str
    crm: CrmPort | None
    psa: PsaPort | None
    erp: ErpPort | None
    scenario: Scenario


_sequence = itertools.count(1)


_EIN_PREFIXES = ("04", "05", "10", "12", "20", "27", "46", "94")  # valid U.S. EIN prefixes


def unique_customer(legal_entity: str = "us-01") -> Customer:
    """A customer no earlier test created (names and tax ids are natural keys in an ERP)."""
    n = next(_sequence)
    stamp = int(dt.datetime.now(dt.UTC).strftime("%H%M%S%f"))
    return Customer(
        account_id=f"contract-{stamp}-{n}",
        name=f"Contract Customer {stamp}-{n}",
        billing_address=Address(street="1 Contract Way", city="Springfield", postal_code="12345", country="US"),
        tax_id=f"{_EIN_PREFIXES[n % len(_EIN_PREFIXES)]}-{(stamp + n) % 10**7:07d}",
        currency="USD",
        legal_entity=legal_entity,
    )


def hours_of(entries: list[ApprovedTime]) -> Decimal:
    return sum((e.hours for e in entries), Decimal(0))


def stores_line_refs(erp: ErpPort) -> bool:
    return erp.capabilities.line_refs is LineRefs.STORED


# The ERPs that keep revenue schedules, named here rather than read from their capabilities: an
# ERP that stopped declaring them (or started) fails the contract instead of skipping it.
KEEPS_REVENUE_SCHEDULES = {"dynamics_finance"}


def support_deal(starts_on: dt.date) -> RevenueSchedule:
    """A year of support recognized ratably, a go-live milestone, and hours recognized as invoiced."""

    def line(item: str, amount: str, method: RecognitionMethod) -> RevenueLine:
        return RevenueLine(
            service_item=item,
            description=item.title(),
            quantity=Decimal(1),
            amount=Money(amount=Decimal(amount), currency="USD"),
            method=method,
        )

    return RevenueSchedule(
        starts_on=starts_on,
        term_months=12,
        lines=[
            line("SUPPORT-YR", "12000", RecognitionMethod.RATABLY),
            line("MILESTONE", "3000", RecognitionMethod.ON_MILESTONE),
            line("CONSULT-HR", "1500", RecognitionMethod.ON_INVOICE),
        ],
    )


def in_pages_of_one(source: ChangeSource, record_type: str, cursor: str) -> list[RecordChange]:
    """Every change after `cursor`, a page of one at a time (ties and paging neither skip nor repeat)."""
    seen: list[RecordChange] = []
    for _ in range(100):
        page = source.changes_since(record_type, cursor, 1)
        seen += page.changes
        cursor = page.cursor
        if not page.changes:
            return seen
    raise AssertionError(f"{record_type} changes did not end after 100 pages: {seen}")
