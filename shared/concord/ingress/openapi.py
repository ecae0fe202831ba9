"""The ingress API's OpenAPI 3.1 document, built from the code: the scheme registry (headers,
query parameters, media types, success answers), the refusals (ingress.errors) and the answer
models below. `docs/openapi/ingress.json` is this document, checked in; a unit test fails when
they drift. Regenerate with:

    .venv/bin/python -m concord.ingress.openapi
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .errors import REFUSALS
from .schemes import all_schemes
from .sources import SOURCE_NAME_PATTERN

DOCUMENT = Path(__file__).resolve().parents[3] / "docs" / "openapi" / "ingress.json"
REGENERATE = ".venv/bin/python -m concord.ingress.openapi"

# Answers the handler gives besides the refusals (see functions/webhook_ingest/handler.py).
OTHER_ERRORS = {404: ["not_found"], 500: ["internal_error"], 503: ["temporarily_unavailable"]}


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorDetail(_Closed):
    field: str
    problem: str


class ErrorBody(_Closed):
    """Every refusal: a code, a message that never echoes the input, and field-level details."""

    error: str
    message: str
    details: list[ErrorDetail] | None = None


class Accepted(_Closed):
    """A canonical (Standard Webhooks) delivery: the one event it became."""

    status: Literal["accepted"]
    event_id: str
    event_type: str


class PublishedEvent(_Closed):
    event_id: str
    event_type: str


class AcceptedBatch(_Closed):
    """A vendor delivery: the events published and how many items were recorded as unprocessed."""

    status: Literal["accepted"]
    delivery_id: str
    events: list[PublishedEvent]
    unprocessed: int = Field(ge=0)


class GatewayMessage(BaseModel):
    """API Gateway's own answers (request validation, throttling, payload over its limit)."""

    message: str


def _schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for model in (ErrorBody, Accepted, AcceptedBatch, GatewayMessage):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    return schemas


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error_codes() -> dict[int, list[str]]:
    codes: dict[int, list[str]] = defaultdict(list)
    for refusal in REFUSALS:
        codes[int(refusal.status)].append(refusal.code)
    for status, extra in OTHER_ERRORS.items():
        codes[status].extend(extra)
    return {status: sorted(set(names)) for status, names in sorted(codes.items())}


def _error_response(status: int, codes: list[str], gateway_too: bool) -> dict[str, Any]:
    refusals = [r for r in REFUSALS if int(r.status) == status]
    why = "; ".join(f"`{r.code}`: {(r.__doc__ or '').strip().rstrip('.')}" for r in refusals) or ", ".join(codes)
    body = {"allOf": [_ref("ErrorBody"), {"properties": {"error": {"enum": codes}}}]}
    schema = {"anyOf": [body, _ref("GatewayMessage")]} if gateway_too else body
    response: dict[str, Any] = {"description": why, "content": {"application/json": {"schema": schema}}}
    if status == 503:
        response["description"] = (
            "The bus, the audit trail or the source's secret is unreachable or not set: nothing was "
            "acknowledged, retry after Retry-After seconds."
        )
        response["headers"] = {"Retry-After": {"schema": {"type": "string", "pattern": "^[0-9]+$"}, "required": True}}
    if status == 500:
        response["description"] = "An unexpected error (never with internals in the body)."
    return response


