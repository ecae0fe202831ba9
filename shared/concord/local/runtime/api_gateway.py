"""API Gateway's part: REST API (v1) proxy events from HTTP requests, answers back to HTTP."""

from __future__ import annotations

import base64
import json
import re
import uuid
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote

from ...clock import Clock, utc_now
from .pool import Runtime
from .replies import json_response

API_GATEWAY_MAX_BODY = 10 * 1024 * 1024
BASE_PATH = "/concord"


def _route_pattern(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path)) + "$")


def _as_sent(header_value: str) -> str:
    """A header value as the UTF-8 the client sent (http.server decodes headers as Latin-1);
    encoded lone surrogates stay lone surrogates, as they reach a function on AWS."""
    try:
        return header_value.encode("latin-1").decode("utf-8", "surrogatepass")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return header_value


def proxy_event(
    method: str,
    route_path: str,
    path: str,
    params: dict[str, str],
    headers: list[tuple[str, str]],
    query: str,
    body: bytes,
    stage: str,
    base_path: str = "",
    clock: Clock = utc_now,
) -> dict[str, Any]:
    """A REST API (v1) Lambda proxy integration event. Under a base path, shaped as API Gateway
    shapes a custom domain's: `path` and `requestContext.path` carry the base path, no stage."""
    multi_headers: dict[str, list[str]] = {"X-Forwarded-Proto": ["http"]}
    for name, value in headers:
        multi_headers.setdefault(name, []).append(_as_sent(value))
    multi_query: dict[str, list[str]] = {}
    for pair in filter(None, query.split("&")):
        name, _, value = pair.partition("=")
        # API Gateway hands the function decoded query parameters.
        multi_query.setdefault(unquote(name, errors="surrogatepass"), []).append(unquote(value, errors="surrogatepass"))
    try:
        text, is_base64 = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, is_base64 = base64.b64encode(body).decode(), True
    context_path = f"{base_path}{path}" if base_path else f"/{stage}{path}"
    custom_domain = {"domainName": multi_headers.get("Host", ["localhost"])[-1]} if base_path else {}
    return {
        "resource": route_path,
        "path": f"{base_path}{path}",
        "httpMethod": method,
        "headers": {name: values[-1] for name, values in multi_headers.items()},
        "multiValueHeaders": multi_headers,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": params or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": route_path,
            "httpMethod": method,
            "path": context_path,
            "stage": stage,
            **custom_domain,
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(clock().timestamp() * 1000),
            "identity": {"sourceIp": "127.0.0.1", "userAgent": multi_headers.get("User-Agent", [""])[0]},
            "accountId": "123456789012",
            "apiId": "local",
            "protocol": "HTTP/1.1",
        },
        "body": text if body else None,
        "isBase64Encoded": is_base64,
    }


def make_front(runtime: Runtime) -> type[BaseHTTPRequestHandler]:
    routes = [(r.method, r.path, _route_pattern(r.path), r.function_name) for r in runtime.topology.routes]

    class ApiGatewayFront(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes: with Nagle's algorithm on, the body
        # waits for the client's delayed ACK (~40 ms on Linux) on every keep-alive request.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the ingest function logs every request itself

        def _handle(self) -> None:
            path, _, query = self.path.partition("?")
            # The API is served at the root and, as a custom domain's base-path mapping, under BASE_PATH.
            base_path = BASE_PATH if path.startswith(f"{BASE_PATH}/") else ""
            path = path.removeprefix(base_path)
            match = next(
                (
                    (route, m, fn)
                    for method, route, pattern, fn in routes
                    if method == self.command and (m := pattern.match(path))
                ),
                None,
            )
            length = self.headers.get("Content-Length")
            if length is not None and int(length) > API_GATEWAY_MAX_BODY:
                self.close_connection = True
                return json_response(self, 413, {"message": "Request Too Long"})
            body = self.rfile.read(int(length)) if length else b""
            if match is None:
                return json_response(self, 404, {"message": "Not Found"})
            route, m, function_name = match
            event = proxy_event(
                self.command, route, path, m.groupdict(), list(self.headers.items()), query, body, "local", base_path
            )
            result = runtime.invoke(function_name, event)
            if result.errored:
                return json_response(self, 502, {"message": "Internal server error"})
            response = json.loads(result.payload)
            headers = {k: v for k, v in (response.get("headers") or {}).items()}
            for name, values in (response.get("multiValueHeaders") or {}).items():
                headers[name] = ", ".join(values)
            data = response.get("body") or ""
            data = base64.b64decode(data) if response.get("isBase64Encoded") else data.encode()
            self.send_response(int(response.get("statusCode", 200)))
            for name, value in headers.items():
                if name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    return ApiGatewayFront
