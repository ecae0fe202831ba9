"""The bad-input suite against the ingest handler under moto: every case of the catalog
(tests/unit/vendors/bad_inputs/) gets its 4xx with a JSON error body, nothing reaches the
bus, no delivery is remembered and nothing is recorded. Replays: test_ingress_replay.py.

Count the cases by category: `.venv/bin/python -m pytest tests/unit/test_ingress_bad_input.py --collect-only -q`.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from moto import mock_aws

from .conftest import FUNCTIONS_DIR
from .vendors.bad_inputs import Case, Credentials, build_cases, replay_cases
from .vendors.harness import (
    BC_STATE,
    CRM_SECRET,
    HUBSPOT_SECRET,
    QBO_TOKEN,
    SF_ORG,
    SF_TOKEN,
    XERO_KEY,
    Ingest,
    _stack,
    body_of,
    header_of,
    url_of,
)

CREDENTIALS = Credentials(CRM_SECRET, HUBSPOT_SECRET, XERO_KEY, QBO_TOKEN, SF_TOKEN, SF_ORG, BC_STATE)
CASES = build_cases(CREDENTIALS, url_of)
LEAKS = ("Traceback", 'File "', "handler.py", "site-packages")


@dataclass
class _Context:
    function_name: str = "concord-unit-test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:concord-unit-test"
    aws_request_id: str = field(default="bad-input")

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@pytest.fixture(scope="module")
def shared_ingest() -> Iterator[Ingest]:
    """One stack for every refusal: refused requests change nothing, which each case checks."""
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        for name, value in {"AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"}.items():
            patch.setenv(name, value)
        spec = importlib.util.spec_from_file_location(
            "concord_bad_input_handler", FUNCTIONS_DIR / "webhook_ingest" / "handler.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        patch.setitem(sys.modules, "concord_bad_input_handler", module)
        spec.loader.exec_module(module)
        yield _stack(lambda _: module, _Context(), patch)


@pytest.fixture
def ingest_for_refusals(shared_ingest: Ingest, monkeypatch: pytest.MonkeyPatch) -> Ingest:
    for name in (
        "EVENT_BUS_NAME",
        "IDEMPOTENCY_TABLE_NAME",
        "AUDIT_TABLE_NAME",
        "WEBHOOK_SOURCES",
        "WEBHOOK_SECRET_PREFIX",
    ):
        monkeypatch.setenv(name, __import__("os").environ[name])
    return shared_ingest


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_refused(case: Case, ingest_for_refusals: Ingest) -> None:
    ingest = ingest_for_refusals
    sent = case.make()
    before = ingest.effects()

    response = ingest.post(sent, path=case.path) if case.path else ingest.post(sent)

    assert response["statusCode"] == case.status, (case.id, response.get("body", "")[:300])
    assert header_of(response, "Content-Type") == "application/json"
    body = body_of(response)
    assert body["error"] in case.codes and body["message"]
    assert not any(leak in response["body"] for leak in LEAKS)
    assert ingest.effects() == before


def test_the_catalog_covers_every_category_for_every_scheme() -> None:
    by_scheme: dict[str, set[str]] = {}
    for case in CASES:
        by_scheme.setdefault(case.scheme, set()).add(case.category)
    for scheme, categories in by_scheme.items():
        if scheme == "any":
            continue
        expected = {
            "forged",
            "truncated",
            "oversized",
            "wrong-content-type",
            "malformed",
            "deep-nesting",
            "unicode",
            "injection",
            "surrogate",
            "base-path",
        }
        if scheme in ("standard-webhooks", "hubspot"):
            expected.add("stale")  # only these schemes sign a timestamp
        if scheme != "salesforce":
            expected.add("oversized-integer")  # the JSON schemes
        if scheme == "standard-webhooks":
            expected.add("control-characters")  # the canonical payload
        assert categories == expected, scheme
    assert len(CASES) + len(replay_cases()) >= 300
    json.dumps([c.id for c in CASES])
