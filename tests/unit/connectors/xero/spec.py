"""Xero's OpenAPI document of the Accounting API (tests/fixtures/xero/xero_accounting.yaml,
MIT, see its NOTICE.md) as a validator of the connector's requests and the sandbox's answers.

The document is 900 KB: it is parsed once per test session (functools.cache). Where Xero's
behaviour and its document differ, the difference is listed here, never silently allowed:
- ENVELOPE: every 200 answer carries Id, Status, ProviderName and DateTimeUTC around its list;
  the document's Contacts/Invoices/Payments schemas declare only the list and pagination.
- PROBLEM: 401, 403, 404 and 429 answers are not in the document; Xero answers them with a
  problem body (Type, Title, Status, Detail), and 429 with Retry-After and X-Rate-Limit-Problem.
  https://developer.xero.com/documentation/api/accounting/responsecodes/
Besides the schemas, a request must name the organisation (xero-tenant-id, required by every
path) and a POST/PUT must carry an Idempotency-Key of at most 128 characters.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import yaml
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator

SPEC_FILE = Path(__file__).parents[3] / "fixtures" / "xero" / "xero_accounting.yaml"
API_ROOT = "/api.xro/2.0"
ENVELOPE = {"Id", "Status", "ProviderName", "DateTimeUTC"}
PROBLEM = {
    "type": "object",
    "required": ["Title", "Status", "Detail"],
    "additionalProperties": False,
    "properties": {
        "Type": {"type": "string", "nullable": True},
        "Title": {"type": "string"},
        "Status": {"type": "integer"},
        "Detail": {"type": "string"},
    },
}


@cache
def spec() -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return dict(yaml.load(SPEC_FILE.read_text(), Loader=loader))  # a safe loader (the C one when built)


@cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    return [
        (re.compile("^" + re.sub(r"\\\{[A-Za-z]+\\\}", "[^/]+", re.escape(template)) + "$"), template)
        for template in spec()["paths"]
    ]


def resolved(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        *_, kind, name = schema["$ref"].split("/")
        schema = spec()["components"][kind][name]
    return schema


def operation(method: str, path: str) -> tuple[str, dict[str, Any]]:
    """The path template and operation a call is (AssertionError when the document has none)."""
    below = path.split(API_ROOT, 1)[1] if API_ROOT in path else path
    matching = [template for pattern, template in _templates() if pattern.match(below)]
    assert matching, f"the document has no path for {method} {below}"
    # /Contacts/{ContactID} and /Contacts/{ContactNumber} look alike: the one with the method
    for template in matching:
        found = spec()["paths"][template].get(method.lower())
        if found is not None:
            return template, found
    raise AssertionError(f"the document has no {method} {matching[0]}")


def _parameters(template: str, found: dict[str, Any]) -> list[dict[str, Any]]:
    shared = spec()["paths"][template].get("parameters", [])
    return [resolved(parameter) for parameter in [*shared, *found.get("parameters", [])]]


def unknown_properties(schema: dict[str, Any], value: Any, where: str) -> list[str]:
    """Properties `value` has that its schema (and the schemas within) do not declare."""
    schema = resolved(schema)
    if isinstance(value, list) and "items" in schema:
        return [name for item in value for name in unknown_properties(schema["items"], item, where + "[]")]
    if not isinstance(value, dict) or "properties" not in schema:
        return []
    properties = schema["properties"]
    found = [f"{where}.{key}" for key in value if key not in properties]
    for key, inner in value.items():
        if key in properties:
            found += unknown_properties(properties[key], inner, f"{where}.{key}")
    return found


def _validate(schema: dict[str, Any], body: Any, where: str, *, writing: bool) -> None:
    validator = OAS30WriteValidator if writing else OAS30ReadValidator
    errors = sorted(validator({**resolved(schema), "components": spec()["components"]}).iter_errors(body), key=str)
    assert not errors, f"{where}: {errors[0].message} at {list(errors[0].absolute_path)}"


def check_request(request: httpx.Request) -> str:
    """A request the connector sends: path, query, headers and body; returns its template."""
    method, parts = request.method, urlsplit(str(request.url))
    template, found = operation(method, parts.path)
    parameters = _parameters(template, found)
    declared_query = {p["name"] for p in parameters if p["in"] == "query"}
    asked = set(parse_qs(parts.query, keep_blank_values=True))
    assert asked <= declared_query, f"{method} {template}: undeclared query {sorted(asked - declared_query)}"
    declared_headers = {p["name"].lower() for p in parameters if p["in"] == "header"}
    assert "xero-tenant-id" in declared_headers and request.headers.get("xero-tenant-id"), template
    if "if-modified-since" in request.headers:
        assert "if-modified-since" in declared_headers, f"{method} {template} takes no If-Modified-Since"
        assert re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", request.headers["if-modified-since"]
        )
    body = json.loads(request.content) if request.content else None
    if method in ("POST", "PUT"):
        key = request.headers.get("Idempotency-Key", "")
        assert "idempotency-key" in declared_headers and 0 < len(key) <= 128, f"{method} {template}: Idempotency-Key"
        schema = resolved(found["requestBody"])["content"]["application/json"]["schema"]
        unknown = unknown_properties(schema, body, "request")
        assert not unknown, f"{method} {template}: {unknown} are not in the document"
        _validate(schema, body, f"{method} {template} request", writing=True)
    else:
        assert body is None, f"{method} {template} takes no body"
    return template


def check_response(method: str, url: str, status: int, headers: httpx.Headers | dict[str, str], body: Any) -> None:
    """An answer: a declared status and body, or one of the listed differences."""
    template, found = operation(method, urlsplit(url).path)
    if status in (401, 403, 404, 429):
        _validate(PROBLEM, body, f"{method} {template} {status}", writing=False)
        if status == 429:
            assert headers.get("Retry-After") and headers.get("X-Rate-Limit-Problem") in ("minute", "day", "concurrent")
        return
    answers = {str(code): resolved(value) for code, value in found["responses"].items()}
    assert str(status) in answers, f"{method} {template}: {status} is not one of {sorted(answers)}"
    schema = answers[str(status)]["content"]["application/json"]["schema"]
    shown = {key: value for key, value in body.items() if key not in ENVELOPE} if status == 200 else body
    unknown = unknown_properties(schema, shown, "answer")
    assert not unknown, f"{method} {template} {status}: {unknown} are not in the document"
    _validate(schema, shown, f"{method} {template} {status}", writing=False)


def check_exchange(request: httpx.Request, response: httpx.Response) -> str:
    template = check_request(request)
    body = response.json() if response.content else None
    check_response(request.method, str(request.url), response.status_code, response.headers, body)
    return template
