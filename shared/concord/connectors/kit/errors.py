"""One place that turns vendor answers and transport failures into Concord errors.

Each vendor subclasses `ErrorMapper` and overrides `vendor_error` for the answers its API
gives a special meaning (Salesforce's 403 `REQUEST_LIMIT_EXCEEDED` is a throttle, not a refusal)
and `vendor_detail` to name the vendor's own error code and message. Messages name the vendor,
the operation, the status and that detail: never headers, URLs with queries or credentials.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from concord.clock import utc_now
from concord.errors import ConcordError, ConfigurationError, PermanentError, TransientError, ValidationFailed

_DETAIL_LIMIT = 300


class Throttled(TransientError):
    """The vendor (or Concord's own rate budget) asks us to slow down; retry after `retry_after` s."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NotFound(PermanentError):
    """The record or resource does not exist (or is not visible to the integration user)."""


class Conflict(PermanentError):
    """The write clashes with the vendor's state: a precondition failed or a key matched several records."""


class AuthFailed(ConfigurationError):
    """The vendor refused Concord's credentials or their rights: a person must fix the integration user."""


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header: delay-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or utc_now())).total_seconds())


class ErrorMapper:
    """Maps HTTP answers and httpx exceptions of one vendor onto Concord errors."""

    def __init__(self, vendor: str) -> None:
        self.vendor = vendor

    def error_for_response(self, operation: str, response: httpx.Response) -> ConcordError | None:
        """The error a non-success answer means, or None when the answer is a success."""
        if response.is_success:
            return None
        special = self.vendor_error(operation, response)
        if special is not None:
            return special
        return self._by_status(operation, response)

    def error_for_exception(self, operation: str, exc: httpx.HTTPError) -> TransientError:
        """Timeouts and connection failures: the same call may well succeed later."""
        kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "transport error"
        return TransientError(f"{self.vendor} {operation}: {kind} ({type(exc).__name__})")

    # ---------------------------------------------------------------- vendor hooks

    def vendor_error(self, operation: str, response: httpx.Response) -> ConcordError | None:
        """Override for answers whose meaning is vendor-specific; None falls back to the status."""
        return None

    def vendor_detail(self, response: httpx.Response) -> str:
        """The vendor's own error code and message from the body; override per vendor."""
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return ""
        if isinstance(body, dict):
            parts = [
                str(body[key]) for key in ("error", "code", "errorCode", "message", "error_description") if key in body
            ]
            return ": ".join(parts)
        return ""

    # ---------------------------------------------------------------- defaults

    def message(self, operation: str, response: httpx.Response) -> str:
        detail = self.vendor_detail(response)[:_DETAIL_LIMIT]
        text = f"{self.vendor} {operation}: HTTP {response.status_code}"
        return f"{text} {detail}" if detail else text

    def _by_status(self, operation: str, response: httpx.Response) -> ConcordError:
        status = response.status_code
        message = self.message(operation, response)
        if status == 429 or (status == 503 and "Retry-After" in response.headers):
            return Throttled(message, parse_retry_after(response.headers.get("Retry-After")))
        if status >= 500:
            return TransientError(message)
        if status in (400, 422):
            return ValidationFailed(message)
        if status in (401, 403):
            return AuthFailed(message)
        if status in (404, 410):
            return NotFound(message)
        if status in (300, 409, 412):
            return Conflict(message)
        return PermanentError(message)
