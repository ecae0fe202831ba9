"""The implementations the port contract runs against, each with its scenario driver:
the in-memory fakes, Tryton (the session's server), and the Salesforce CRM and Certinia PSA
connectors against an in-process Salesforce sandbox (separate orgs, and Certinia in the CRM's
org), the Kantata OX PSA connector against an in-process Kantata sandbox, and the HubSpot CRM
connector against an in-process HubSpot sandbox, and the Business Central, NetSuite, Dynamics 365
Finance, QuickBooks, Xero and Workday ERP connectors against in-process sandboxes of each."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, Protocol

import pytest

from concord.connectors.tryton import TrytonCrm, TrytonErp, TrytonPsa
from concord.domain import (
    ApprovedTime,
    Customer,
    InvoiceRecord,
    Opportunity,
    PostedInvoice,
    ProjectRecord,
    ReceivedPayment,
)
from concord.events.payloads import OpportunityLine
from concord.events.types import Address, Money
from concord.local.scenarios.finance import (
    BusinessCentralFinance,
    DynamicsFinance,
    NetSuiteFinance,
    TrytonFinance,
    XeroFinance,
)
from concord.local.scenarios.tryton import Consultant, FinanceClerk, SalesRep, random_ein
from tests.unit.connectors.business_central.sandbox_systems import (
    business_central_systems,
)
from tests.unit.connectors.dynamics_finance.sandbox_systems import (
    finance_systems,
)
from tests.unit.connectors.hubspot.sandbox_systems import (
    HubSpotSystems,
    hubspot_systems,
)
from tests.unit.connectors.kantata.sandbox_systems import (
    KantataSystems,
    kantata_systems,
)
from tests.unit.connectors.netsuite.sandbox_systems import (
    netsuite_systems,
)
from tests.unit.connectors.quickbooks.sandbox_systems import quickbooks_systems
from tests.unit.connectors.salesforce.sandbox_systems import (
    SalesforceSystems,
    salesforce_systems,
)
from tests.unit.connectors.workday.sandbox_systems import workday_systems
from tests.unit.connectors.xero.sandbox_systems import xero_systems
from tests.unit.fakes import FakeCrm, FakeErp, FakePsa

from .contract import Harness

_ids = itertools.count(1)
LIST_PRICE = Decimal(150)  # CONSULT-HR's, as each ERP under test is seeded


class FakeScenario:
    """People at work in the in-memory systems: they edit the records and the change log."""

    def __init__(self, crm: FakeCrm, psa: FakePsa, erp: FakeErp) -> None:
        self.crm, self.psa, self.erp = crm, psa, erp

    def won_deal(self) -> tuple[str, str]:
        account_id, opportunity_id = f"acc-{next(_ids)}", f"opp-{next(_ids)}"
        now = dt.datetime.now(dt.UTC)
        usd = Money(amount=Decimal("1500"), currency="USD")
        self.crm.customers[account_id] = Customer(
            account_id=account_id,
            name=f"Account {account_id}",
            tax_id="12-3456789",
            currency="USD",
            billing_address=Address(street="1 Main St", city="Springfield", country="US"),
            legal_entity="us-01",
        )
        self.crm.opportunities[opportunity_id] = Opportunity(
            opportunity_id=opportunity_id,
            account_id=account_id,
            name="Deal",
            amount=usd,
            won=True,
            lines=[
                OpportunityLine(
                    service_item="CONSULT-HR",
                    description="Work",
                    quantity=Decimal(10),
                    unit_price=Money(amount=Decimal(150), currency="USD"),
                )
            ],
        )
        self.crm.touch("customer", account_id, now)
        self.crm.touch("opportunity", opportunity_id, now)
        return account_id, opportunity_id

    def rename_account(self, account_id: str, name: str) -> None:
        self.crm.customers[account_id] = self.crm.customers[account_id].model_copy(update={"name": name})
        self.crm.touch("customer", account_id, dt.datetime.now(dt.UTC))

    def approve_time(self, project: ProjectRecord, hours: Decimal, worked_on: dt.date) -> None:
        now = dt.datetime.now(dt.UTC)
        entry = ApprovedTime(
            time_entry_id=f"t-{next(_ids)}",
            project_id=project.project_id,
            task_id=next(iter(project.task_ids.values())),
            employee_id="e-1",
            worked_on=worked_on,
            hours=hours,
            billable=True,
            approved_at=now,
        )
        self.psa.approved.setdefault(project.project_id, []).append(entry)
        self.psa.touch("time_entry", entry.time_entry_id, now)

    def unknown_id(self, record_type: str) -> str:
        return f"no-such-{record_type}"

    def post_invoice(self, project_ref: str) -> str:
        """The draft becomes the posted invoice (same id) at CONSULT-HR's list price; the
        project's next lines open a new draft."""
        draft = self.erp.drafts.pop(project_ref)
        hours = sum(Decimal(str(line.quantity)) for _, invoice, line in self.erp.lines.values() if invoice == draft)
        total = Money(amount=hours * LIST_PRICE, currency="USD")
        today = dt.date.today()
        self.erp.invoices[draft] = InvoiceRecord(
            invoice_id=draft, posted=True, number=f"INV-{draft}", total=total, amount_due=total
        )
        self.erp.postings[draft] = PostedInvoice(
            invoice_id=draft,
            number=f"INV-{draft}",
            customer_id=self.erp.draft_customers[draft],
            invoiced_on=today,
            due_on=today + dt.timedelta(days=30),
            total=total,
        )
        self.erp.touch("invoice", draft, dt.datetime.now(dt.UTC))
        return draft

    def pay_invoice(self, invoice_id: str, amount: Decimal) -> None:
        invoice = self.erp.invoices[invoice_id]
        due = invoice.amount_due.model_copy(update={"amount": invoice.amount_due.amount - amount})
        self.erp.invoices[invoice_id] = invoice.model_copy(update={"amount_due": due})
        payment_id = f"pay-{next(_ids)}"
        self.erp.payments[payment_id] = ReceivedPayment(
            payment_id=payment_id,
            invoice_id=invoice_id,
            amount=Money(amount=amount, currency="USD"),
            received_on=dt.date.today(),
            invoice_amount_due=due,
        )
        self.erp.touch("payment", payment_id, dt.datetime.now(dt.UTC))


