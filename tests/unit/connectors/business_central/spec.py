"""Microsoft's OpenAPI document of Business Central API v1.0 (tests/fixtures/business-central,
CC-BY-4.0, see its NOTICE.md) as a validator of API v2.0 traffic: the connector's requests and
the sandbox's answers.

v2.0 paths are v1.0's below `/api/v2.0/` instead of `/api/v1.0/`. Where v1.0 and v2.0 differ,
the difference is listed here, never silently allowed:
- V2_ONLY_FIELDS: properties v2.0 adds to an entity (from the v2.0 resource pages);
- V2_ONLY_QUERY: OData options the v1.0 document does not declare;
- NOT_IN_V1: the v2.0 endpoints v1.0 describes nowhere (`$batch`, `subscriptions`), checked
  against the shapes their v2.0 pages document instead.
Formats (date vs date-time) are not checked: v1.0 declares invoiceDate, dueDate and postingDate
as date-time, v2.0 answers plain dates ("2019-01-15").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import yaml
from openapi_schema_validator import OAS30Validator

SPEC_FILE = Path(__file__).parents[3] / "fixtures" / "business-central" / "BCOAS1.0.yaml"
API_ROOT = "/api/v2.0/"
# https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/resources/dynamics_customer
# (v2.0 flattens v1.0's `address` object into addressLine1 ... postalCode, and adds these)
_CUSTOMER_V2 = {
    "addressLine1",
    "addressLine2",
    "city",
    "state",
    "country",
    "postalCode",
    "salespersonCode",
    "balanceDue",
    "creditLimit",
}
V2_ONLY_FIELDS: dict[str, set[str]] = {
    "customer": _CUSTOMER_V2,
    # https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/resources/dynamics_salesinvoice
    "salesInvoice": {"postingDate"},
    # https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/resources/dynamics_salesinvoiceline
    "salesInvoiceLine": {"lineObjectNumber", "unitOfMeasureCode", "itemVariantId", "locationId"},
    # https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/resources/dynamics_customerpayment
    "customerPayment": {"journalId"},
    # https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/resources/dynamics_item
    "item": {"baseUnitOfMeasureCode"},
}
# OData annotations on every v2.0 record and list (odata.metadata=minimal)
ANNOTATIONS = {"@odata.etag", "@odata.context", "@odata.nextLink"}
# $orderby is a standard OData option Business Central supports; v1.0's document declares none.
# $skiptoken is what the service's own @odata.nextLink carries.
V2_ONLY_QUERY = {"$orderby", "$skiptoken"}
NOT_IN_V1 = ("$batch", "subscriptions")
# https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/developer/devenv-webservices-error-codes
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "additionalProperties": False,
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}
# https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/webservices/use-odata-batch
BATCH_REQUEST_ITEM = {
    "type": "object",
    "required": ["id", "method", "url"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string"},
        "method": {"type": "string"},
        "url": {"type": "string"},
        "headers": {"type": "object"},
        "body": {"type": "object"},
    },
}
# https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/resources/dynamics_subscriptions
SUBSCRIPTION = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        key: {"type": "string"}
        for key in (
            "subscriptionId",
            "notificationUrl",
            "resource",
            "userId",
            "lastModifiedDateTime",
            "clientState",
            "expirationDateTime",
            "@odata.etag",
        )
    },
}


@dataclass(frozen=True)
class Operation:
    template: str
    method: str
    spec: dict[str, Any]


@cache
def spec() -> dict[str, Any]:
    return yaml.safe_load(SPEC_FILE.read_text())


@cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    patterns = []
    for template in spec()["paths"]:
        regex = re.escape(template)
        regex = re.sub(r"'?\\\{[A-Za-z_]+\\\}'?", lambda _: r"'?[^/()',]+'?", regex)
        patterns.append((re.compile(f"^{regex}$"), template))
    return patterns


def operation(method: str, path: str) -> Operation:
    """The v1.0 operation a v2.0 call is (AssertionError when there is none)."""
    below = "/" + path.split(API_ROOT, 1)[1] if API_ROOT in path else path
    for pattern, template in _templates():
        if pattern.match(below):
            found = spec()["paths"][template].get(method.lower())
            assert found is not None, f"v1.0 has no {method} {template}"
            return Operation(template, method.upper(), found)
    raise AssertionError(f"v1.0 has no path for {method} {below}")


def _resolved(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        *_, kind, name = schema["$ref"].split("/")
        schema = spec()["components"][kind][name]
    return schema


def check_body(schema: dict[str, Any], body: Any, where: str, name: str = "") -> None:
    """`body` has only the schema's properties (plus v2.0's listed ones) and validates against it;
    `name` is the entity a request body is of (request bodies are not component schemas)."""
    schema = _resolved(schema)
    if schema.get("type") == "object" and "value" in schema.get("properties", {}):  # a list
        assert isinstance(body, dict) and set(body) - ANNOTATIONS <= {"value"}, f"{where}: {sorted(body)}"
        for row in body["value"]:
            check_body(schema["properties"]["value"]["items"], row, where)
        return
    name = name or next((key for key, value in spec()["components"]["schemas"].items() if value is schema), "")
    known = set(schema.get("properties", {})) | V2_ONLY_FIELDS.get(name, set()) | ANNOTATIONS
    unknown = set(body) - known
    assert not unknown, f"{where}: {sorted(unknown)} are in neither v1.0's {name or 'schema'} nor V2_ONLY_FIELDS"
    v1_part = {key: value for key, value in body.items() if key in schema.get("properties", {})}
    root = {**schema, "components": spec()["components"]}
    errors = sorted(OAS30Validator(root).iter_errors(v1_part), key=str)
    assert not errors, f"{where}: {errors[0].message} at {list(errors[0].absolute_path)}"


def check_request(method: str, url: str, body: Any) -> Operation | None:
    """A request the connector sends: method and path, query options, body (None for $batch
    and subscriptions, checked by their own shapes)."""
    parts = urlsplit(url)
    below = parts.path.split(API_ROOT, 1)[1] if API_ROOT in parts.path else parts.path
    if below.startswith(NOT_IN_V1):
        if below == "$batch":
            assert isinstance(body, dict) and set(body) == {"requests"} and len(body["requests"]) <= 100
            for item in body["requests"]:
                assert OAS30Validator(BATCH_REQUEST_ITEM).is_valid(item), item
                check_request(item["method"], f"{parts.path.rsplit('$batch', 1)[0]}{item['url']}", item.get("body"))
        return None
    found = operation(method, parts.path)
    declared = {_resolved(p)["name"] for p in found.spec.get("parameters", []) if _resolved(p).get("in") == "query"}
    asked = set(parse_qs(parts.query, keep_blank_values=True))
    assert asked <= declared | V2_ONLY_QUERY, f"{method} {found.template}: undeclared query {sorted(asked - declared)}"
    if "requestBody" in found.spec:
        entity = found.spec["requestBody"]["$ref"].rsplit("/", 1)[-1]
        schema = _resolved(found.spec["requestBody"])["content"]["application/json"]["schema"]
        check_body(schema, body, f"{method} {found.template} request", entity)
    else:
        assert body in (None, {}), f"{method} {found.template} takes no body"
    return found


def check_response(method: str, url: str, status: int, body: Any) -> None:
    """An answer: an error in Business Central's error shape, or a declared status and body."""
    parts = urlsplit(url)
    if status >= 400:
        assert OAS30Validator(ERROR_SCHEMA).is_valid(body), f"{method} {parts.path} {status}: {body}"
        return
    below = parts.path.split(API_ROOT, 1)[1] if API_ROOT in parts.path else parts.path
    if below.startswith("subscriptions"):
        rows = body.get("value", [body]) if isinstance(body, dict) else []
        assert all(OAS30Validator(SUBSCRIPTION).is_valid(row) for row in rows), body
        return
    if below == "$batch":
        assert isinstance(body, dict) and set(body) == {"responses"}, body
        return
    found = operation(method, parts.path)
    answers = {str(code): value for code, value in found.spec["responses"].items()}
    assert str(status) in answers, f"{method} {found.template}: {status} is not one of {sorted(answers)}"
    content = answers[str(status)].get("content")
    if content is None:
        assert body in (None, b"", ""), f"{method} {found.template} {status} has no body"
        return
    check_body(content["application/json"]["schema"], body, f"{method} {found.template} {status}")


def check_exchange(request: httpx.Request, response: httpx.Response) -> None:
    """One call on the wire, both ways; a `$batch` operation by operation."""
    body = json.loads(request.content) if request.content else None
    answer = response.json() if response.content else None
    check_request(request.method, str(request.url), body)
    check_response(request.method, str(request.url), response.status_code, answer)
    if request.url.path.endswith("$batch") and response.status_code == 200:
        root = str(request.url).rsplit("$batch", 1)[0]
        by_id = {item["id"]: item for item in answer["responses"]}
        for item in body["requests"]:
            inner = by_id[item["id"]]
            if inner["status"] != 424:  # not run: undone with its transaction
                check_response(item["method"], root + item["url"], inner["status"], inner.get("body"))


class Recorder(httpx.BaseTransport):
    """A transport that sends through `inner` and keeps every exchange (tests validate them)."""

    def __init__(self, inner: httpx.BaseTransport | None = None) -> None:
        self.inner = inner or httpx.HTTPTransport()
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        self.exchanges.append((request, response))
        return response

    def close(self) -> None:
        self.inner.close()
