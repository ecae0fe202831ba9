"""The corpus recorder (moto audit trail → anonymised events files) and the anonymiser."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws

from concord.events import new_event, parse_event
from concord.events.envelope import AccountChangedEvent
from concord.stores.audit_items import DeliveryTimings
from tests.regression.anonymise import anonymise, anonymise_xml, fake
from tests.regression.record import record

from .operator.helpers import Stage

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def stage() -> Iterator[Stage]:
    with mock_aws():
        yield Stage()


def changed(account_id: str, name: str, hours_ago: int) -> AccountChangedEvent:
    at = NOW - dt.timedelta(hours=hours_ago)
    data = {
        "account_id": account_id,
        "name": name,
        "tax_id": "94-1234567",
        "billing_address": {"street": "1 Infinite Loop", "city": "Cupertino", "postal_code": "95014", "country": "US"},
    }
    return new_event(AccountChangedEvent, data, legal_entity="us-01", occurred_at=at, ingested_at=at)


def test_the_recorder_writes_the_newest_events_of_each_type_anonymised(stage: Stage, tmp_path: Path) -> None:
    for event in (changed("A-1", "Hooli Inc", 30), changed("A-2", "Pied Piper", 3), changed("A-3", "Hooli Inc", 2)):
        stage.stores.audit.record_event(event, DeliveryTimings(None, None))

    counts = record(stage.stores, NOW - dt.timedelta(days=1), NOW, per_type=2, corpus=tmp_path)

    assert counts == {"AccountChanged": 2}
    written = json.loads((tmp_path / "events" / "AccountChanged.json").read_text())
    assert [e["data"]["account_id"] for e in written] == ["A-2", "A-3"]  # A-1 is outside the window
    text = json.dumps(written)
    for original in ("Hooli", "Pied Piper", "Infinite Loop", "Cupertino", "95014", "94-1234567"):
        assert original not in text
    assert written[1]["data"]["name"] == fake("name", "Hooli Inc")  # the same value, the same fake
    assert [parse_event(e).type for e in written] == ["AccountChanged", "AccountChanged"]


def test_anonymised_tax_ids_keep_their_shape_and_emails_are_replaced_anywhere() -> None:
    faked = anonymise({"tax_id": "DE-811907980", "note": "ask jane.doe@example.org", "amount": "12.50"})
    assert faked["tax_id"] != "DE-811907980"
    assert faked["tax_id"][:3] == "XX-" and faked["tax_id"][3:].isdigit() and len(faked["tax_id"]) == 12
    assert "jane.doe" not in faked["note"] and faked["note"].endswith("@example.com")
    assert faked["amount"] == "12.50"
    assert anonymise({"tax_id": "DE-811907980"}) == {"tax_id": faked["tax_id"]}  # stable
    assert anonymise({"name": "name-0a1b2c3d", "email": "user-0a1b2c3d@example.com"}) == {
        "name": "name-0a1b2c3d",
        "email": "user-0a1b2c3d@example.com",
    }  # fakes are left as they are


def test_xml_bodies_have_their_sensitive_elements_faked() -> None:
    body = "<sf:Id>001A</sf:Id><sf:Name>Hooli Inc</sf:Name><sf:BillingCity>Palo Alto</sf:BillingCity>"
    assert anonymise_xml(body) == (
        f"<sf:Id>001A</sf:Id><sf:Name>{fake('name', 'Hooli Inc')}</sf:Name>"
        f"<sf:BillingCity>{fake('city', 'Palo Alto')}</sf:BillingCity>"
    )
