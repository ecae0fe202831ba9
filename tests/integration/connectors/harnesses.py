"""The implementations the port contract runs against, each with its scenario driver."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest

from concord.domain import ApprovedTime, Customer, Opportunity, ProjectRecord
from concord.events.payloads import OpportunityLine
from concord.events.types import Address, Money

from tests.unit.fakes import FakeCrm, FakeErp, FakePsa

from .contract import Harness

_ids = itertools.count(1)


class FakeScenario:
    """People at work in the in-memory systems: they edit the records and the change log."""

    def __init__(self, crm: FakeCrm, psa: FakePsa) -> None:
        self.crm, self.psa = crm, psa

    def won_deal(self) -> tuple[str, str]:
        account_id, opportunity_id = f"acc-{next(_ids)}", f"opp-{next(_ids)}"
        now = dt.datetime.now(dt.UTC)
        usd = Money(amount=Decimal("1500"), currency="USD")
        self.crm.customers[account_id] = Customer(
            account_id=account_id, name=f"Account {account_id}", tax_id="12-3456789", currency="USD",
            billing_address=Address(street="1 Main St", city="Springfield", country="US"), legal_entity="us-01")
        self.crm.opportunities[opportunity_id] = Opportunity(
            opportunity_id=opportunity_id, account_id=account_id, name="Deal", amount=usd, won=True,
            lines=[OpportunityLine(service_item="CONSULT-HR", description="Work", quantity=Decimal(10),
                                   unit_price=Money(amount=Decimal(150), currency="USD"))])
        self.crm.touch("customer", account_id, now)
        self.crm.touch("opportunity", opportunity_id, now)
        return account_id, opportunity_id

    def rename_account(self, account_id: str, name: str) -> None:
        self.crm.customers[account_id] = self.crm.customers[account_id].model_copy(update={"name": name})
        self.crm.touch("customer", account_id, dt.datetime.now(dt.UTC))

    def approve_time(self, project: ProjectRecord, hours: Decimal, worked_on: dt.date) -> None:
        now = dt.datetime.now(dt.UTC)
        entry = ApprovedTime(time_entry_id=f"t-{next(_ids)}", project_id=project.project_id,
                             task_id=next(iter(project.task_ids.values())), employee_id="e-1", worked_on=worked_on,
                             hours=hours, billable=True, approved_at=now)
        self.psa.approved.setdefault(project.project_id, []).append(entry)
        self.psa.touch("time_entry", entry.time_entry_id, now)

    def unknown_id(self, record_type: str) -> str:
        return f"no-such-{record_type}"


def _fakes() -> Harness:
    crm, psa = FakeCrm(), FakePsa()
    return Harness("fakes", crm, psa, FakeErp(), FakeScenario(crm, psa))


BUILDERS = {"fakes": _fakes}
CRMS = ["fakes"]
PSAS = ["fakes"]
ERPS = ["fakes"]


@pytest.fixture
def harness(request: pytest.FixtureRequest) -> Harness:
    return BUILDERS[request.param]()
