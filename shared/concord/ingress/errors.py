"""Why a webhook delivery is refused, each with the HTTP status the caller gets."""

from __future__ import annotations

from ..errors import ConcordError


class DeliveryRejected(ConcordError):
    """A delivery Concord will not accept; nothing reaches the bus."""

    status: int = 400
    code: str = "bad_request"

    def __init__(self, message: str, details: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class UnknownSource(DeliveryRejected):
    """No webhook source of that name is configured."""

    status, code = 404, "unknown_source"


class SignatureMissing(DeliveryRejected):
    """The delivery carries no signature headers."""

    status, code = 401, "signature_missing"


class SignatureInvalid(DeliveryRejected):
    """No configured secret produces the delivery's signature."""

    status, code = 401, "signature_invalid"


class TimestampOutOfTolerance(DeliveryRejected):
    """The signed timestamp is too old or too far in the future (replay protection)."""

    status, code = 401, "timestamp_out_of_tolerance"


class OrganizationNotAllowed(DeliveryRejected):
    """The sending organization (Salesforce org id) is not on the source's allow-list."""

    status, code = 403, "organization_not_allowed"


class ProducerNotAllowed(DeliveryRejected):
    """The source is not the system of record for this event type."""

    status, code = 403, "producer_not_allowed"


class DeliveryConflict(DeliveryRejected):
    """A delivery id already seen arrived with a different body."""

    status, code = 409, "delivery_conflict"


class PayloadTooLarge(DeliveryRejected):
    """The body is larger than the source's limit."""

    status, code = 413, "payload_too_large"


class UnsupportedMediaType(DeliveryRejected):
    """The content type is not the one the source's scheme sends (JSON, or XML for SOAP)."""

    status, code = 415, "unsupported_media_type"


class MalformedPayload(DeliveryRejected):
    """The body is not UTF-8 JSON (or safe XML) within the nesting limit."""

    status, code = 400, "malformed_payload"


class MalformedRequest(DeliveryRejected):
    """A header, query parameter or the host is not valid Unicode (e.g. a lone UTF-16 surrogate)."""

    status, code = 400, "malformed_request"


class InvalidEvent(DeliveryRejected):
    """The body is JSON but not a valid event of a known type."""

    status, code = 422, "invalid_event"


class InvalidHandshake(DeliveryRejected):
    """A subscription handshake (Business Central's validationToken) that cannot be echoed safely."""

    status, code = 400, "invalid_handshake"


# Every refusal the ingress API can answer, in one place (the OpenAPI document lists them).
REFUSALS: tuple[type[DeliveryRejected], ...] = (
    DeliveryRejected,
    MalformedPayload,
    MalformedRequest,
    InvalidHandshake,
    SignatureMissing,
    SignatureInvalid,
    TimestampOutOfTolerance,
    OrganizationNotAllowed,
    ProducerNotAllowed,
    UnknownSource,
    DeliveryConflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    InvalidEvent,
)
