"""Reading what a vendor sent from an API Gateway REST (v1) proxy event."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from .delivery import WebhookRequest
from .errors import MalformedPayload

MAX_QUERY_PARAMETERS = 20


def raw_body(event: Mapping[str, Any]) -> bytes:
    """The exact bytes sent (signatures are over them); a binary body arrives base64-encoded."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as error:
            raise MalformedPayload("body is not valid base64") from error
    return body.encode("utf-8", "surrogatepass")


def query_string(event: Mapping[str, Any]) -> str:
    multi = event.get("multiValueQueryStringParameters") or {}
    pairs = [(name, value) for name, values in multi.items() for value in values or []]
    if not pairs:
        pairs = list((event.get("queryStringParameters") or {}).items())
    return "&".join(f"{quote(name, safe='')}={quote(value or '', safe='')}" for name, value in pairs)


def public_url(event: Mapping[str, Any], headers: Mapping[str, str], configured: str | None) -> str:
    """The URL the sender called. A configured public URL wins (custom domains, proxies);
    otherwise scheme and host come from X-Forwarded-Proto and Host, and the path is the
    stage-prefixed path API Gateway reports (requestContext.path). An event without
    requestContext.domainName (the local API front) was called on its resource path."""
    query = query_string(event)
    if configured:
        base = configured.split("?", 1)[0]
    else:
        context = event.get("requestContext") or {}
        on_aws = bool(context.get("domainName"))
        proto = headers.get("x-forwarded-proto", "").split(",")[0].strip().lower() or ("https" if on_aws else "http")
        host = headers.get("host", "") or context.get("domainName", "")
        path = (context.get("path") if on_aws else None) or event.get("path") or ""
        base = f"{proto}://{host}{path}"
    return f"{base}?{query}" if query else base


def webhook_request(event: Mapping[str, Any], source: str, configured_url: str | None) -> WebhookRequest:
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items() if value is not None}
    query = {name: value for name, value in (event.get("queryStringParameters") or {}).items() if value is not None}
    return WebhookRequest(
        source=source,
        headers=headers,
        body=raw_body(event),
        method=str(event.get("httpMethod") or "POST"),
        url=public_url(event, headers, configured_url),
        query=dict(list(query.items())[:MAX_QUERY_PARAMETERS]),
    )