def build_document() -> dict[str, Any]:
    schemes = all_schemes()
    headers = sorted({h for scheme in schemes.values() for h in scheme.signature_headers})
    query = sorted({q for scheme in schemes.values() for q in scheme.query_parameters})
    media_types = sorted({m for scheme in schemes.values() for m in scheme.media_types})
    used_by = {
        name: sorted(s.name for s in schemes.values() if name in s.signature_headers or name in s.query_parameters)
        for name in headers + query
    }
    parameters: list[dict[str, Any]] = [
        {
            "name": "source",
            "in": "path",
            "required": True,
            "description": "A configured webhook source (cdk.json `webhook_sources`); unknown sources get 404.",
            "schema": {"type": "string", "pattern": SOURCE_NAME_PATTERN},
        }
    ]
    parameters += [
        {
            "name": name,
            "in": "header",
            "required": False,
            "description": f"Read by the {', '.join(used_by[name])} scheme.",
            "schema": {"type": "string"},
        }
        for name in headers
    ]
    parameters += [
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": f"Read by the {', '.join(used_by[name])} scheme.",
            "schema": {"type": "string"},
        }
        for name in query
    ]
    content: dict[str, dict[str, Any]] = {
        media: {"schema": {"type": "string"}} if media.endswith("xml") else {"schema": {}} for media in media_types
    }
    codes = _error_codes()
    responses: dict[str, Any] = {
        "200": {
            "description": "Accepted, answered as the vendor expects: "
            + "; ".join(f"{s.name}: {_success_shape(s.name)}" for s in schemes.values() if s.success_status == 200)
            + "; business-central handshake: the validationToken echoed as text/plain.",
            "content": {
                "application/json": {"schema": _ref("AcceptedBatch")},
                "text/plain": {"schema": {"type": "string"}},
                "text/xml": {"schema": {"type": "string"}},
            },
        },
        "202": {
            "description": "Accepted: "
            + "; ".join(f"{s.name}: {_success_shape(s.name)}" for s in schemes.values() if s.success_status == 202),
            "content": {"application/json": {"schema": {"anyOf": [_ref("Accepted"), _ref("AcceptedBatch")]}}},
        },
    }
    for status, names in codes.items():
        responses[str(status)] = _error_response(status, names, gateway_too=status in (400, 413))
    responses["429"] = {
        "description": "Throttled by API Gateway (stage throttles).",
        "content": {"application/json": {"schema": _ref("GatewayMessage")}},
    }
    scheme_docs = {
        s.name: {
            "title": s.title,
            "documentation": s.doc_url,
            "mediaTypes": sorted(s.media_types),
            "headers": list(s.signature_headers),
            "query": list(s.query_parameters),
            "successStatus": s.success_status,
            "secretFields": list(s.secret_model.model_fields),
        }
        for s in schemes.values()
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Concord webhook ingress",
            "version": "1.0.0",
            "description": "POST /webhooks/{source}: one endpoint per configured source, each verified by its "
            "scheme (x-concord-schemes). Generated by concord.ingress.openapi; see docs/ingress.md.",
        },
        "paths": {
            "/webhooks/{source}": {
                "post": {
                    "operationId": "receiveWebhook",
                    "summary": "Receive one webhook delivery",
                    "parameters": parameters,
                    "requestBody": {"required": False, "content": content},
                    "responses": responses,
                }
            }
        },
        "components": {"schemas": _schemas()},
        "x-concord-schemes": scheme_docs,
    }


def _success_shape(scheme: str) -> str:
    return {
        "standard-webhooks": "Accepted (the event id)",
        "hubspot": "AcceptedBatch",
        "xero": "empty body (also the intent-to-receive answer)",
        "quickbooks": "AcceptedBatch",
        "salesforce": "SOAP notificationsResponse with Ack true (text/xml)",
        "business-central": "AcceptedBatch",
    }[scheme]


def render() -> str:
    return json.dumps(build_document(), indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write (or --check) docs/openapi/ingress.json")
    parser.add_argument("--check", action="store_true", help="exit 1 if the checked-in document is stale")
    args = parser.parse_args(argv)
    if args.check:
        current = DOCUMENT.read_text() if DOCUMENT.exists() else ""
        if current != render():
            print(f"{DOCUMENT} is stale; run `{REGENERATE}`", file=sys.stderr)
            return 1
        return 0
    DOCUMENT.parent.mkdir(parents=True, exist_ok=True)
    DOCUMENT.write_text(render())
    print(f"wrote {DOCUMENT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
