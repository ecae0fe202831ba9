"""The Xero connector over the OAuth2 shape against the sandbox's identity server, which rotates
refresh tokens and refuses a spent one: Lambdas that share the connection secret and the
rate-budget table (moto) refresh once, write the rotated token back, and a later refresh uses it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from concord.connectors import xero
from concord.connectors.registry import ConnectorContext, Role
from concord.connectors.xero import XeroErp
from concord.domain import Customer
from concord.errors import ConfigurationError
from concord.local.sandboxes.kit import SandboxServer
from concord.local.sandboxes.xero import FIRST_REFRESH_TOKEN, OAUTH_APP, XeroSandbox, XeroTenant
from tests.unit.connectors.business_central.spec import Recorder

from .sandbox_systems import FAST, TENANT, connection

SECRET = "concord/test/erp"
TABLE = "budget"


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with (
        mock_aws(),
        SandboxServer(XeroSandbox(per_minute=FAST["per_minute"], per_day=FAST["per_day"]), [TENANT]) as run,
    ):
        boto3.resource("dynamodb").create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        assert OAUTH_APP.client_secret is not None
        oauth2 = connection(
            run.url,
            auth="oauth2",
            client_id=OAUTH_APP.client_id,
            client_secret=OAUTH_APP.client_secret.get_secret_value(),
            refresh_token=FIRST_REFRESH_TOKEN,
        )
        boto3.client("secretsmanager").create_secret(Name=SECRET, SecretString=json.dumps(oauth2))
        yield run


def _stored() -> dict[str, Any]:
    return dict(json.loads(boto3.client("secretsmanager").get_secret_value(SecretId=SECRET)["SecretString"]))


def _lambda(cached: dict[str, Any]) -> tuple[XeroErp, Recorder]:
    """One function's ERP connector, built from the connection as its secret cache holds it."""
    context = ConnectorContext(
        default_legal_entity="concord-us", reload_connection=_stored, rate_budget_table=TABLE, secret_name=SECRET
    )
    recorder = Recorder()
    return xero.connect(Role.ERP, cached, context, transport=recorder), recorder


def _token_calls(recorder: Recorder) -> list[int]:
    return [answer.status_code for request, answer in recorder.exchanges if request.url.path.endswith("/connect/token")]


def test_lambdas_share_one_refresh_and_a_later_refresh_uses_the_rotated_token(server: SandboxServer) -> None:
    tenant = server.tenant(TENANT)
    assert isinstance(tenant, XeroTenant)
    first_cache = _stored()
    first, first_calls = _lambda(first_cache)
    created = first.upsert_customer(Customer(account_id="o", name="OAuth Client", legal_entity="us-01"), "c:o", None)
    second, second_calls = _lambda(first_cache)  # its cache still holds the spent refresh token
    read_by_second = second.get_customer(created.customer_id)
    tenant.tokens.revoke_all()  # every access token dies (Xero revoked the session, say)
    third, third_calls = _lambda(first_cache)
    read_by_third = third.get_customer(created.customer_id)

    assert read_by_second.name == read_by_third.name == "OAuth Client"
    assert (_token_calls(first_calls), _token_calls(second_calls)) == ([200], [])  # the second used the stored token
    assert _token_calls(third_calls) == [200]  # a 401, then a refresh with the rotated token, not the spent one
    (alive,) = tenant.refresh_tokens.alive
    assert alive == _stored()["refresh_token"] != FIRST_REFRESH_TOKEN
    for erp in (first, second, third):
        erp.client.close()


def test_a_dead_refresh_token_is_a_configuration_error_naming_the_remedy(server: SandboxServer) -> None:
    tenant = server.tenant(TENANT)
    assert isinstance(tenant, XeroTenant)
    tenant.refresh_tokens.alive.clear()  # unused for 60 days, or the app was disconnected
    erp, _ = _lambda(_stored())

    with pytest.raises(ConfigurationError, match="re-authorise"):
        erp.get_customer("00000000-0000-0000-0000-000000000001")
    erp.client.close()
