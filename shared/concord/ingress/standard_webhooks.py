"""The Standard Webhooks signature scheme (https://www.standardwebhooks.com/).

signature = base64(HMAC-SHA256(key, f"{webhook-id}.{webhook-timestamp}.{body}")), where key is
the secret without its `whsec_` prefix, base64-decoded. The `webhook-signature` header holds
space-separated `v1,<signature>` entries, so a sender can sign with old and new secrets while
rotating. Timestamps more than `tolerance` away from now are refused.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hmac
from collections.abc import Mapping, Sequence
from functools import lru_cache

from .delivery import Verified
from .errors import SignatureInvalid, SignatureMissing, TimestampOutOfTolerance
from .macs import hmac_sha256

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE = dt.timedelta(minutes=5)
MAX_DELIVERY_ID_LENGTH = 256


@lru_cache(maxsize=16)
def _key(secret: str) -> bytes:
    # Cached: a source has one or two active secrets, decoded once rather than per delivery.
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)


def _signature_bytes(secret: str, delivery_id: str, timestamp: int | str, body: bytes) -> bytes:
    """base64 of the HMAC, as it appears after `v1,` in the header."""
    return base64.b64encode(hmac_sha256(_key(secret), f"{delivery_id}.{timestamp}.".encode(), body))


def signature(secret: str, delivery_id: str, timestamp: int, body: bytes) -> str:
    return "v1," + _signature_bytes(secret, delivery_id, timestamp, body).decode()


def sign_headers(secret: str, delivery_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three headers a Standard Webhooks sender attaches."""
    return {
        "webhook-id": delivery_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, delivery_id, timestamp, body),
    }


def verify(
    secrets: Sequence[str],
    headers: Mapping[str, str],
    body: bytes,
    now: dt.datetime,
    tolerance: dt.timedelta = DEFAULT_TOLERANCE,
) -> Verified:
    """Check a delivery against every active secret; headers must have lower-case names."""
    delivery_id = headers.get("webhook-id", "")
    raw_timestamp = headers.get("webhook-timestamp", "")
    signature_header = headers.get("webhook-signature", "")
    if not (delivery_id and raw_timestamp and signature_header):
        raise SignatureMissing("webhook-id, webhook-timestamp and webhook-signature are required")
    if len(delivery_id) > MAX_DELIVERY_ID_LENGTH or not delivery_id.isprintable():
        raise SignatureInvalid("webhook-id is not a valid delivery id")
    if not raw_timestamp.isascii() or not raw_timestamp.isdigit() or len(raw_timestamp) > 12:
        raise SignatureInvalid("webhook-timestamp must be unix seconds")
    try:
        timestamp: dt.datetime | None = dt.datetime.fromtimestamp(int(raw_timestamp), tz=dt.UTC)
    except (OverflowError, OSError, ValueError):  # past year 9999: certainly not "now"
        timestamp = None
    if timestamp is None or abs(now - timestamp) > tolerance:
        raise TimestampOutOfTolerance(f"webhook-timestamp is more than {int(tolerance.total_seconds())} s from now")

    offered = [entry.split(",", 1)[1].encode() for entry in signature_header.split(" ") if entry.startswith("v1,")]
    for secret in secrets:
        expected = _signature_bytes(secret, delivery_id, int(raw_timestamp), body)
        # Compare against every offered signature (constant time each) so timing reveals nothing.
        if any([hmac.compare_digest(expected, candidate) for candidate in offered]):
            return Verified(delivery_id=delivery_id, timestamp=timestamp)
    raise SignatureInvalid("no valid v1 signature for this source")


def is_valid_secret(secret: str) -> bool:
    if not secret.startswith(SECRET_PREFIX):
        return False
    try:
        return len(_key(secret)) >= 16
    except (binascii.Error, ValueError):
        return False