class TrytonScenario:
    """People at work in the Tryton systems, through the local scenario roles."""

    def __init__(self, crm: TrytonCrm, psa: TrytonPsa, erp: TrytonErp) -> None:
        self.crm, self.psa = crm, psa
        self.finance = TrytonFinance(FinanceClerk(erp.client))

    def won_deal(self) -> tuple[str, str]:
        rep = SalesRep(self.crm.client)
        account = rep.create_account(
            f"Contract Account {next(_ids)}-{random_ein()}",
            street="1 Main St",
            city="Springfield",
            country="US",
            tax_id=random_ein(),
        )
        return str(account), str(rep.win_opportunity(account, "Contract deal", [("Work", 10.0)]))

    def rename_account(self, account_id: str, name: str) -> None:
        self.crm.client.write("party.party", [int(account_id)], {"name": name})

    def approve_time(self, project: ProjectRecord, hours: Decimal, worked_on: dt.date) -> None:
        consultant = Consultant(self.psa.client)
        consultant.approve([consultant.log_time(project.project_id, float(hours), worked_on=worked_on)])

    def unknown_id(self, record_type: str) -> str:
        return "987654321"

    def post_invoice(self, project_ref: str) -> str:
        return self.finance.post_invoice(project_ref)

    def pay_invoice(self, invoice_id: str, amount: Decimal) -> None:
        self.finance.record_payment(invoice_id, amount)


class SalesforceScenario:
    """People at work in the Salesforce CRM and Certinia PSA sandboxes (over their REST API)."""

    def __init__(self, systems: SalesforceSystems) -> None:
        self.driver = systems.driver

    def won_deal(self) -> tuple[str, str]:
        account = self.driver.account(
            f"Contract Account {next(_ids)}", tax_id=f"12-{next(_ids):07d}", legal_entity="us-01"
        )
        return account, self.driver.won_opportunity(account, [("CONSULT-HR", "Work", 10, 150)])

    def rename_account(self, account_id: str, name: str) -> None:
        self.driver.update(self.driver.crm_tenant, "Account", account_id, {"Name": name})

    def approve_time(self, project: ProjectRecord, hours: Decimal, worked_on: dt.date) -> None:
        monday = worked_on - dt.timedelta(days=worked_on.weekday())
        week = [float(hours) if day == worked_on.weekday() else 0.0 for day in range(7)]
        self.driver.approved_timecard(project.project_id, monday, week, task_id=next(iter(project.task_ids.values())))

    def unknown_id(self, record_type: str) -> str:
        return {"opportunity": "006000000000001AAA", "project": "a0A000000000001AAA"}[record_type]


