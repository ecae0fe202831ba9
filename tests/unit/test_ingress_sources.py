"""Source configuration per scheme, the secrets each scheme needs, the local demo secrets and
the URL a vendor called (HubSpot signs it)."""

from __future__ import annotations

import json

import pytest

from concord.ingress.http import public_url, query_string
from concord.ingress.schemes import all_schemes, scheme_for
from concord.ingress.sources import SourceConfig, WebhookSecret, parse_sources
from concord.ingress.standard_webhooks import is_valid_secret
from concord.local.demo_secrets import demo_secret, demo_secret_value, demo_signing_secret, local_scheme

from .conftest import REPO_ROOT


def test_a_standard_webhooks_source_defaults_to_the_canonical_format() -> None:
    source = SourceConfig(system="crm", legal_entity="us-01")
    assert (source.scheme, source.payload_format) == ("standard-webhooks", "canonical")


@pytest.mark.parametrize("scheme, system", [("hubspot", "crm"), ("salesforce", "crm"), ("xero", "erp"),
                                            ("quickbooks", "erp"), ("business-central", "erp")])
def test_a_vendor_source_speaks_its_own_format_for_its_own_system(scheme: str, system: str) -> None:
    source = SourceConfig(scheme=scheme, system=system, legal_entity="us-01")
    assert source.payload_format == scheme
    with pytest.raises(ValueError):
        SourceConfig(scheme=scheme, system="psa", legal_entity="us-01")
    with pytest.raises(ValueError):
        SourceConfig(scheme=scheme, payload_format="canonical", system=system, legal_entity="us-01")


def test_a_standard_webhooks_source_cannot_claim_a_vendor_format() -> None:
    with pytest.raises(ValueError):
        SourceConfig(system="crm", legal_entity="us-01", payload_format="hubspot")


@pytest.mark.parametrize("url", ["ftp://x", "https://a b", "hooks.example.com/x"])
def test_a_public_url_must_be_http(url: str) -> None:
    with pytest.raises(ValueError):
        SourceConfig(scheme="hubspot", system="crm", legal_entity="us-01", public_url=url)


def test_every_stage_configures_every_vendor_source() -> None:
    stages = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]["concord:stages"]
    for stage in ("local", "dev", "prod"):
        sources = parse_sources(stages[stage]["webhook_sources"])
        assert {s.scheme for s in sources.values()} == set(all_schemes()), stage


def test_the_cli_secret_model_is_unchanged_for_standard_webhooks() -> None:
    secret = demo_signing_secret("crm")
    assert is_valid_secret(secret)
    assert WebhookSecret(signing_secrets=[secret]).model_dump() == {"signing_secrets": [secret]}
    assert scheme_for("standard-webhooks").secret_model is WebhookSecret


def test_the_local_stack_seeds_a_valid_secret_for_every_configured_source() -> None:
    stages = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]["concord:stages"]
    for source, config in stages["local"]["webhook_sources"].items():
        scheme = config.get("scheme", "standard-webhooks")
        assert local_scheme(source) == scheme
        scheme_for(scheme).secret_model.model_validate(json.loads(demo_secret_value(source)))
    assert demo_secret("crm") == {"signing_secrets": [demo_signing_secret("crm")]}
    assert local_scheme("not-configured") == "standard-webhooks"


def _event(**overrides) -> dict:
    event = {"path": "/webhooks/hubspot", "requestContext": {"path": "/prod/webhooks/hubspot", "domainName": "abc.execute-api.us-east-1.amazonaws.com"}}
    return {**event, **overrides}


def test_the_public_url_on_aws_is_host_plus_the_stage_path() -> None:
    headers = {"host": "abc.execute-api.us-east-1.amazonaws.com", "x-forwarded-proto": "https"}
    assert public_url(_event(), headers, None) == "https://abc.execute-api.us-east-1.amazonaws.com/prod/webhooks/hubspot"


def test_the_public_url_of_the_local_front_is_its_resource_path() -> None:
    event = _event(requestContext={"path": "/local/webhooks/hubspot"})
    assert public_url(event, {"host": "127.0.0.1:8787"}, None) == "http://127.0.0.1:8787/webhooks/hubspot"


def test_a_configured_public_url_wins_and_keeps_the_query() -> None:
    event = _event(multiValueQueryStringParameters={"a": ["1", "2"], "b c": ["d&e"]})
    assert public_url(event, {"host": "x"}, "https://hooks.acme.example/hs?ignored=1") == (
        "https://hooks.acme.example/hs?a=1&a=2&b%20c=d%26e"
    )
    assert query_string({"queryStringParameters": {"k": "v"}}) == "k=v"
