"""A recording transport for the QuickBooks connector: every request it sends and every answer
it gets is checked against Intuit's XSDs (xsd.py) as it passes, and kept for the tests."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import httpx

from .xsd import validate


def checked(request: httpx.Request, response: httpx.Response) -> None:
    """Validate one exchange with the Accounting API (the token endpoint is OAuth, not QBO JSON)."""
    path = request.url.path
    if "/v3/company/" not in path:
        return
    last = path.rstrip("/").rsplit("/", 1)[-1]
    if request.method == "POST" and request.content:
        body = json.loads(request.content)
        validate("IntuitBatchRequest" if last == "batch" else last.capitalize(), body)
    validate("IntuitResponse", response.json())


@dataclass
class Recorder(httpx.BaseTransport):
    inner: httpx.BaseTransport = field(default_factory=httpx.HTTPTransport)
    exchanges: list[tuple[httpx.Request, httpx.Response]] = field(default_factory=list)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        checked(request, response)
        self.exchanges.append((request, response))
        return response

    def paths(self, method: str | None = None) -> list[str]:
        return [r.url.path for r, _ in self.exchanges if method is None or r.method == method]
