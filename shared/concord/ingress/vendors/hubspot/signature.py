"""HubSpot request validation: signature v3, and v1 where a source allows it.

X-HubSpot-Signature-v3 = base64(HMAC-SHA256(client secret, method + URI + body + timestamp)),
where the URI is the full URL HubSpot called (scheme, host, path, query) with the
URL-encoded characters of HubSpot's table decoded, and X-HubSpot-Request-Timestamp is
milliseconds since the epoch; requests older than 5 minutes are rejected.

CRM-object webhooks are documented as signed v1 (X-HubSpot-Signature = hex(SHA-256(client secret
+ body)), X-HubSpot-Signature-Version: v1); v3 is added for OAuth apps. v1 binds neither a time nor
the URL, so a v1-only delivery is accepted only from a source whose secret sets `allow_v1`; its
replays are caught by the delivery id made of the events' eventIds (scheme.py) and by the age of
its events (V1_MAX_EVENT_AGE). v2 (workflow actions, CRM cards) is never accepted here.
"""

from __future__ import annotations

import datetime as dt
import re

from pydantic import BaseModel, ConfigDict

from ...delivery import Verified, WebhookRequest
from ...errors import SignatureInvalid, SignatureMissing, TimestampOutOfTolerance
from ...scheme import header_value, hmac_sha256_base64, matches_any, sha256_hex
from ...sources import ActiveSecrets

SIGNATURE_HEADER = "x-hubspot-signature-v3"
TIMESTAMP_HEADER = "x-hubspot-request-timestamp"
V1_SIGNATURE_HEADER = "x-hubspot-signature"
VERSION_HEADER = "x-hubspot-signature-version"
MAX_AGE = dt.timedelta(minutes=5)
# HubSpot retries a failed delivery for up to 24 hours; older v1 events are refused as replays,
# and younger ones are deduplicated by their event ids, which the ingress remembers for longer
# (REMEMBER_DELIVERIES_SECONDS may not be set below 25 h).
V1_MAX_EVENT_AGE = dt.timedelta(hours=25)

# HubSpot's table of URL-encoded characters to decode in the URI before signing.
_DECODED = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}
_ENCODED = re.compile("|".join(_DECODED), re.IGNORECASE)


class HubSpotSecret(BaseModel):
    """The source's secret: the app's client secret (two while rotating apps)."""

    model_config = ConfigDict(extra="forbid")

    client_secrets: ActiveSecrets
    # Accept deliveries signed v1 only (private / static-token apps): weaker, off by default.
    allow_v1: bool = False


def signed_uri(url: str) -> str:
    if "%" not in url:  # nearly every URL: nothing to decode
        return url
    return _ENCODED.sub(lambda m: _DECODED[m.group(0).upper()], url)


def signature(client_secret: str, method: str, url: str, body: bytes, timestamp_ms: str) -> str:
    message = method.upper().encode() + signed_uri(url).encode() + body + timestamp_ms.encode()
    return hmac_sha256_base64(client_secret.encode(), message)


def signature_v1(client_secret: str, body: bytes) -> str:
    return sha256_hex(client_secret.encode() + body)


def is_v1_only(request: WebhookRequest) -> bool:
    return not header_value(request.headers, SIGNATURE_HEADER) and bool(
        header_value(request.headers, V1_SIGNATURE_HEADER)
    )


# https://developers.hubspot.com/docs/apps/developer-platform/build-apps/authentication/request-validation
def verify(
    secret: HubSpotSecret, request: WebhookRequest, now: dt.datetime, tolerance: dt.timedelta = MAX_AGE
) -> Verified:
    if is_v1_only(request):
        return verify_v1(secret, request)
    offered = header_value(request.headers, SIGNATURE_HEADER)
    raw_timestamp = header_value(request.headers, TIMESTAMP_HEADER)
    if not (offered and raw_timestamp):
        raise SignatureMissing(f"{SIGNATURE_HEADER} and {TIMESTAMP_HEADER} are required")
    if not raw_timestamp.isascii() or not raw_timestamp.isdigit() or len(raw_timestamp) > 15:
        raise SignatureInvalid(f"{TIMESTAMP_HEADER} must be milliseconds since the epoch")
    try:
        timestamp: dt.datetime | None = dt.datetime.fromtimestamp(int(raw_timestamp) / 1000, tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        timestamp = None
    if timestamp is None or abs(now - timestamp) > tolerance:
        raise TimestampOutOfTolerance(f"{TIMESTAMP_HEADER} is more than {int(tolerance.total_seconds())} s from now")
    expected = [
        signature(client_secret, request.method, request.url, request.body, raw_timestamp)
        for client_secret in secret.client_secrets
    ]
    if not matches_any(expected, offered):
        raise SignatureInvalid("X-HubSpot-Signature-v3 does not match any client secret of this source")
    return Verified(delivery_id=None, timestamp=timestamp)


# https://developers.hubspot.com/docs/faq/v1-request-validation
def verify_v1(secret: HubSpotSecret, request: WebhookRequest) -> Verified:
    """A delivery carrying only X-HubSpot-Signature: v1 from a source that allows it; v2 never."""
    version = header_value(request.headers, VERSION_HEADER).lower()
    if version != "v1":
        raise SignatureMissing(
            f"{SIGNATURE_HEADER} is required (signature version {version or 'none'} is not accepted)"
        )
    if not secret.allow_v1:
        raise SignatureMissing(f"{SIGNATURE_HEADER} is required: this source does not accept v1-only deliveries")
    offered = header_value(request.headers, V1_SIGNATURE_HEADER).lower()
    if not matches_any([signature_v1(client_secret, request.body) for client_secret in secret.client_secrets], offered):
        raise SignatureInvalid("X-HubSpot-Signature (v1) does not match any client secret of this source")
    return Verified(delivery_id=None, timestamp=None)
