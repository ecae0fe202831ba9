"""The JSON answer both HTTP fronts (API Gateway, Lambda Invoke API) give of their own."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import Any


def json_response(
    handler: BaseHTTPRequestHandler, status: int, body: Any, headers: dict[str, str] | None = None
) -> None:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)
