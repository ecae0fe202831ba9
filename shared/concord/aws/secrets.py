"""Webhook signing secrets and vendor credentials, read from Secrets Manager.

A webhook source's secret is JSON whose shape depends on its scheme (the scheme's
`secret_model`): {"signing_secrets": [...]} for Standard Webhooks, {"client_secrets": [...]}
for HubSpot, {"webhook_keys": [...]} for Xero, {"verifier_tokens": [...]} for QuickBooks,
{"organization_ids": [...], "endpoint_tokens": [...]} for Salesforce and
{"client_states": [...]} for Business Central; each list holds one value, or two while rotating.

Reads go through Powertools Parameters with a short cache, so a rotated secret is picked up
within the cache period (SECRET_CACHE_SECONDS, default 5 minutes) without a redeploy. Secret values are never logged.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError
from pydantic import BaseModel, ValidationError

from ..errors import ConfigurationError
from ..ingress.schemes import scheme_for
from ..ingress.sources import WebhookSecret

if TYPE_CHECKING:
    from types_boto3_secretsmanager import SecretsManagerClient

DEFAULT_CACHE_SECONDS = 300


def webhook_signing_secrets(secret_name: str, cache_seconds: int = DEFAULT_CACHE_SECONDS) -> list[str]:
    try:
        value = parameters.get_secret(secret_name, transform="json", max_age=cache_seconds)
        return WebhookSecret.model_validate(value).signing_secrets
    except (GetParameterError, TransformParameterError, ValidationError) as error:
        # The message names the secret, never its value.
        raise ConfigurationError(f"signing secret {secret_name} is missing or malformed") from error


def webhook_source_secret(secret_name: str, scheme: str, cache_seconds: int = DEFAULT_CACHE_SECONDS) -> BaseModel:
    """The source's secret, validated against its scheme's model once per value read (not per request)."""
    try:
        value = parameters.get_secret(secret_name, max_age=cache_seconds)
        return _validated_secret(scheme, value if isinstance(value, str) else value.decode())
    except (GetParameterError, ValidationError) as error:
        # The message names the secret, never its value.
        raise ConfigurationError(f"webhook secret {secret_name} is missing or malformed for {scheme}") from error


@lru_cache(maxsize=64)
def _validated_secret(scheme: str, raw_json: str) -> BaseModel:
    # Keyed by the value: a rotated secret is a new value, validated when first read.
    return scheme_for(scheme).secret_model.model_validate_json(raw_json)


def put_secret(secrets_client: SecretsManagerClient, name: str, secret_string: str) -> str:
    """Create the secret or add a new current version; returns the secret's ARN."""
    try:
        return secrets_client.put_secret_value(SecretId=name, SecretString=secret_string)["ARN"]
    except secrets_client.exceptions.ResourceNotFoundException:
        return secrets_client.create_secret(Name=name, SecretString=secret_string)["ARN"]
