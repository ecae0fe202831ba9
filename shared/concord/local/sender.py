"""Sends canonical events to a webhook endpoint the way a Standard Webhooks sender does."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from ..ingress.standard_webhooks import sign_headers


@dataclass(frozen=True)
class Delivery:
    delivery_id: str
    body: bytes
    headers: dict[str, str]


def canonical_delivery(
    secret: str,
    event_type: str,
    data: dict[str, Any],
    *,
    occurred_at: dt.datetime | None = None,
    delivery_id: str | None = None,
    timestamp: int | None = None,
    **envelope: Any,
) -> Delivery:
    """A signed delivery of one event in Concord's canonical webhook format."""
    body = json.dumps(
        {
            "type": event_type,
            "timestamp": (occurred_at or dt.datetime.now(dt.UTC)).isoformat(),
            "data": data,
            **envelope,
        }
    ).encode()
    delivery_id = delivery_id or f"msg_{uuid.uuid4().hex}"
    headers = {
        "content-type": "application/json",
        **sign_headers(secret, delivery_id, timestamp or int(time.time()), body),
    }
    return Delivery(delivery_id, body, headers)


def post(client: httpx.Client, url: str, delivery: Delivery) -> httpx.Response:
    return client.post(url, content=delivery.body, headers=delivery.headers)
