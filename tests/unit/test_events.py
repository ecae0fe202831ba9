"""Canonical events: envelope validation, value types, event ids, and the checked-in schemas."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

import pytest
from pydantic import ValidationError

from concord.events import (
    EVENT_MODEL_BY_TYPE,
    EVENT_MODELS,
    event_id_for_delivery,
    new_event,
    producer_of,
    schemas,
)
from concord.events.envelope import EVENT_MODEL_BY_VERSION, InvoicePostedEvent, OpportunityClosedWonEvent
from concord.events.payloads import OpportunityClosedWon
from concord.events.types import Money, System
from concord.events.versions import AS_SENT, parse_event

OCCURRED_AT = dt.datetime(2025, 3, 14, 9, 30, tzinfo=dt.UTC)
INGESTED_AT = dt.datetime(2025, 3, 14, 9, 30, 2, tzinfo=dt.UTC)
REGENERATE = "run `python -m concord.events.schemas` (or `make schemas`) and commit the result"


def _event_type(model: type) -> str:
    return model.model_fields["type"].default


def _sample(model: type, sample_data) -> dict:
    """The type's sample payload with only the fields this version of it has."""
    fields = model.model_fields["data"].annotation.model_fields
    return {key: value for key, value in sample_data(_event_type(model)).items() if key in fields}


def _build(model: type, data: dict) -> object:
    return new_event(
        model,
        data,
        legal_entity="acme-de",
        occurred_at=OCCURRED_AT,
        ingested_at=INGESTED_AT,
        causation_id="evt-cause-1",
    )


# --------------------------------------------------------------------------- catalog


def test_every_event_type_has_a_sample_payload(sample_event_types) -> None:
    # A new event type must come with a sample in conftest, or the round-trip test misses it.
    assert sample_event_types == set(EVENT_MODEL_BY_TYPE)
    assert set(EVENT_MODEL_BY_TYPE) == {_event_type(model) for model in EVENT_MODELS}


@pytest.mark.parametrize("model", EVENT_MODELS, ids=_event_type)
def test_every_event_round_trips_through_json(model: type, sample_data) -> None:
    event = _build(model, _sample(model, sample_data))

    from_json = parse_event(event.model_dump_json(), AS_SENT)
    from_bytes = parse_event(event.model_dump_json().encode(), AS_SENT)
    from_dict = parse_event(json.loads(event.model_dump_json()), AS_SENT)

    for parsed in (from_json, from_bytes, from_dict):
        assert type(parsed) is model
        assert parsed == event
        assert parsed.model_dump(mode="json") == event.model_dump(mode="json")


@pytest.mark.parametrize("model", EVENT_MODELS, ids=_event_type)
def test_bus_source_names_the_producing_system(model: type, sample_data) -> None:
    event = _build(model, _sample(model, sample_data))
    assert event.bus_source == f"concord.{producer_of(event.type).value}"


def test_producers_follow_the_systems_of_record() -> None:
    assert producer_of("OpportunityClosedWon") is System.CRM
    assert producer_of("TimeApproved") is System.PSA
    assert producer_of("InvoicePosted") is System.ERP
    assert producer_of("DriftDetected") is System.CONCORD
    with pytest.raises(KeyError):
        producer_of("NoSuchEvent")


def test_discriminator_rejects_an_unknown_type(sample_data) -> None:
    raw = json.loads(_build(InvoicePostedEvent, sample_data("InvoicePosted")).model_dump_json())
    raw["type"] = "InvoiceDeleted"

    with pytest.raises(ValidationError) as caught:
        parse_event(raw)

    assert [e["type"] for e in caught.value.errors()] == ["union_tag_invalid"]


def test_an_event_with_the_wrong_source_system_for_its_type_is_rejected(sample_data) -> None:
    raw = json.loads(_build(InvoicePostedEvent, sample_data("InvoicePosted")).model_dump_json())
    raw["source_system"] = "crm"  # only the ERP may post invoices

    with pytest.raises(ValidationError) as caught:
        parse_event(raw)

    assert [e["loc"] for e in caught.value.errors()] == [("InvoicePosted.v1", "source_system")]


def test_envelope_forbids_unknown_fields_and_naive_timestamps(sample_data) -> None:
    raw = json.loads(_build(InvoicePostedEvent, sample_data("InvoicePosted")).model_dump_json())

    with pytest.raises(ValidationError):
        parse_event({**raw, "surprise": 1})
    with pytest.raises(ValidationError):
        parse_event({**raw, "occurred_at": "2025-03-14T09:30:00"})


# --------------------------------------------------------------------------- value types


@pytest.mark.parametrize("currency", ["eur", "Eur", "EURO", "EU", "E1R", ""])
def test_money_rejects_anything_but_three_upper_case_letters(currency: str) -> None:
    with pytest.raises(ValidationError):
        Money(amount=Decimal("1.00"), currency=currency)


def test_money_rejects_floats_with_more_than_four_decimals() -> None:
    with pytest.raises(ValidationError) as caught:
        Money(amount=1.23456, currency="EUR")
    assert caught.value.errors()[0]["loc"] == ("amount",)


def test_money_keeps_four_decimals_exactly() -> None:
    assert Money(amount=1.2345, currency="EUR").amount == Decimal("1.2345")
    assert Money(amount="0.0001", currency="USD").amount == Decimal("0.0001")


