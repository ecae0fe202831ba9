"""What every signature scheme provides, and the constant-time helpers they share.

A scheme knows how its vendor authenticates a delivery (verify), what its payload looks like
and how it maps to canonical events (normalize), and how the vendor expects to be answered
(reply). Schemes are stateless singletons registered in ingress.schemes.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Literal

from pydantic import BaseModel

from ..events import event_id_for_delivery
from .delivery import AcceptedDelivery, Handshake, Normalized, Reply, Verified, WebhookRequest
from .errors import SignatureInvalid, SignatureMissing
from .macs import hmac_sha256
from .sources import SourceConfig

MAX_DELIVERY_ID_LENGTH = 256


def hmac_sha256_base64(key: bytes, message: bytes) -> str:
    return base64.b64encode(hmac_sha256(key, message)).decode()


def matches_any(candidates: Iterable[str], offered: str) -> bool:
    """Constant-time comparison of `offered` with every candidate (no early exit, no short-circuit)."""
    offered_bytes = offered.encode("utf-8", "surrogatepass")
    results = [hmac.compare_digest(c.encode("utf-8", "surrogatepass"), offered_bytes) for c in candidates]
    return any(results)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verify_body_hmac(request: WebhookRequest, header: str, keys: Iterable[str], what: str) -> Verified:
    """base64(HMAC-SHA256(key, raw body)) in `header`, for any active key (Xero, QuickBooks)."""
    offered = header_value(request.headers, header)
    if not offered:
        raise SignatureMissing(f"{header} is required")
    if not matches_any([hmac_sha256_base64(key.encode(), request.body) for key in keys], offered):
        raise SignatureInvalid(f"{header} does not match any {what} of this source")
    return Verified()


def header_value(headers: Mapping[str, str], name: str, limit: int = 1024) -> str:
    """A header's value, or "" when absent; over-long values count as invalid, not missing."""
    value = headers.get(name, "")
    if len(value) > limit:
        raise SignatureInvalid(f"{name} header is too long")
    return value.strip()


class Scheme:
    """Base of the per-vendor schemes; see the vendors' modules for each one's rules."""

    name: ClassVar[str]
    title: ClassVar[str]
    # Vendor documentation of the scheme (also cited above each verifier).
    doc_url: ClassVar[str]
    body_format: ClassVar[Literal["json", "xml"]] = "json"
    media_types: ClassVar[frozenset[str]] = frozenset({"application/json"})
    secret_model: ClassVar[type[BaseModel]]
    # Headers / query parameters the scheme reads (documented in the OpenAPI document).
    signature_headers: ClassVar[tuple[str, ...]] = ()
    query_parameters: ClassVar[tuple[str, ...]] = ()
    success_status: ClassVar[int] = 202
    # Whether the signature covers the URL the sender called (ingress.http.public_url works it out).
    signs_url: ClassVar[bool] = False

    def coerce_secret(self, secret: Any) -> BaseModel:
        return secret if isinstance(secret, self.secret_model) else self.secret_model.model_validate(secret)

    def handshake(self, request: WebhookRequest) -> Handshake | None:
        return None

    def verify(self, request: WebhookRequest, secret: Any, now: dt.datetime, tolerance: dt.timedelta) -> Verified:
        raise NotImplementedError

    def normalize(
        self,
        request: WebhookRequest,
        source_name: str,
        source: SourceConfig,
        secret: Any,
        verified: Verified,
        payload: Any,
        now: dt.datetime,
    ) -> Normalized:
        raise NotImplementedError

    def reply(self, accepted: AcceptedDelivery, result: Mapping[str, Any]) -> Reply:
        """Default acknowledgement: JSON naming the events published and what was recorded."""
        return Reply(
            status=self.success_status,
            content_type="application/json",
            body=json.dumps(
                {
                    "status": "accepted",
                    "delivery_id": result.get("delivery_id", accepted.delivery_id),
                    "events": result.get("events", []),
                    "unprocessed": result.get("unprocessed", 0),
                }
            ),
        )


def vendor_event_id(source_name: str, key: str) -> str:
    """Stable event id for one vendor notification: a redelivery maps to the same event."""
    return event_id_for_delivery(source_name, key)
