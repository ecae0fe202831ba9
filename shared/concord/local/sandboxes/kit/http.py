"""Requests, responses and routing by method + path pattern, independent of the HTTP server."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote


class BadJson(ValueError):
    """The request body is not the JSON the route needs."""


@dataclass(frozen=True)
class Request:
    """One request as a vendor route sees it; `path` is below the tenant segment."""

    method: str
    tenant: str
    path: str
    query_string: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    base_url: str = ""  # scheme://host:port the client used

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(self.query_string, keep_blank_values=True)

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError as exc:
            raise BadJson(str(exc)) from exc

    def form(self) -> dict[str, str]:
        """An application/x-www-form-urlencoded body, first value of each name."""
        return {k: v[0] for k, v in parse_qs(self.body.decode("utf-8", "replace")).items()}

    @property
    def tenant_url(self) -> str:
        return f"{self.base_url}/{self.tenant}"


@dataclass
class Response:
    """`body` is serialised as JSON unless None (no body, e.g. 204) or bytes (sent as they are,
    with the Content-Type the headers name, e.g. an OData multipart batch answer)."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return b"" if self.body is None else json.dumps(self.body).encode("utf-8")


Handler = Callable[..., Response]


@dataclass(frozen=True)
class _Route:
    method: str
    segments: tuple[str, ...]
    handler: Handler

    def bind(self, segments: list[str]) -> dict[str, str] | None:
        """Path parameters when `segments` fit this route's pattern, else None."""
        if len(segments) != len(self.segments):
            return None
        params: dict[str, str] = {}
        for pattern, actual in zip(self.segments, segments, strict=True):
            if pattern.startswith("{") and pattern.endswith("}"):
                if not actual:
                    return None
                params[pattern[1:-1]] = actual
            elif pattern != actual:
                return None
        return params


class Router:
    """Routes by method and a path pattern whose `{name}` segments become keyword arguments;
    the first registered route that fits wins, so register specific patterns first."""

    def __init__(self) -> None:
        self._routes: list[_Route] = []

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.add(method, pattern, handler)
            return handler

        return register

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append(_Route(method.upper(), _split(pattern), handler))

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
        """The handler and path parameters for a request, or None if no route fits."""
        segments = list(_split(path))
        for route in self._routes:
            if route.method == method.upper() and (params := route.bind(segments)) is not None:
                # Split before decoding: an encoded "/" stays inside its segment, as on the vendor.
                return route.handler, {name: unquote(value) for name, value in params.items()}
        return None

    def allows_path(self, path: str) -> bool:
        """Whether any route (of any method) fits the path: tells 405 from 404."""
        segments = list(_split(path))
        return any(route.bind(segments) is not None for route in self._routes)


def _split(path: str) -> tuple[str, ...]:
    return tuple(path.strip("/").split("/")) if path.strip("/") else ()
