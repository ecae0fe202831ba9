from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from concord.connectors.kit.errors import AuthFailed, Conflict, ErrorMapper, NotFound, Throttled, parse_retry_after
from concord.errors import ConcordError, PermanentError, TransientError, ValidationFailed


class _QuotaAs400(ErrorMapper):
    """A vendor that reports throttling as a 400 with its own code (like NetSuite RESTlets)."""

    def vendor_error(self, operation: str, response: httpx.Response) -> ConcordError | None:
        if response.status_code == 400 and "SSS_REQUEST_LIMIT_EXCEEDED" in response.text:
            return Throttled(self.message(operation, response))
        return None


def _answer(status: int, body: object = None, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status, json=body, headers=headers, request=httpx.Request("GET", "https://vendor.test/x?token=s3cret")
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, ValidationFailed),
        (422, ValidationFailed),
        (401, AuthFailed),
        (403, AuthFailed),
        (404, NotFound),
        (409, Conflict),
        (412, Conflict),
        (429, Throttled),
        (500, TransientError),
        (503, TransientError),
        (418, PermanentError),
    ],
)
def test_each_status_maps_onto_its_concord_error(status: int, expected: type[ConcordError]) -> None:
    error = ErrorMapper("acme").error_for_response("get_customer", _answer(status, {"message": "no"}))
    assert type(error) is expected


def test_a_success_is_no_error() -> None:
    assert ErrorMapper("acme").error_for_response("get_customer", _answer(204)) is None


def test_permanent_and_transient_families_are_what_retries_rely_on() -> None:
    assert issubclass(Throttled, TransientError)
    assert issubclass(NotFound, PermanentError) and issubclass(Conflict, PermanentError)
    assert issubclass(AuthFailed, PermanentError)


def test_429_carries_retry_after_seconds() -> None:
    error = ErrorMapper("acme").error_for_response("list", _answer(429, headers={"Retry-After": "7"}))
    assert isinstance(error, Throttled) and error.retry_after == 7.0


def test_retry_after_as_http_date_is_seconds_from_now() -> None:
    now = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Sun, 01 Mar 2026 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Sun, 01 Mar 2026 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_message_names_vendor_operation_status_and_vendor_code_but_no_url_or_header() -> None:
    answer = _answer(400, {"code": "BAD_FIELD", "message": "Name is required"}, headers={"X-Secret": "hdr-value"})
    error = ErrorMapper("acme").error_for_response("create_customer", answer)
    text = str(error)
    assert "acme" in text and "create_customer" in text and "400" in text
    assert "BAD_FIELD" in text and "Name is required" in text
    assert "s3cret" not in text and "hdr-value" not in text


def test_the_vendor_hook_decides_before_the_status() -> None:
    answer = _answer(400, {"error": "SSS_REQUEST_LIMIT_EXCEEDED"})
    assert isinstance(_QuotaAs400("netsuite").error_for_response("get", answer), Throttled)
    assert isinstance(
        _QuotaAs400("netsuite").error_for_response("get", _answer(400, {"error": "INVALID_FLD"})), ValidationFailed
    )


def test_timeouts_and_connection_errors_are_transient() -> None:
    mapper = ErrorMapper("acme")
    assert isinstance(mapper.error_for_exception("get", httpx.ReadTimeout("slow")), TransientError)
    assert isinstance(mapper.error_for_exception("get", httpx.ConnectError("refused")), TransientError)
