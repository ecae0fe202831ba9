"""Master data beyond customers (issue #19 part 2), against in-memory systems (sync_world.py):
legal entities and cost centres are validated (an unknown one parks the record with that
reason), invoice lines carry the mapped cost centre and tax code, and a service item changed in
the ERP reaches the CRM's and PSA's catalogues (not applicable where a system has none)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from pydantic import ValidationError

from concord.aws.systems import RoleConnector
from concord.connectors.tryton.mapping import to_tryton_invoice_line_values
from concord.domain import ApprovedTime, CrmCapabilities, PsaCapabilities, RecordChange, ServiceItem
from concord.errors import ConfigurationError, ValidationFailed
from concord.events import Envelope, new_event
from concord.events.envelope import ServiceItemChangedEvent, TimeApprovedEvent
from concord.events.types import Money, System
from concord.ownership import load_system_of_record
from concord.sync import billing
from concord.sync.change_capture import watch_for
from concord.sync.ids import canonical_id
from concord.sync.rules import LegalEntityRules, TaxRules
from concord.sync.service_items import sync_service_item, sync_service_items
from concord.sync.systems import Systems

from . import sync_world
from .fakes import FakeCrm, FakeErp, FakePsa, erp_capabilities, system_of_record, us_rules
from .sync_world import NOW, PSA_PROJECT, expense_event, time_event

systems = sync_world.systems  # the fixture: a deal quote-to-cash turned into an ERP customer and a PSA project

RULES = us_rules().model_copy(
    update={
        "cost_centres": {"CONSULTING": {"psa": "Consulting", "erp": "CC-100"}, "TRAINING": {}},
        "tax": TaxRules(
            codes={"standard": "Sales tax 8%", "exempt": "Exempt"},
            service_items={"EXP-REBILL": "exempt"},
            default_category="standard",
        ),
    }
)


def with_rules(systems: Systems, rules: LegalEntityRules = RULES) -> Systems:
    return dataclasses.replace(systems, rules={"us-01": rules})


def booked_to(event: Envelope, cost_centre: str | None, legal_entity: str = "us-01") -> Envelope:
    return event.model_copy(
        update={"legal_entity": legal_entity, "data": event.data.model_copy(update={"cost_centre": cost_centre})}
    )


# --- legal entities, cost centres, tax codes --------------------------------------------------


def test_a_lines_cost_centre_and_tax_code_are_the_erps() -> None:
    time = billing.invoice_line(booked_to(time_event("1"), "Consulting"), RULES)  # type: ignore[arg-type]
    assert (time.cost_centre, time.tax_code) == ("CC-100", "Sales tax 8%")
    # a system not listed for a cost centre calls it by its code; the expense item is exempt
    expense = billing.invoice_line(booked_to(expense_event("9"), "TRAINING"), RULES)  # type: ignore[arg-type]
    assert (expense.cost_centre, expense.tax_code) == ("TRAINING", "Exempt")


def test_without_cost_centre_or_tax_rules_a_line_leaves_both_to_the_erp() -> None:
    line = billing.invoice_line(time_event("1"), us_rules())
    assert (line.cost_centre, line.tax_code) == (None, None)


def test_the_erp_receives_the_mapped_cost_centre(systems: Systems) -> None:
    outcome = billing.bill([("m", booked_to(time_event("1"), "Consulting"))], with_rules(systems))
    assert outcome["m"].billed  # type: ignore[union-attr]
    ((_, _, line),) = systems.erp.lines.values()  # type: ignore[attr-defined]
    assert (line.cost_centre, line.tax_code) == ("CC-100", "Sales tax 8%")


@pytest.mark.parametrize("billable", [True, False])
def test_an_unknown_cost_centre_is_parked_with_that_reason_billable_or_not(systems: Systems, billable: bool) -> None:
    event = booked_to(time_event("1", billable=billable), "Marketing")
    outcome = billing.bill([("bad", event), ("good", time_event("2"))], with_rules(systems))
    assert isinstance(outcome["bad"], ValidationFailed)
    assert "unknown cost centre 'Marketing' for legal entity us-01" in str(outcome["bad"])
    assert outcome["good"].billed  # type: ignore[union-attr]
    assert [ref for ref in systems.erp.lines] == ["time:2"]  # type: ignore[attr-defined]


def test_an_erp_id_is_no_psa_cost_centre(systems: Systems) -> None:
    """Not guessed: the PSA's "CC-100" is not the ERP's CC-100 (the PSA calls it "Consulting")."""
    outcome = billing.bill([("m", booked_to(time_event("1"), "CC-100"))], with_rules(systems))
    assert isinstance(outcome["m"], ValidationFailed)


def test_an_unknown_legal_entity_is_parked_with_that_reason(systems: Systems) -> None:
    for billable in (True, False):
        event = booked_to(time_event("1", billable=billable), None, legal_entity="de-02")
        outcome = billing.bill([("m", event)], systems)
        assert isinstance(outcome["m"], ValidationFailed)
        assert "unknown legal entity de-02" in str(outcome["m"])


def test_a_tax_category_without_a_tax_code_is_refused_at_configuration() -> None:
    with pytest.raises(ValidationError, match="tax categories without a tax code"):
        TaxRules(codes={"standard": "VAT"}, service_items={"CONSULT-HR": "reduced"})


def test_change_capture_carries_the_psas_cost_centre() -> None:
    entry = ApprovedTime(
        time_entry_id="5",
        project_id=PSA_PROJECT,
        task_id="42",
        employee_id="3",
        worked_on=NOW.date(),
        hours=Decimal("2"),
        billable=True,
        approved_at=NOW,
        cost_centre="Consulting",
    )
    psa = FakePsa(approved={PSA_PROJECT: [entry]})
    watch = watch_for("psa", "time_entry", "psa", (FakeCrm(), psa, FakeErp()), "us-01")
    (event,) = watch.announce(RecordChange(record_type="time_entry", record_id="5", written_at=NOW, created_at=NOW))
    assert isinstance(event, TimeApprovedEvent) and event.data.cost_centre == "Consulting"


# --- service items ----------------------------------------------------------------------------


@dataclasses.dataclass
class CatalogueCrm(FakeCrm):
    catalogue: dict[str, tuple[str, ServiceItem]] = dataclasses.field(default_factory=dict)  # code -> (id, item)
    capabilities: CrmCapabilities = dataclasses.field(default_factory=lambda: CrmCapabilities(service_items=True))

    def upsert_service_item(self, item: ServiceItem) -> str:
        record_id = self.catalogue.get(item.code, (f"crm-{len(self.catalogue) + 1}", item))[0]
        self.catalogue[item.code] = (record_id, item)
        return record_id


@dataclasses.dataclass
class CataloguePsa(FakePsa):
    catalogue: dict[str, tuple[str, ServiceItem]] = dataclasses.field(default_factory=dict)
    capabilities: PsaCapabilities = dataclasses.field(default_factory=lambda: PsaCapabilities(service_items=True))
    upserts: int = 0

    def upsert_service_item(self, item: ServiceItem) -> str:
        self.upserts += 1
        record_id = self.catalogue.get(item.code, (f"psa-{len(self.catalogue) + 1}", item))[0]
        self.catalogue[item.code] = (record_id, item)
        return record_id


@dataclasses.dataclass
class CatalogueErp(FakeErp):
    products: dict[str, ServiceItem] = dataclasses.field(default_factory=dict)  # id -> item (None: goods)

    def service_item(self, record_id: str) -> ServiceItem | None:
        return self.products.get(record_id)


ITEM = ServiceItem(
    code="DATA-HR", name="Data engineering hour", unit="hour", list_price=Money(amount=Decimal("180"), currency="USD")
)


def item_changed(item: ServiceItem = ITEM, at: dt.datetime = NOW, item_id: str = "77") -> ServiceItemChangedEvent:
    return new_event(
        ServiceItemChangedEvent, {"item_id": item_id, **item.model_dump()}, legal_entity="us-01", occurred_at=at
    )


@pytest.fixture()
def catalogues(systems: Systems) -> Systems:
    return dataclasses.replace(systems, crm=CatalogueCrm(), psa=CataloguePsa())


def test_an_erp_service_item_reaches_the_crm_and_psa_catalogues(catalogues: Systems) -> None:
    synced = sync_service_item(item_changed(), dataclasses.replace(catalogues, crm=behind_role_proxy(catalogues.crm)))  # type: ignore[arg-type]
    assert synced.written == ("crm", "psa") and synced.applied
    assert catalogues.crm.catalogue["DATA-HR"] == ("crm-1", ITEM)  # type: ignore[attr-defined]
    assert catalogues.psa.catalogue["DATA-HR"] == ("psa-1", ITEM)  # type: ignore[attr-defined]
    ref = canonical_id("service_item", System.ERP, "DATA-HR")
    assert catalogues.xref.records_of("service_item", ref) == {"erp": "77", "crm": "crm-1", "psa": "psa-1"}
    assert [entry.action for entry in catalogues.xref.lineage("service_item", ref)] == ["catalogue entry upserted"] * 2


def test_a_redelivery_writes_nothing_and_an_older_change_is_ignored(catalogues: Systems) -> None:
    sync_service_item(item_changed(), catalogues)
    again = sync_service_item(item_changed(), catalogues)
    assert (again.applied, again.detail) == (False, "written to nothing (already in sync)")
    assert catalogues.psa.upserts == 1  # type: ignore[attr-defined]
    renamed = ITEM.model_copy(update={"name": "Data hour"})
    sync_service_item(item_changed(renamed, NOW + dt.timedelta(minutes=5)), catalogues)
    stale = sync_service_item(item_changed(ITEM, NOW + dt.timedelta(minutes=1)), catalogues)
    assert stale.detail.startswith("stale") and catalogues.crm.catalogue["DATA-HR"][1].name == "Data hour"  # type: ignore[attr-defined]


def test_a_system_without_a_catalogue_is_not_applicable(systems: Systems) -> None:
    synced = sync_service_item(item_changed(), dataclasses.replace(systems, crm=CatalogueCrm()))
    assert synced.written == ("crm",) and synced.not_applicable == ("psa",)
    assert "not applicable to psa" in synced.detail


def test_a_catalogue_declared_but_not_writable_is_a_configuration_error(systems: Systems) -> None:
    crm = FakeCrm(capabilities=CrmCapabilities(service_items=True))
    with pytest.raises(ConfigurationError):
        sync_service_item(item_changed(), dataclasses.replace(systems, crm=crm))


def test_only_the_system_of_record_may_change_a_service_item(catalogues: Systems) -> None:
    raw = system_of_record().model_dump(by_alias=True)
    raw["objects"]["service_item"] = {"authority": "crm"}
    with pytest.raises(ValidationFailed, match="the CRM is the system of record for service items"):
        sync_service_item(item_changed(), dataclasses.replace(catalogues, ownership=load_system_of_record(raw)))
    assert catalogues.crm.catalogue == {}  # type: ignore[attr-defined]


def test_a_batch_syncs_each_item_once_for_its_newest_change(catalogues: Systems) -> None:
    older, newer = item_changed(), item_changed(ITEM.model_copy(update={"active": False}), NOW + dt.timedelta(1))
    outcomes = sync_service_items([("new", newer), ("old", older), ("x", time_event("1"))], catalogues)
    assert outcomes["new"].applied and outcomes["old"].detail.startswith("superseded")  # type: ignore[union-attr]
    assert isinstance(outcomes["x"], ValidationFailed)
    assert catalogues.psa.catalogue["DATA-HR"][1].active is False  # type: ignore[attr-defined]


def behind_role_proxy(target: object) -> RoleConnector:
    """The connector behind the stand-in a function's role connector is (connected on first use)."""
    return RoleConnector(lambda: target)


