"""Function settings from environment variables, and secrets read through Powertools."""

from __future__ import annotations

import base64
import json

import boto3
import pytest
from moto import mock_aws
from pydantic import Field

from concord.aws.consumer import ConsumerSettings
from concord.aws.secrets import put_secret, webhook_signing_secrets
from concord.errors import ConfigurationError
from concord.settings import Settings

INGEST_ENV = {
    "EVENT_BUS_NAME": "bus",
    "IDEMPOTENCY_TABLE_NAME": "idempotency",
    "WEBHOOK_SOURCES": '{"crm": {"system": "crm", "legal_entity": "acme-us"}}',
    "WEBHOOK_SECRET_PREFIX": "concord/test/webhooks",
}


class ExampleSettings(Settings):
    table_name: str = Field(alias="TABLE_NAME")
    batch_size: int = Field(default=10, gt=0, alias="BATCH_SIZE")


def test_from_env_reads_the_given_mapping() -> None:
    settings = ExampleSettings.from_env({"TABLE_NAME": "t", "BATCH_SIZE": "25", "UNRELATED": "x"})
    assert (settings.table_name, settings.batch_size) == ("t", 25)


def test_from_env_reads_the_process_environment_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "from-the-environment")
    assert ExampleSettings.from_env().table_name == "from-the-environment"


def test_a_missing_variable_is_a_configuration_error_naming_it() -> None:
    with pytest.raises(ConfigurationError) as caught:
        ExampleSettings.from_env({"BATCH_SIZE": "5"})
    message = str(caught.value)
    assert "TABLE_NAME" in message
    assert "ExampleSettings" in message
    assert "BATCH_SIZE" not in message


def test_an_invalid_value_is_a_configuration_error_naming_the_variable_not_the_value() -> None:
    with pytest.raises(ConfigurationError) as caught:
        ExampleSettings.from_env({"TABLE_NAME": "t", "BATCH_SIZE": "-12345"})
    assert "BATCH_SIZE" in str(caught.value)
    assert "-12345" not in str(caught.value)


def test_consumer_settings_name_the_missing_table() -> None:
    with pytest.raises(ConfigurationError, match="AUDIT_TABLE_NAME"):
        ConsumerSettings.from_env({})


def test_consumer_settings_defaults() -> None:
    settings = ConsumerSettings.from_env({"AUDIT_TABLE_NAME": "audit"})
    assert (settings.retry_base_seconds, settings.retry_max_seconds) == (10, 900)


@pytest.mark.parametrize("missing", sorted(INGEST_ENV))
def test_ingest_settings_name_each_missing_variable(load_handler, missing: str) -> None:
    ingest = load_handler("webhook_ingest")
    environ = {name: value for name, value in INGEST_ENV.items() if name != missing}

    with pytest.raises(ConfigurationError) as caught:
        ingest.IngestSettings.from_env(environ)

    assert missing in str(caught.value)
    assert all(other not in str(caught.value) for other in INGEST_ENV if other != missing)


def test_ingest_settings_parse_the_sources(load_handler) -> None:
    ingest = load_handler("webhook_ingest")
    settings = ingest.IngestSettings.from_env(INGEST_ENV)
    assert settings.sources()["crm"].legal_entity == "acme-us"
    assert settings.max_body_bytes == 256 * 1024


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WEBHOOK_SOURCES", "{not json"),
        ("MAX_BODY_BYTES", "0"),
        ("REMEMBER_DELIVERIES_SECONDS", "60"),
        ("REMEMBER_DELIVERIES_SECONDS", "86400"),
    ],
)
def test_ingest_settings_refuse_invalid_values(load_handler, name: str, value: str) -> None:
    ingest = load_handler("webhook_ingest")
    with pytest.raises(ConfigurationError, match=name):
        ingest.IngestSettings.from_env({**INGEST_ENV, name: value})


# --------------------------------------------------------------------------- secrets


@mock_aws
def test_signing_secrets_are_read_from_secrets_manager() -> None:
    active = ["whsec_" + base64.b64encode(b"a" * 16).decode(), "whsec_" + base64.b64encode(b"b" * 24).decode()]
    boto3.client("secretsmanager").create_secret(
        Name="concord/test/webhooks/crm", SecretString=json.dumps({"signing_secrets": active})
    )
    assert webhook_signing_secrets("concord/test/webhooks/crm") == active


@mock_aws
@pytest.mark.parametrize(
    "secret_string",
    [
        None,
        "not json",
        json.dumps({"signing_secrets": []}),
        json.dumps({"signing_secrets": ["a", "b", "c"]}),
        json.dumps({"signing_secrets": ["not-a-secret"]}),
        json.dumps({"signing_secrets": ["whsec_" + base64.b64encode(b"short").decode()]}),
        json.dumps({"secret": "whsec_a"}),
    ],
    ids=["missing", "not-json", "none", "three", "not-whsec", "key-too-short", "wrong-shape"],
)
def test_a_missing_or_malformed_secret_is_a_configuration_error_without_its_value(secret_string) -> None:
    if secret_string is not None:
        boto3.client("secretsmanager").create_secret(Name="concord/test/webhooks/crm", SecretString=secret_string)

    with pytest.raises(ConfigurationError) as caught:
        webhook_signing_secrets("concord/test/webhooks/crm")

    assert "concord/test/webhooks/crm" in str(caught.value)
    assert "whsec_a" not in str(caught.value)


@mock_aws
def test_put_secret_creates_then_adds_a_version() -> None:
    secrets = boto3.client("secretsmanager")

    arn = put_secret(secrets, "concord/test/webhooks/erp", '{"signing_secrets": ["whsec_1"]}')
    again = put_secret(secrets, "concord/test/webhooks/erp", '{"signing_secrets": ["whsec_2", "whsec_1"]}')

    assert again == arn
    current = secrets.get_secret_value(SecretId=arn)["SecretString"]
    assert json.loads(current)["signing_secrets"] == ["whsec_2", "whsec_1"]