class KantataScenario:
    """A consultant at work in the Kantata sandbox (the local scenario's, over plain REST). The
    PSA alone is under test: a won deal is a pair of CRM ids Kantata never looks at."""

    def __init__(self, systems: KantataSystems) -> None:
        self.consultant = systems.consultant

    def won_deal(self) -> tuple[str, str]:
        return f"crm-account-{next(_ids)}", f"crm-deal-{next(_ids)}"

    def rename_account(self, account_id: str, name: str) -> None:
        raise NotImplementedError("the Kantata harness has no CRM")

    def approve_time(self, project: ProjectRecord, hours: Decimal, worked_on: dt.date) -> None:
        self.consultant.approve([self.consultant.log_time(project.project_id, float(hours), worked_on=worked_on)])

    def unknown_id(self, record_type: str) -> str:
        return "987654321"


@contextmanager
def _kantata(request: pytest.FixtureRequest) -> Iterator[Harness]:
    with kantata_systems() as systems:
        yield Harness("kantata", None, systems.psa, None, KantataScenario(systems))


class HubSpotScenario:
    """A sales rep in the HubSpot sandbox portal (over its CRM objects API)."""

    def __init__(self, systems: HubSpotSystems) -> None:
        self.driver = systems.driver

    def won_deal(self) -> tuple[str, str]:
        company = self.driver.company(
            f"Contract Account {next(_ids)}", tax_id=f"12-{next(_ids):07d}", legal_entity="us-01"
        )
        return company, self.driver.won_deal(company, [("CONSULT-HR", "Work", 10, 150)])

    def rename_account(self, account_id: str, name: str) -> None:
        self.driver.update("companies", account_id, {"name": name})

    def approve_time(self, project: ProjectRecord, hours: Decimal, worked_on: dt.date) -> None:
        raise NotImplementedError("HubSpot is a CRM only")

    def unknown_id(self, record_type: str) -> str:
        return "999999999"


@contextmanager
def _hubspot(request: pytest.FixtureRequest) -> Iterator[Harness]:
    with hubspot_systems() as systems:
        yield Harness("hubspot", systems.crm, None, None, HubSpotScenario(systems))


class ErpFinance(Protocol):
    """The ERP's finance user in the local scenarios (concord.local.scenarios.finance)."""

    def post_invoice(self, project_ref: str) -> str: ...

    def record_payment(self, invoice_id: str, amount: Decimal) -> None: ...


@dataclass
class ErpScenario:
    """Finance at work in an ERP's sandbox (the local scenario's clerk, over the vendor's plain
    API): it posts the drafts Concord fills and records payments. The ERP alone is under test:
    CRM and PSA steps are not its business."""

    vendor: str
    finance: ErpFinance
    missing_id: str  # an id of the vendor's shape that names no record

    def won_deal(self) -> tuple[str, str]:
        raise NotImplementedError(f"the {self.vendor} harness has no CRM")

    def rename_account(self, account_id: str, name: str) -> None:
        raise NotImplementedError(f"the {self.vendor} harness has no CRM")

    def approve_time(self, project: ProjectRecord, hours: Decimal, worked_on: dt.date) -> None:
        raise NotImplementedError(f"the {self.vendor} harness has no PSA")

    def unknown_id(self, record_type: str) -> str:
        return self.missing_id

    def post_invoice(self, project_ref: str) -> str:
        return self.finance.post_invoice(project_ref)

    def pay_invoice(self, invoice_id: str, amount: Decimal) -> None:
        self.finance.record_payment(invoice_id, amount)


