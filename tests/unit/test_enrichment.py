"""Enrichment: notices of changed records become the events polling announces, with its ids;
Salesforce change events (as relayed to EventBridge) become notices."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from concord.domain import Customer, Opportunity
from concord.errors import ValidationFailed
from concord.events.payloads import ChangeNotified, OpportunityLine
from concord.events.types import Money
from concord.ingress.vendors.salesforce.change_events import EventRelay, change_notices, parse_relays
from concord.sync.change_capture import capture, watch_for
from concord.sync.enrichment import enrich, enrich_each

from .fakes import FakeBus, FakeCrm, FakeErp, FakePsa
from .test_change_capture import MemoryCheckpoints

T0 = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
FIXTURES = Path(__file__).parent / "fixtures" / "salesforce_cdc"
RELAY_BUS = "aws.partner/salesforce.com/00DRM000000Fxts2AC/0YLRM0000004Dfg4AE"
CRM_RELAY = EventRelay(event_bus_name=RELAY_BUS, system="crm", source="salesforce")


def _won_deal(crm: FakeCrm, opportunity_id: str, written: dt.datetime) -> None:
    price = Money(amount=Decimal(150), currency="USD")
    crm.opportunities[opportunity_id] = Opportunity(
        opportunity_id=opportunity_id,
        account_id="7",
        name="Deal",
        amount=Money(amount=Decimal(1500), currency="USD"),
        won=True,
        lines=[OpportunityLine(service_item="CONSULT-HR", description="Work", quantity=Decimal(10), unit_price=price)],
    )
    crm.touch("opportunity", opportunity_id, written)


def _notice(record_type: str, *ids: str, system: str = "crm") -> ChangeNotified:
    return ChangeNotified(system=system, record_type=record_type, record_ids=list(ids), vendor_source="salesforce")


def _fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())["event"]


# --------------------------------------------------------------------------- enrich


def test_a_notice_and_a_poll_of_the_same_won_deal_announce_one_event_id() -> None:
    crm, psa, erp = FakeCrm(), FakePsa(), FakeErp()
    _won_deal(crm, "31", T0)
    pushed, polled = FakeBus(), FakeBus()

    report = enrich([_notice("opportunity", "31")], (crm, psa, erp), pushed, "us-01", lambda: T0)
    checkpoints = MemoryCheckpoints({"crm:opportunity": crm.start_cursor("opportunity", T0 - dt.timedelta(minutes=1))})
    watch = watch_for("crm", "opportunity", "salesforce", (crm, psa, erp), "us-01", lambda: T0)
    capture(watch, checkpoints, polled, now=T0)

    assert [e.type for e in pushed.published] == ["OpportunityClosedWon"]
    assert [e.id for e in pushed.published] == [e.id for e in polled.published]
    assert report.model_dump() == {"notices": 1, "records": 1, "found": 1, "events": 1}


def test_records_that_are_gone_or_not_won_are_read_but_announce_nothing() -> None:
    crm, bus = FakeCrm(), FakeBus()
    _won_deal(crm, "31", T0)
    crm.opportunities["32"] = crm.opportunities["31"].model_copy(update={"opportunity_id": "32", "won": False})
    crm.touch("opportunity", "32", T0)

    report = enrich([_notice("opportunity", "31", "32", "99")], (crm, FakePsa(), FakeErp()), bus, "us-01", lambda: T0)

    assert [e.data.opportunity_id for e in bus.published] == ["31"]
    assert (report.records, report.found, report.events) == (3, 2, 1)


def test_account_changes_are_announced_with_the_polled_id_of_that_write() -> None:
    crm, bus = FakeCrm(), FakeBus()
    crm.customers["7"] = Customer(account_id="7", name="Acme", legal_entity="us-01")
    crm.touch("customer", "7", T0)

    enrich([_notice("customer", "7")], (crm, FakePsa(), FakeErp()), bus, "us-01", lambda: T0)
    enrich([_notice("customer", "7")], (crm, FakePsa(), FakeErp()), bus, "us-01", lambda: T0)  # redelivered

    assert [e.type for e in bus.published] == ["AccountChanged", "AccountChanged"]
    assert len({e.id for e in bus.published}) == 1


def test_one_failing_message_is_reported_alone() -> None:
    crm, bus = FakeCrm(), FakeBus()
    _won_deal(crm, "31", T0)

    outcomes = enrich_each(
        [("ok", [_notice("opportunity", "31")]), ("bad", [_notice("time_entry", "5", system="crm")])],
        (crm, FakePsa(), FakeErp()),
        bus,
        "us-01",
        lambda: T0,
    )

    assert isinstance(outcomes["bad"], ValidationFailed) and "crm:time_entry" in str(outcomes["bad"])
    assert outcomes["ok"].model_dump()["events"] == 1 and len(bus.published) == 1


# --------------------------------------------------------------------------- Salesforce CDC


@pytest.mark.parametrize("fixture", ["event_relay_account_update.json", "appflow_account_update.json"])
def test_a_relayed_account_change_becomes_a_customer_notice(fixture: str) -> None:
    event = _fixture(fixture)

    (notice,) = change_notices({"crm": CRM_RELAY}, event["detail"])

    expected_id = "001RM000005a9tGYAQ" if fixture.startswith("event_relay") else "0016g00000MLhLeAAL"
    assert notice == _notice("customer", expected_id)


def test_a_deleted_record_and_an_unmapped_object_give_no_notice() -> None:
    deleted = _fixture("event_relay_account_delete.json")["detail"]
    contact = json.loads(json.dumps(_fixture("event_relay_account_update.json")["detail"]))
    contact["payload"]["ChangeEventHeader"]["entityName"] = "Contact"

    assert change_notices({"crm": CRM_RELAY}, deleted) == []
    assert change_notices({"crm": CRM_RELAY}, contact) == []


def test_timecards_map_to_time_entries_of_the_relays_system_in_notices_of_at_most_200() -> None:
    detail = json.loads(json.dumps(_fixture("event_relay_account_update.json")["detail"]))
    header = detail["payload"]["ChangeEventHeader"]
    header["entityName"], header["changeType"] = "pse__Timecard_Header__c", "GAP_UPDATE"
    header["recordIds"] = [f"a8X{n:015d}" for n in range(250)]
    psa_relay = EventRelay(event_bus_name=RELAY_BUS, system="psa", source="certinia")

    notices = change_notices({"psa": psa_relay}, detail)

    assert [(n.system, n.record_type, n.vendor_source, len(n.record_ids)) for n in notices] == [
        ("psa", "time_entry", "certinia", 200),
        ("psa", "time_entry", "certinia", 50),
    ]
    assert notices[0].record_ids + notices[1].record_ids == header["recordIds"]


@pytest.mark.parametrize(
    ("detail", "reason"),
    [
        ({"payload": {"Name": "x"}}, "no ChangeEventHeader"),
        (
            {"payload": {"ChangeEventHeader": {"changeType": "UPDATE", "recordIds": ["001RM000005a9tGYAQ"]}}},
            "entityName",
        ),
        (
            {"ChangeEventHeader": {"entityName": "Account", "changeType": "UPDATE", "recordIds": "001RM000005a9tGYAQ"}},
            "recordIds",
        ),
    ],
)
def test_a_malformed_change_event_fails_validation_naming_what_is_wrong(detail: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValidationFailed, match=reason):
        change_notices({"crm": CRM_RELAY}, detail)


def test_relay_configuration_is_validated_and_keyed_by_its_partner_bus_and_role() -> None:
    relays = parse_relays(json.dumps([{"event_bus_name": RELAY_BUS, "system": "crm"}]))

    assert relays == {RELAY_BUS: {"crm": EventRelay(event_bus_name=RELAY_BUS, system="crm", source="salesforce")}}
    with pytest.raises(ValueError):
        parse_relays([{"event_bus_name": "concord-dev", "system": "crm"}])
    with pytest.raises(ValueError, match="two relays for the CRM"):
        parse_relays([{"event_bus_name": RELAY_BUS, "system": "crm"}, {"event_bus_name": RELAY_BUS, "system": "crm"}])


def test_each_object_is_announced_for_its_own_role_and_source() -> None:
    """Certinia in the CRM's org: one bus, a relay per role; a separate PSA org's Accounts are not the CRM's."""
    same_org = {"crm": CRM_RELAY, "psa": EventRelay(event_bus_name=RELAY_BUS, system="psa", source="certinia")}
    account = _fixture("event_relay_account_update.json")["detail"]
    timecard = json.loads(json.dumps(account))
    timecard["payload"]["ChangeEventHeader"]["entityName"] = "pse__Timecard_Header__c"

    (for_crm,) = change_notices(same_org, account)
    (for_psa,) = change_notices(same_org, timecard)

    assert (for_crm.system, for_crm.record_type, for_crm.vendor_source) == ("crm", "customer", "salesforce")
    assert (for_psa.system, for_psa.record_type, for_psa.vendor_source) == ("psa", "time_entry", "certinia")
    assert change_notices({"psa": same_org["psa"]}, account) == []
    with pytest.raises(ValueError):
        parse_relays([{"event_bus_name": RELAY_BUS, "system": "erp"}])