def test_change_capture_announces_the_erps_service_items_only() -> None:
    erp = CatalogueErp(
        capabilities=erp_capabilities().model_copy(update={"service_items": True}), products={"77": ITEM}
    )
    watch = watch_for("erp", "service_item", "erp", (FakeCrm(), FakePsa(), behind_role_proxy(erp)), "us-01")  # type: ignore[arg-type]
    change = RecordChange(record_type="service_item", record_id="77", written_at=NOW, created_at=NOW)
    (event,) = watch.announce(change)
    assert isinstance(event, ServiceItemChangedEvent) and event.data.code == "DATA-HR" and event.data.item_id == "77"
    assert watch.announce(change)[0].id == event.id  # the same change, the same event
    assert watch.announce(change.model_copy(update={"record_id": "78"})) == []  # not a service item


def test_an_erp_without_service_items_cannot_be_watched_for_them() -> None:
    with pytest.raises(ValidationFailed, match="no change capture for erp:service_item"):
        watch_for("erp", "service_item", "erp", (FakeCrm(), FakePsa(), CatalogueErp()), "us-01")


def test_tryton_puts_the_tax_code_in_place_of_the_category_taxes_and_keeps_the_cost_centre() -> None:
    line = billing.invoice_line(booked_to(time_event("1"), "Consulting"), RULES)  # type: ignore[arg-type]
    values = to_tryton_invoice_line_values(
        line,
        currency="USD",
        currency_id=1,
        list_price_currency="USD",
        products={"CONSULT-HR": {"id": 5, "default_uom": 2, "list_price_used": Decimal(150), "account_category": 3}},
        revenue_accounts={3: 40},
        customer_taxes={3: [11, 12]},
        taxes_by_code={"Sales tax 8%": 13},
    )
    assert values["taxes"] == [["add", [13]]] and values["concord_cost_centre"] == "CC-100"
    plain = to_tryton_invoice_line_values(
        billing.invoice_line(time_event("1"), us_rules()),
        currency="USD",
        currency_id=1,
        list_price_currency="USD",
        products={"CONSULT-HR": {"id": 5, "default_uom": 2, "list_price_used": Decimal(150), "account_category": 3}},
        revenue_accounts={3: 40},
        customer_taxes={3: [11, 12]},
    )
    assert plain["taxes"] == [["add", [11, 12]]] and "concord_cost_centre" not in plain
