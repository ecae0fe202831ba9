"""Accepting one webhook delivery: limits → signature → JSON → canonical event.

Cheap checks come first and nothing untrusted is parsed before its signature is verified.
Publishing (once per delivery id) is the caller's next step; see functions/webhook_ingest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..events import Envelope
from . import standard_webhooks
from .canonical import to_canonical_event
from .errors import MalformedPayload, PayloadTooLarge, UnknownSource, UnsupportedMediaType
from .sources import SourceConfig

DEFAULT_MAX_BODY_BYTES = 256 * 1024
DEFAULT_MAX_JSON_DEPTH = 32


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_json_depth: int = DEFAULT_MAX_JSON_DEPTH
    signature_tolerance: dt.timedelta = standard_webhooks.DEFAULT_TOLERANCE


@dataclass(frozen=True)
class WebhookRequest:
    source: str
    headers: Mapping[str, str]  # names lower-cased
    body: bytes


@dataclass(frozen=True)
class AcceptedDelivery:
    source: str
    delivery_id: str
    body_sha256: str
    event: Envelope


def find_source(sources: Mapping[str, SourceConfig], name: str) -> SourceConfig:
    source = sources.get(name)
    if source is None:
        raise UnknownSource(f"no webhook source named {name[:64]!r}")
    return source


def check_limits(request: WebhookRequest, limits: Limits) -> None:
    if len(request.body) > limits.max_body_bytes:
        raise PayloadTooLarge(f"body exceeds {limits.max_body_bytes} bytes")
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaType("content-type must be application/json")


def _within_depth(value: Any, max_depth: int) -> bool:
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            if depth > max_depth:
                return False
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return True


def parse_json(body: bytes, max_depth: int) -> Any:
    try:
        payload = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise MalformedPayload("body is not valid UTF-8") from error
    except (json.JSONDecodeError, RecursionError) as error:
        raise MalformedPayload("body is not valid JSON") from error
    if not _within_depth(payload, max_depth):
        raise MalformedPayload(f"JSON nesting deeper than {max_depth} levels")
    return payload


def accept_delivery(
    request: WebhookRequest,
    source: SourceConfig,
    secrets: Sequence[str],
    now: dt.datetime,
    limits: Limits = Limits(),
) -> AcceptedDelivery:
    check_limits(request, limits)
    verified = standard_webhooks.verify(
        secrets, request.headers, request.body, now, limits.signature_tolerance
    )
    payload = parse_json(request.body, limits.max_json_depth)
    event = to_canonical_event(request.source, source, verified.delivery_id, payload, ingested_at=now)
    return AcceptedDelivery(
        source=request.source,
        delivery_id=verified.delivery_id,
        body_sha256=hashlib.sha256(request.body).hexdigest(),
        event=event,
    )