@contextmanager
def _business_central(request: pytest.FixtureRequest) -> Iterator[Harness]:
    with business_central_systems() as systems:
        yield Harness(
            "business_central",
            None,
            None,
            systems.erp,
            ErpScenario(
                "Business Central", BusinessCentralFinance(systems.finance), "00000000-0000-0000-0000-00000000abcd"
            ),
        )


def _netsuite(**settings: object) -> Callable[[pytest.FixtureRequest], AbstractContextManager[Harness]]:
    @contextmanager
    def build(request: pytest.FixtureRequest) -> Iterator[Harness]:
        with netsuite_systems(**settings) as systems:
            yield Harness(
                "netsuite",
                None,
                None,
                systems.erp,
                ErpScenario("NetSuite", NetSuiteFinance(systems.clerk), "987654321"),
            )

    return build


@contextmanager
def _dynamics_finance(request: pytest.FixtureRequest) -> Iterator[Harness]:
    with finance_systems() as systems:
        yield Harness(
            "dynamics_finance",
            None,
            None,
            systems.erp,
            ErpScenario("Dynamics 365 Finance", DynamicsFinance(systems.clerk), "usmf:NO-SUCH-RECORD"),
        )


@contextmanager
def _xero(request: pytest.FixtureRequest) -> Iterator[Harness]:
    with xero_systems() as systems:
        yield Harness(
            "xero",
            None,
            None,
            systems.erp,
            ErpScenario("Xero", XeroFinance(systems.finance), "00000000-0000-0000-0000-00000000abcd"),
        )


@contextmanager
def _workday(request: pytest.FixtureRequest) -> Iterator[Harness]:
    with workday_systems() as systems:
        yield Harness(
            "workday", None, None, systems.erp, ErpScenario("Workday", systems.finance, "CI-NO-SUCH-RECORD-1")
        )


@contextmanager
def _fakes(request: pytest.FixtureRequest) -> Iterator[Harness]:
    crm, psa, erp = FakeCrm(), FakePsa(), FakeErp()
    yield Harness("fakes", crm, psa, erp, FakeScenario(crm, psa, erp))


@contextmanager
def _tryton(request: pytest.FixtureRequest) -> Iterator[Harness]:
    crm, psa, erp = (request.getfixturevalue(role) for role in ("crm", "psa", "erp"))
    yield Harness("tryton", crm, psa, erp, TrytonScenario(crm, psa, erp))


def _salesforce(org: Literal["separate", "same"]) -> Callable[[pytest.FixtureRequest], AbstractContextManager[Harness]]:
    @contextmanager
    def build(request: pytest.FixtureRequest) -> Iterator[Harness]:
        with salesforce_systems(org=org) as systems:
            yield Harness(
                f"salesforce+certinia ({org} org)", systems.crm, systems.psa, None, SalesforceScenario(systems)
            )

    return build


@contextmanager
def _quickbooks(request: pytest.FixtureRequest) -> Iterator[Harness]:
    with quickbooks_systems() as systems:
        yield Harness("quickbooks", None, None, systems.erp, ErpScenario("QuickBooks", systems.finance, "987654321"))


BUILDERS: dict[str, Callable[[pytest.FixtureRequest], AbstractContextManager[Harness]]] = {
    "fakes": _fakes,
    "tryton": _tryton,
    "salesforce": _salesforce("separate"),
    "certinia-same-org": _salesforce("same"),
    "kantata": _kantata,
    "hubspot": _hubspot,
    "business_central": _business_central,
    "netsuite": _netsuite(),
    # an account without the custom transaction column: line refs are the registry's
    "netsuite-registry": _netsuite(fields={}),
    "dynamics_finance": _dynamics_finance,
    "quickbooks": _quickbooks,
    "xero": _xero,
    "workday": _workday,
}
CRMS = ["fakes", "tryton", "salesforce", "hubspot"]
PSAS = ["fakes", "tryton", "salesforce", "certinia-same-org", "kantata"]
ERPS = [
    "fakes",
    "tryton",
    "business_central",
    "netsuite",
    "netsuite-registry",
    "dynamics_finance",
    "quickbooks",
    "xero",
    "workday",
]


@pytest.fixture
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    with BUILDERS[request.param](request) as built:
        yield built
