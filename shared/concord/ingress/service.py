"""Accepting one webhook delivery: limits → signature → body → canonical events.

Cheap checks come first and nothing untrusted is parsed before its signature is verified
(except where the vendor puts its credential inside the body: Salesforce's organization id
and Business Central's clientState, parsed under the same size, depth and XML-safety limits).
Publishing (once per delivery id) is the caller's next step; see functions/webhook_ingest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from ..aws.bus import PUT_EVENTS_MAX_BYTES
from . import standard_webhooks
from .delivery import AcceptedDelivery, Handshake, WebhookRequest
from .errors import MalformedPayload, PayloadTooLarge, UnknownSource, UnsupportedMediaType
from .schemes import scheme_for
from .sources import SourceConfig
from .xml_safety import parse_xml

DEFAULT_MAX_BODY_BYTES = 256 * 1024
DEFAULT_MAX_JSON_DEPTH = 32
# No field of any payload needs more; Python's own limit on int(str) is 4,300 digits.
MAX_JSON_INTEGER_DIGITS = 64
JSON_MEDIA_TYPES = frozenset({"application/json"})

__all__ = [
    "AcceptedDelivery",
    "Handshake",
    "Limits",
    "WebhookRequest",
    "accept_delivery",
    "check_limits",
    "find_source",
    "parse_json",
]


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_json_depth: int = DEFAULT_MAX_JSON_DEPTH
    signature_tolerance: dt.timedelta = standard_webhooks.DEFAULT_TOLERANCE


def find_source(sources: Mapping[str, SourceConfig], name: str) -> SourceConfig:
    source = sources.get(name)
    if source is None:
        raise UnknownSource(f"no webhook source named {name[:64]!r}")
    return source


def media_type(headers: Mapping[str, str]) -> str:
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


def check_limits(request: WebhookRequest, limits: Limits, media_types: Collection[str] = JSON_MEDIA_TYPES) -> None:
    if len(request.body) > limits.max_body_bytes:
        raise PayloadTooLarge(f"body exceeds {limits.max_body_bytes} bytes")
    if media_type(request.headers) not in media_types:
        raise UnsupportedMediaType(f"content-type must be {' or '.join(sorted(media_types))}")


def _well_formed(value: Any, max_depth: int) -> str | None:
    """Why a parsed JSON value is unacceptable (too deep, unpaired surrogates), or None."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                return "a string holds an unpaired UTF-16 surrogate"
        elif isinstance(node, (dict, list)):
            if depth > max_depth:
                return f"JSON nesting deeper than {max_depth} levels"
            if isinstance(node, dict):
                stack.extend((key, depth) for key in node)
                stack.extend((child, depth + 1) for child in node.values())
            else:
                stack.extend((child, depth + 1) for child in node)
    return None


def _bounded_int(digits: str) -> int:
    # Python refuses to convert longer digit strings (ValueError, sys.get_int_max_str_digits):
    # refused here with a clear error rather than a 500.
    if len(digits.lstrip("-")) > MAX_JSON_INTEGER_DIGITS:
        raise MalformedPayload(f"a JSON integer has more than {MAX_JSON_INTEGER_DIGITS} digits")
    return int(digits)


# Integers are parsed by the bounded hook only where the body holds a run of digits longer than any
# integer may be (it may sit in a string): every digit mapped to "0", one substring search finds it.
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_DIGIT_RUN = b"0" * (MAX_JSON_INTEGER_DIGITS + 1)
_BOUNDED_INT_DECODER = json.JSONDecoder(parse_int=_bounded_int)


def _has_long_digit_run(body: bytes) -> bool:
    digits = body.translate(_DIGITS_AS_ZERO)
    # Counting first spares nearly every body the (costlier) search for a 65-byte needle.
    return digits.count(b"0") > MAX_JSON_INTEGER_DIGITS and _LONG_DIGIT_RUN in digits


def _may_be_malformed(body: bytes, max_depth: int) -> bool:
    """Whether the parsed value needs the full walk of _well_formed. Scans of the raw bytes (in C)
    rule the problems out for nearly every body: nesting deeper than max_depth needs more than
    max_depth opening brackets, and a lone surrogate in valid UTF-8 JSON can only be written as a
    \\uD800-\\uDFFF escape (looked for only in bodies with a backslash: a one-byte scan, cheaper)."""
    if body.count(b"{") + body.count(b"[") > max_depth:
        return True
    return b"\\" in body and (b"\\ud" in body or b"\\uD" in body)


def parse_json(body: bytes, max_depth: int) -> Any:
    try:
        text = body.decode("utf-8")
        # Without a long digit run no integer can be too long: the parser's own int() is safe
        # and much cheaper than the bounded hook.
        payload = _BOUNDED_INT_DECODER.decode(text) if _has_long_digit_run(body) else json.loads(text)
    except UnicodeDecodeError as error:
        raise MalformedPayload("body is not valid UTF-8") from error
    except (json.JSONDecodeError, RecursionError) as error:
        raise MalformedPayload("body is not valid JSON") from error
    if _may_be_malformed(body, max_depth):
        problem = _well_formed(payload, max_depth)
        if problem:
            raise MalformedPayload(problem)
    return payload


def accept_delivery(
    request: WebhookRequest,
    source: SourceConfig,
    secrets: Any,
    now: dt.datetime,
    limits: Limits = Limits(),
) -> AcceptedDelivery | Handshake:
    """Verify and normalize one delivery. `secrets` is the source's secret model (or, for a
    standard-webhooks source, the list of its signing secrets)."""
    scheme = scheme_for(source.scheme)
    handshake = scheme.handshake(request)
    if handshake is not None:
        return handshake
    check_limits(request, limits, scheme.media_types)
    secret = scheme.coerce_secret(secrets)
    verified = scheme.verify(request, secret, now, limits.signature_tolerance)
    if scheme.body_format == "xml":
        payload: Any = parse_xml(request.body, limits.max_json_depth)
    else:
        payload = parse_json(request.body, limits.max_json_depth)
    normalized = scheme.normalize(request, request.source, source, secret, verified, payload, now)
    accepted = AcceptedDelivery(
        source=request.source,
        delivery_id=normalized.delivery_id,
        body_sha256=normalized.content_sha256,
        events=normalized.events,
        unprocessed=normalized.unprocessed,
        scheme=source.scheme,
    )
    if not all(entry.fits() for entry in accepted.bus_entries):
        # Refused now (the vendor learns it cannot succeed) rather than failing at PutEvents
        # on every one of the vendor's retries.
        raise PayloadTooLarge(
            f"an event of this delivery would exceed EventBridge's {PUT_EVENTS_MAX_BYTES} byte entry limit"
        )
    return accepted


def body_sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()
