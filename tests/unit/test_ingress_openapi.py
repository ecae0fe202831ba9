"""The ingress API's OpenAPI document: generated from the code, checked in, valid, complete."""

from __future__ import annotations

import json

from openapi_spec_validator import validate

from concord.ingress.errors import REFUSALS
from concord.ingress.openapi import DOCUMENT, REGENERATE, build_document, render
from concord.ingress.schemes import all_schemes


def test_the_checked_in_document_matches_the_code() -> None:
    assert DOCUMENT.exists(), f"{DOCUMENT} is missing: run `{REGENERATE}`"
    assert DOCUMENT.read_text() == render(), (
        f"docs/openapi/ingress.json is out of date with the code: run `{REGENERATE}` and commit the result"
    )


def test_the_document_is_valid_openapi() -> None:
    validate(json.loads(DOCUMENT.read_text()))


def test_every_refusal_status_and_code_is_documented() -> None:
    responses = build_document()["paths"]["/webhooks/{source}"]["post"]["responses"]
    rendered = json.dumps(responses)
    for refusal in REFUSALS:
        assert str(refusal.status) in responses
        assert f'"{refusal.code}"' in rendered
    assert "Retry-After" in responses["503"]["headers"]


def test_every_scheme_is_described_with_its_headers_and_secret() -> None:
    document = build_document()
    parameters = {p["name"] for p in document["paths"]["/webhooks/{source}"]["post"]["parameters"]}
    for scheme in all_schemes().values():
        described = document["x-concord-schemes"][scheme.name]
        assert described["documentation"].startswith("https://")
        assert set(scheme.signature_headers) | set(scheme.query_parameters) <= parameters
        assert described["secretFields"]
    content = document["paths"]["/webhooks/{source}"]["post"]["requestBody"]["content"]
    assert {"application/json", "text/xml"} <= set(content)