def test_opportunity_rejects_lines_priced_in_another_currency(sample_data) -> None:
    data = sample_data("OpportunityClosedWon")
    data["lines"].append(
        {
            "service_item": "SVC-LICENSE",
            "description": "Licence",
            "quantity": "1",
            "unit_price": {"amount": "500.00", "currency": "USD"},
        }
    )

    with pytest.raises(ValidationError, match="opportunity's currency"):
        OpportunityClosedWon.model_validate(data)


def test_opportunity_needs_at_least_one_line(sample_data) -> None:
    data = sample_data("OpportunityClosedWon")
    data["lines"] = []
    with pytest.raises(ValidationError):
        OpportunityClosedWon.model_validate(data)


def test_events_are_immutable(sample_data) -> None:
    event = _build(InvoicePostedEvent, sample_data("InvoicePosted"))
    with pytest.raises(ValidationError):
        event.legal_entity = "other"


# --------------------------------------------------------------------------- ids


def test_new_event_starts_its_own_correlation(sample_data) -> None:
    event = new_event(
        OpportunityClosedWonEvent,
        sample_data("OpportunityClosedWon"),
        legal_entity="acme-de",
        occurred_at=OCCURRED_AT,
    )

    assert event.correlation_id == event.id
    assert uuid.UUID(event.id)
    assert event.causation_id is None
    assert event.ingested_at is None


def test_new_event_continues_a_given_correlation(sample_data) -> None:
    event = new_event(
        OpportunityClosedWonEvent,
        sample_data("OpportunityClosedWon"),
        legal_entity="acme-de",
        occurred_at=OCCURRED_AT,
        event_id="evt-2",
        correlation_id="corr-1",
    )
    assert (event.id, event.correlation_id) == ("evt-2", "corr-1")


def test_new_events_get_distinct_ids(sample_data) -> None:
    ids = {
        new_event(InvoicePostedEvent, sample_data("InvoicePosted"), legal_entity="acme-de", occurred_at=OCCURRED_AT).id
        for _ in range(20)
    }
    assert len(ids) == 20


def test_event_id_for_delivery_is_stable_and_differs_per_source_and_delivery() -> None:
    first = event_id_for_delivery("crm", "msg_1")

    assert event_id_for_delivery("crm", "msg_1") == first
    assert event_id_for_delivery("psa", "msg_1") != first
    assert event_id_for_delivery("crm", "msg_2") != first
    assert uuid.UUID(first).version == 5


# --------------------------------------------------------------------------- JSON schemas


def test_checked_in_schemas_match_the_models() -> None:
    expected = schemas.expected_schemas()
    for name, text in expected.items():
        path = schemas.SCHEMA_DIR / name
        assert path.is_file(), f"{name} is missing: {REGENERATE}"
        assert path.read_text(encoding="utf-8") == text, f"{name} is out of date: {REGENERATE}"


def test_no_stale_schema_files_are_checked_in() -> None:
    on_disk = {path.name for path in schemas.SCHEMA_DIR.glob("*.json")}
    stale = on_disk - set(schemas.expected_schemas())
    assert not stale, f"schemas without a model: {sorted(stale)}: {REGENERATE}"


def test_one_schema_per_event_type_and_version() -> None:
    names = set(schemas.expected_schemas())
    assert names == {f"{event_type}.v{version}.json" for event_type, version in EVENT_MODEL_BY_VERSION}
    assert "OpportunityClosedWon.v2.json" in names


def test_write_schemas_rewrites_the_directory_and_removes_stale_files(tmp_path) -> None:
    (tmp_path / "Removed.v1.json").write_text("{}")
    (tmp_path / "InvoicePosted.v1.json").write_text("{}")
    (tmp_path / "notes.txt").write_text("kept")

    schemas.write_schemas(tmp_path)

    expected = schemas.expected_schemas()
    assert {p.name for p in tmp_path.glob("*.json")} == set(expected)
    assert all((tmp_path / name).read_text() == text for name, text in expected.items())
    assert (tmp_path / "notes.txt").read_text() == "kept"


def test_schemas_pin_type_and_producer_of_each_event() -> None:
    schema = json.loads(schemas.expected_schemas()["InvoicePosted.v1.json"])
    assert schema["$id"] == "urn:concord:events:InvoicePosted.v1"
    assert schema["properties"]["type"]["const"] == "InvoicePosted"
    assert schema["properties"]["source_system"]["const"] == "erp"
    assert schema["additionalProperties"] is False


def test_timestamps_in_events_must_be_timezone_aware(sample_data) -> None:
    with pytest.raises(ValidationError):
        new_event(
            InvoicePostedEvent,
            sample_data("InvoicePosted"),
            legal_entity="acme-de",
            occurred_at=dt.datetime(2025, 3, 14, 9, 30),
        )


@pytest.mark.parametrize(("source", "delivery_id"), [("crm", "msg_1"), ("hubspot", "é" * 300), ("xero", "")])
def test_event_id_for_delivery_is_the_uuid5_of_source_and_delivery(source: str, delivery_id: str) -> None:
    namespace = uuid.UUID("6f1f5d2e-3c1a-4d8e-9b7a-0c6f2a1e9d41")
    assert event_id_for_delivery(source, delivery_id) == str(uuid.uuid5(namespace, f"{source}:{delivery_id}"))
