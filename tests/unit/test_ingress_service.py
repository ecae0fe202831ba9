"""Accepting a webhook delivery: limits, JSON parsing, normalization to a canonical event."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid

import pytest

from concord.events import event_id_for_delivery
from concord.events.envelope import AccountChangedEvent, OpportunityClosedWonEvent
from concord.ingress import errors, service
from concord.ingress.canonical import to_canonical_event
from concord.ingress.sources import SourceConfig, parse_sources, secret_name
from concord.ingress.standard_webhooks import sign_headers

SECRET = "whsec_" + "c2VjcmV0LWZvci11bml0LXRlc3RzLTMyLWJ5dGVzISE="
NOW = dt.datetime(2025, 3, 14, 12, 0, tzinfo=dt.UTC)
CRM = SourceConfig(system="crm", legal_entity="acme-us")
JSON_HEADERS = {"content-type": "application/json"}


def _request(body: bytes, headers: dict[str, str] | None = None) -> service.WebhookRequest:
    return service.WebhookRequest(source="crm", headers=JSON_HEADERS if headers is None else headers, body=body)


def _nested(depth: int, kind: str = "list") -> bytes:
    if kind == "list":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * (depth - 1) + b"{}" + b"}" * (depth - 1)


def _delivery(event_type: str, data: dict, **extra) -> dict:
    return {"type": event_type, "timestamp": "2025-03-14T11:59:00+00:00", "data": data, **extra}


# --------------------------------------------------------------------------- limits


def test_a_body_exactly_at_the_size_limit_passes() -> None:
    service.check_limits(_request(b"x" * 64), service.Limits(max_body_bytes=64))


def test_a_body_one_byte_over_the_size_limit_is_too_large() -> None:
    with pytest.raises(errors.PayloadTooLarge) as caught:
        service.check_limits(_request(b"x" * 65), service.Limits(max_body_bytes=64))
    assert caught.value.status == 413


def test_the_default_size_limit_is_256_kib() -> None:
    limits = service.Limits()
    service.check_limits(_request(b"x" * (256 * 1024)), limits)
    with pytest.raises(errors.PayloadTooLarge):
        service.check_limits(_request(b"x" * (256 * 1024 + 1)), limits)


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON ;charset=UTF-8"]
)
def test_json_content_types_are_accepted(content_type: str) -> None:
    service.check_limits(_request(b"{}", {"content-type": content_type}), service.Limits())


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"content-type": ""},
        {"content-type": "text/plain"},
        {"content-type": "application/jsonp"},
        {"content-type": "application/x-www-form-urlencoded"},
        {"content-type": "application/json-patch+json"},
    ],
    ids=["missing", "empty", "text", "jsonp", "form", "json-patch"],
)
def test_other_content_types_are_unsupported(headers: dict[str, str]) -> None:
    with pytest.raises(errors.UnsupportedMediaType) as caught:
        service.check_limits(_request(b"{}", headers), service.Limits())
    assert caught.value.status == 415


# --------------------------------------------------------------------------- JSON


def test_parse_json_returns_the_payload() -> None:
    assert service.parse_json(b'{"a": [1, "\xc3\xa9"]}', max_depth=4) == {"a": [1, "é"]}


def test_parse_json_rejects_invalid_utf8() -> None:
    with pytest.raises(errors.MalformedPayload, match="UTF-8"):
        service.parse_json(b'{"a": "\xff\xfe"}', max_depth=32)


@pytest.mark.parametrize("body", [b"", b"{", b"{'a': 1}", b'{"a": 1,}', b"NaN-ish", b'{"a": 1} trailing'])
def test_parse_json_rejects_invalid_json(body: bytes) -> None:
    with pytest.raises(errors.MalformedPayload, match="not valid JSON") as caught:
        service.parse_json(body, max_depth=32)
    assert caught.value.status == 400


@pytest.mark.parametrize("kind", ["list", "dict"])
def test_nesting_exactly_at_the_limit_is_accepted(kind: str) -> None:
    service.parse_json(_nested(5, kind), max_depth=5)


@pytest.mark.parametrize("kind", ["list", "dict"])
def test_nesting_one_deeper_than_the_limit_is_malformed(kind: str) -> None:
    with pytest.raises(errors.MalformedPayload, match="nesting"):
        service.parse_json(_nested(6, kind), max_depth=5)


def test_the_default_nesting_limit_is_32() -> None:
    limits = service.Limits()
    service.parse_json(_nested(32), limits.max_json_depth)
    with pytest.raises(errors.MalformedPayload):
        service.parse_json(_nested(33), limits.max_json_depth)


def test_nesting_beyond_the_parsers_recursion_limit_is_malformed_not_a_crash() -> None:
    with pytest.raises(errors.MalformedPayload):
        service.parse_json(_nested(200_000), max_depth=32)


def test_scalars_do_not_count_as_nesting() -> None:
    assert service.parse_json(b'[[["deep", 1, null, true]]]', max_depth=3) == [[["deep", 1, None, True]]]


# --------------------------------------------------------------------------- canonical events


def test_an_unknown_event_type_is_an_invalid_event(sample_data) -> None:
    with pytest.raises(errors.InvalidEvent) as caught:
        to_canonical_event("crm", CRM, "msg_1", _delivery("DealWon", sample_data("OpportunityClosedWon")), NOW)
    assert caught.value.status == 422


def test_an_event_from_a_system_that_is_not_its_authority_is_not_allowed(sample_data) -> None:
    with pytest.raises(errors.ProducerNotAllowed) as caught:
        to_canonical_event("crm", CRM, "msg_1", _delivery("InvoicePosted", sample_data("InvoicePosted")), NOW)
    assert caught.value.status == 403
    assert "erp" in caught.value.message


@pytest.mark.parametrize(
    "payload",
    [
        [],
        "text",
        {"type": "AccountChanged"},
        {"type": "AccountChanged", "timestamp": "2025-03-14T11:59:00", "data": {}},
    ],
    ids=["list", "string", "no-timestamp-or-data", "naive-timestamp"],
)
def test_a_body_that_is_not_a_delivery_is_an_invalid_event(payload) -> None:
    with pytest.raises(errors.InvalidEvent) as caught:
        to_canonical_event("crm", CRM, "msg_1", payload, NOW)
    assert caught.value.details


def test_invalid_data_names_the_field_without_echoing_the_value(sample_data) -> None:
    data = sample_data("OpportunityClosedWon")
    data["amount"]["currency"] = "Top-Secret-Currency"
    data["lines"][0]["quantity"] = "-7.123456789"

    with pytest.raises(errors.InvalidEvent) as caught:
        to_canonical_event("crm", CRM, "msg_1", _delivery("OpportunityClosedWon", data), NOW)

    details = caught.value.details
    fields = {detail["field"] for detail in details}
    assert "data.amount.currency" in fields
    assert "data.lines.0.quantity" in fields
    rendered = json.dumps(details)
    assert "Top-Secret-Currency" not in rendered
    assert "7.123456789" not in rendered
    assert all(set(detail) == {"field", "problem"} and detail["problem"] for detail in details)


def test_invalid_event_details_are_capped(sample_data) -> None:
    data = sample_data("StaffingChanged")
    data["assignments"] = [{"employee_id": ""} for _ in range(30)]
    psa = SourceConfig(system="psa", legal_entity="acme-us")
    with pytest.raises(errors.InvalidEvent) as caught:
        to_canonical_event("psa", psa, "m", _delivery("StaffingChanged", data), NOW)
    assert len(caught.value.details) == 20


def test_a_delivery_becomes_a_canonical_event(sample_data) -> None:
    event = to_canonical_event(
        "crm", CRM, "msg_42", _delivery("OpportunityClosedWon", sample_data("OpportunityClosedWon"), version=2), NOW
    )

    assert isinstance(event, OpportunityClosedWonEvent)
    assert event.id == event_id_for_delivery("crm", "msg_42")
    assert uuid.UUID(event.id).version == 5
    assert event.correlation_id == event.id
    assert event.causation_id is None
    assert event.ingested_at == NOW
    assert event.occurred_at == dt.datetime(2025, 3, 14, 11, 59, tzinfo=dt.UTC)
    assert event.data.opportunity_id == "OPP-1001"
    assert event.data.contract_type == "fixed_fee"


def test_legal_entity_defaults_to_the_sources(sample_data) -> None:
    payload = _delivery("AccountChanged", sample_data("AccountChanged"))
    event = to_canonical_event("crm", CRM, "m1", payload, NOW)
    assert event.legal_entity == "acme-us"


def test_a_delivery_may_name_its_legal_entity_and_correlation(sample_data) -> None:
    payload = _delivery(
        "AccountChanged",
        sample_data("AccountChanged"),
        legal_entity="acme-de",
        correlation_id="corr-7",
        causation_id="evt-6",
    )

    event = to_canonical_event("crm", CRM, "m1", payload, NOW)

    assert isinstance(event, AccountChangedEvent)
    assert (event.legal_entity, event.correlation_id, event.causation_id) == ("acme-de", "corr-7", "evt-6")


def test_a_delivery_with_unexpected_top_level_fields_is_invalid(sample_data) -> None:
    payload = _delivery("AccountChanged", sample_data("AccountChanged"), id="chosen-by-sender")
    with pytest.raises(errors.InvalidEvent):
        to_canonical_event("crm", CRM, "m1", payload, NOW)


# --------------------------------------------------------------------------- the whole acceptance


def _signed(body: bytes, delivery_id: str = "msg_1", timestamp: dt.datetime = NOW) -> dict[str, str]:
    return {**JSON_HEADERS, **sign_headers(SECRET, delivery_id, int(timestamp.timestamp()), body)}


def test_accept_delivery_verifies_and_normalizes(sample_data) -> None:
    body = json.dumps(_delivery("AccountChanged", sample_data("AccountChanged"))).encode()

    accepted = service.accept_delivery(_request(body, _signed(body)), CRM, [SECRET], now=NOW)

    assert accepted.source == "crm"
    assert accepted.delivery_id == "msg_1"
    assert accepted.body_sha256 == hashlib.sha256(body).hexdigest()
    assert accepted.event.id == event_id_for_delivery("crm", "msg_1")
    assert accepted.event.ingested_at == NOW


def test_limits_are_checked_before_the_signature() -> None:
    with pytest.raises(errors.PayloadTooLarge):
        service.accept_delivery(_request(b"x" * 65), CRM, [SECRET], now=NOW, limits=service.Limits(max_body_bytes=64))


def test_nothing_is_parsed_before_the_signature_is_verified() -> None:
    # Unsigned garbage is refused for its signature, not for its JSON.
    with pytest.raises(errors.SignatureMissing):
        service.accept_delivery(_request(b"{not json"), CRM, [SECRET], now=NOW)


def test_a_signed_delivery_must_still_be_json() -> None:
    body = b"{not json"
    with pytest.raises(errors.MalformedPayload):
        service.accept_delivery(_request(body, _signed(body)), CRM, [SECRET], now=NOW)


def test_find_source_refuses_an_unknown_source() -> None:
    sources = parse_sources('{"crm": {"system": "crm", "legal_entity": "acme-us"}}')
    assert service.find_source(sources, "crm") == CRM
    with pytest.raises(errors.UnknownSource) as caught:
        service.find_source(sources, "erp")
    assert caught.value.status == 404


def test_secret_names_join_prefix_and_source() -> None:
    assert secret_name("concord/test/webhooks/", "crm") == "concord/test/webhooks/crm"
    assert secret_name("concord/test/webhooks", "crm") == "concord/test/webhooks/crm"


@pytest.mark.parametrize(
    "raw",
    [
        '{"CRM": {"system": "crm", "legal_entity": "acme"}}',
        '{"crm": {"system": "hr", "legal_entity": "acme"}}',
        '{"crm": {"system": "crm", "legal_entity": "acme", "extra": 1}}',
    ],
    ids=["upper-case-name", "unknown-system", "unknown-field"],
)
def test_invalid_source_configuration_is_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_sources(raw)
