"""Event versions: the registry, the v1 → v2 upcaster, and what parsing does with each status."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from pydantic import ValidationError

from concord.aws import bus
from concord.aws.consumer import describe_error
from concord.errors import ValidationFailed
from concord.events import EVENT_MODEL_BY_TYPE, new_event
from concord.events.envelope import OpportunityClosedWonEvent, OpportunityClosedWonV1Event
from concord.events.payloads import DEFAULT_CONTRACT_TYPE, ContractType
from concord.events.types import System
from concord.events.versions import (
    AS_SENT,
    VERSIONS,
    EventVersion,
    Status,
    current_version,
    markdown_versions,
    opportunity_closed_won_v1_to_v2,
    parse_event,
    versions_of,
)
from concord.ingress.canonical import to_canonical_event
from concord.ingress.errors import InvalidEvent
from concord.ingress.sources import SourceConfig
from concord.sync.quote_to_cash import TRIGGER_ACCEPTS, SagaState

from ..conftest import REPO_ROOT

OCCURRED_AT = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def v1_event(sample_data) -> OpportunityClosedWonV1Event:
    data = sample_data("OpportunityClosedWon")
    del data["contract_type"], data["billing_owner"]
    return new_event(OpportunityClosedWonV1Event, data, legal_entity="us-01", occurred_at=OCCURRED_AT)


def as_received(event: Any) -> dict[str, Any]:
    return json.loads(event.model_dump_json())


def deprecated_metrics(output: str) -> list[dict[str, Any]]:
    """The DeprecatedEventVersion EMF lines Powertools printed."""
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return [line for line in lines if "DeprecatedEventVersion" in line]


# --------------------------------------------------------------------------- registry


def test_every_type_has_one_current_version_the_newest_model() -> None:
    for event_type, model in EVENT_MODEL_BY_TYPE.items():
        assert current_version(event_type) == model.model_fields["version"].default
        assert [v.status for v in versions_of(event_type)].count(Status.CURRENT) == 1


def test_opportunity_closed_won_v1_is_deprecated_with_a_sunset_and_v2_is_current() -> None:
    v1, v2 = versions_of("OpportunityClosedWon")
    assert (v1.status, v2.status) == (Status.DEPRECATED, Status.CURRENT)
    assert v1.sunset is not None and v2.sunset is None
    assert v1.label == f"v1 deprecated (sunset {v1.sunset.isoformat()})"


def test_a_deprecated_version_needs_a_sunset_date_and_only_it_has_one() -> None:
    with pytest.raises(ValueError, match="sunset"):
        EventVersion("OpportunityClosedWon", 1, Status.DEPRECATED)
    with pytest.raises(ValueError, match="sunset"):
        EventVersion("OpportunityClosedWon", 2, Status.CURRENT, sunset=dt.date(2027, 1, 1))


def test_the_event_catalog_in_the_docs_shows_each_types_versions() -> None:
    catalog = (REPO_ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for event_type in EVENT_MODEL_BY_TYPE:
        assert f"| {event_type} | {markdown_versions(event_type)} |" in catalog


# --------------------------------------------------------------------------- upcaster


def test_the_upcaster_keeps_the_envelope_and_states_the_v2_defaults(sample_data) -> None:
    old = v1_event(sample_data)

    new = opportunity_closed_won_v1_to_v2(old)

    assert isinstance(new, OpportunityClosedWonEvent) and new.version == 2
    assert (new.id, new.correlation_id, new.occurred_at, new.legal_entity) == (
        old.id,
        old.correlation_id,
        old.occurred_at,
        old.legal_entity,
    )
    assert new.data.contract_type is DEFAULT_CONTRACT_TYPE is ContractType.TIME_AND_MATERIALS
    assert new.data.billing_owner is None
    assert new.data.model_dump(exclude={"contract_type", "billing_owner"}) == old.data.model_dump()


# --------------------------------------------------------------------------- parsing


def test_a_v1_event_reaches_a_v2_consumer_upcast_and_is_counted(sample_data, capsys) -> None:
    old = v1_event(sample_data)

    event = parse_event(as_received(old), TRIGGER_ACCEPTS)

    assert isinstance(event, OpportunityClosedWonEvent)
    assert event.id == old.id and event.data.contract_type is DEFAULT_CONTRACT_TYPE
    (metric,) = deprecated_metrics(capsys.readouterr().out)
    assert (metric["type"], metric["version"]) == ("OpportunityClosedWon", "1")
    (directive,) = metric["_aws"]["CloudWatchMetrics"]
    # Powertools adds the function's service; infra's alarm sums every series of the metric.
    assert directive["Dimensions"] == [["type", "version", "service"]]


def test_an_event_without_a_version_is_version_1(sample_data) -> None:
    raw = as_received(v1_event(sample_data))
    del raw["version"]

    assert isinstance(parse_event(raw, AS_SENT), OpportunityClosedWonV1Event)


def test_the_current_version_is_not_counted(sample_data, capsys) -> None:
    event = new_event(
        OpportunityClosedWonEvent, sample_data("OpportunityClosedWon"), legal_entity="us-01", occurred_at=OCCURRED_AT
    )

    assert parse_event(as_received(event)) == event
    assert deprecated_metrics(capsys.readouterr().out) == []


def test_the_audit_trail_sees_a_deprecated_version_as_it_was_sent(sample_data) -> None:
    old = v1_event(sample_data)
    assert parse_event(as_received(old), AS_SENT) == old


def test_a_consumer_that_accepts_only_v1_refuses_v2_with_the_reason(sample_data) -> None:
    event = new_event(
        OpportunityClosedWonEvent, sample_data("OpportunityClosedWon"), legal_entity="us-01", occurred_at=OCCURRED_AT
    )

    with pytest.raises(ValidationFailed, match=r"OpportunityClosedWon v2 cannot be read as a version .* \(v1\)"):
        parse_event(as_received(event), {"OpportunityClosedWon": frozenset({1})})


def test_an_unknown_version_is_refused_with_a_reason_the_consumer_records(sample_data) -> None:
    raw = as_received(v1_event(sample_data)) | {"version": 7}

    with pytest.raises(ValidationError) as caught:
        parse_event(raw)

    assert describe_error(caught.value) == "ValidationError: (root): unknown event type or version"


@pytest.fixture()
def v1_retired(monkeypatch: pytest.MonkeyPatch) -> None:
    retired = EventVersion("OpportunityClosedWon", 1, Status.RETIRED)
    monkeypatch.setitem(VERSIONS, ("OpportunityClosedWon", 1), retired)


@pytest.mark.usefixtures("v1_retired")
def test_a_retired_version_is_refused_when_received_even_by_the_audit_trail(sample_data) -> None:
    with pytest.raises(ValidationFailed, match="OpportunityClosedWon v1 is retired: its producer must publish v2"):
        parse_event(as_received(v1_event(sample_data)), AS_SENT)


@pytest.mark.usefixtures("v1_retired")
def test_a_retired_version_is_refused_when_published(sample_data) -> None:
    with pytest.raises(ValidationFailed, match="retired"):
        bus.bus_entry(v1_event(sample_data))


def test_publishing_a_deprecated_version_is_counted(sample_data, capsys) -> None:
    entry = bus.bus_entry(v1_event(sample_data))

    assert json.loads(entry.detail)["version"] == 1
    (metric,) = deprecated_metrics(capsys.readouterr().out)
    assert (metric["type"], metric["version"], metric["DeprecatedEventVersion"]) == ("OpportunityClosedWon", "1", [1.0])


def test_a_saga_started_with_a_v1_trigger_reads_it_as_v2(sample_data) -> None:
    # An execution started before v2 (and any redrive of it) holds the v1 trigger as input.
    state = SagaState.model_validate({"event": as_received(v1_event(sample_data))})

    assert isinstance(state.event, OpportunityClosedWonEvent)
    assert state.event.data.contract_type is DEFAULT_CONTRACT_TYPE


# --------------------------------------------------------------------------- canonical webhook deliveries

SOURCE = SourceConfig(system=System.CRM, legal_entity="us-01")


def delivery(sample_data, **extra: Any) -> dict[str, Any]:
    data = sample_data("OpportunityClosedWon")
    return {"type": "OpportunityClosedWon", "timestamp": "2026-11-02T09:00:00+00:00", "data": data, **extra}


def test_a_delivery_names_its_version_and_one_without_is_version_1(sample_data) -> None:
    v2 = to_canonical_event("crm", SOURCE, "d-1", delivery(sample_data, version=2), OCCURRED_AT)
    unversioned = delivery(sample_data)
    del unversioned["data"]["contract_type"], unversioned["data"]["billing_owner"]
    v1 = to_canonical_event("crm", SOURCE, "d-2", unversioned, OCCURRED_AT)

    assert (type(v2), type(v1)) == (OpportunityClosedWonEvent, OpportunityClosedWonV1Event)


def test_a_delivery_of_an_unknown_version_is_refused(sample_data) -> None:
    with pytest.raises(InvalidEvent, match="unknown version 9 of OpportunityClosedWon"):
        to_canonical_event("crm", SOURCE, "d-3", delivery(sample_data, version=9), OCCURRED_AT)


@pytest.mark.usefixtures("v1_retired")
def test_a_delivery_of_a_retired_version_is_refused(sample_data) -> None:
    body = delivery(sample_data, version=1)
    del body["data"]["contract_type"], body["data"]["billing_owner"]
    with pytest.raises(InvalidEvent, match="OpportunityClosedWon v1 is retired: publish v2"):
        to_canonical_event("crm", SOURCE, "d-4", body, OCCURRED_AT)
