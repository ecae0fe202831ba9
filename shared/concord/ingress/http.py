"""Reading what a vendor sent from an API Gateway REST (v1) proxy event."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping
from itertools import chain
from typing import Any
from urllib.parse import quote

from .delivery import WebhookRequest
from .errors import MalformedPayload, MalformedRequest

MAX_QUERY_PARAMETERS = 20
_PATH_PARAMETER = re.compile(r"\{(\w+)\+?\}")


def routed_path(event: Mapping[str, Any]) -> str:
    """The path API Gateway matched: its resource with the path parameters filled in.

    The raw `path` carries a custom domain's base path (https://hooks.example.com/concord/
    webhooks/crm arrives as path "/concord/webhooks/crm", resource "/webhooks/{source}"), so
    routing on it answers 404 behind any base-path mapping. An event without a resource, or
    whose parameters do not fill it, falls back to the raw path.
    """
    resource = event.get("resource")
    parameters = event.get("pathParameters") or {}
    if not isinstance(resource, str) or not resource.startswith("/"):
        return str(event.get("path") or "/")
    names = _PATH_PARAMETER.findall(resource)
    if not all(isinstance(parameters.get(name), str) for name in names):
        return str(event.get("path") or "/")
    return _PATH_PARAMETER.sub(lambda m: parameters[m.group(1)], resource)


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


def _is_ascii_text(*groups: Iterable[Any]) -> bool:
    """Whether every item of every group is ASCII text: one join and one check, in C."""
    try:
        return "".join(chain(*groups)).isascii()
    except TypeError:  # an item that is not text (a malformed event): _require_unicode decides
        return False


def _require_unicode(what: str, texts: list[str]) -> None:
    """Refuse names and values that are not valid Unicode before anything encodes them (HubSpot
    signs the URL, loggers write headers): a lone surrogate would otherwise be a 500."""
    try:
        "".join(texts).encode("utf-8")
    except UnicodeEncodeError:  # a lone UTF-16 surrogate
        raise MalformedRequest(f"a {what} is not valid Unicode") from None


def webhook_request(
    event: Mapping[str, Any], source: str, configured_url: str | None, *, with_url: bool = True
) -> WebhookRequest:
    """What the sender sent. `with_url`: whether to work out the URL it called (only schemes
    that sign it need it; see Scheme.signs_url)."""
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items() if value is not None}
    query = {name: value for name, value in (event.get("queryStringParameters") or {}).items() if value is not None}
    multi = event.get("multiValueQueryStringParameters") or {}
    host = (event.get("requestContext") or {}).get("domainName") or ""
    # Nearly every request is ASCII throughout: answered without encoding anything.
    multi_values = chain.from_iterable(multi.values())
    if not _is_ascii_text(headers, headers.values(), query, query.values(), multi_values, [host]):
        _require_unicode("header", [*headers, *(value for value in headers.values() if isinstance(value, str))])
        _require_unicode(
            "query parameter",
            [
                *query,
                *(v for v in query.values() if isinstance(v, str)),
                *(str(v) for vs in multi.values() for v in vs or []),
            ],
        )
        _require_unicode("host", [str(host)])
    return WebhookRequest(
        source=source,
        headers=headers,
        body=raw_body(event),
        method=str(event.get("httpMethod") or "POST"),
        url=public_url(event, headers, configured_url) if with_url else "",
        query=dict(list(query.items())[:MAX_QUERY_PARAMETERS]) if len(query) > MAX_QUERY_PARAMETERS else query,
    )
