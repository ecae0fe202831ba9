"""Rotating refresh tokens shared by concurrent processes (moto: DynamoDB lock item, Secrets
Manager connection): two refreshers never both spend the same refresh token, the writer stores
the new one in the secret, and the other uses the access token the writer stored."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import boto3
import httpx
import pytest
from moto import mock_aws

from concord.connectors.kit.rotation import DynamoDbRefreshLock, RotatingRefreshToken, SecretsManagerVault
from concord.connectors.quickbooks.tokens import token_endpoint
from concord.errors import ConfigurationError

SECRET = "concord/test/erp"
API = "https://quickbooks.test/v3/company/1/companyinfo/1"
TOKEN_URL = "https://oauth.test/oauth2/v1/tokens/bearer"


class IntuitTokens:
    """A token endpoint that rotates: a spent refresh token is refused (invalid_grant)."""

    def __init__(self, first: str, hold: threading.Event | None = None) -> None:
        self.valid = {first}
        self.spent: Counter[str] = Counter()
        self.access: set[str] = set()
        self.hold = hold
        self._lock = threading.Lock()
        self._n = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "oauth.test":
            if self.hold is not None:
                self.hold.wait(timeout=30)  # keep the writer inside its refresh while the other tries
            token = parse_qs(request.content.decode())["refresh_token"][0]
            with self._lock:
                self.spent[token] += 1
                if token not in self.valid:
                    return httpx.Response(400, json={"error": "invalid_grant"})
                self.valid.discard(token)
                self._n += 1
                rotated, access = f"refresh-{self._n}", f"access-{self._n}"
                self.valid.add(rotated)
                self.access.add(access)
            return httpx.Response(200, json={"access_token": access, "refresh_token": rotated, "expires_in": 3600})
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        return httpx.Response(200 if bearer in self.access else 401, json={})


class CountingLock(DynamoDbRefreshLock):
    def __init__(self, *args: Any, refused: threading.Event, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.refused = refused

    def acquire(self, owner: str, ttl: float) -> bool:
        taken = super().acquire(owner, ttl)
        if not taken:
            self.refused.set()
        return taken


@pytest.fixture
def aws() -> Iterator[tuple[Any, Any]]:
    with mock_aws():
        dynamodb = boto3.resource("dynamodb")
        table = dynamodb.create_table(
            TableName="budget",
            KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        secrets = boto3.client("secretsmanager")
        connection = {
            "kind": "quickbooks",
            "realm_id": "1",
            "client_id": "app",
            "client_secret": "s",
            "refresh_token": "refresh-0",
        }
        secrets.create_secret(Name=SECRET, SecretString=json.dumps(connection))
        yield table, secrets


def _auth(table: Any, secrets: Any, lock: DynamoDbRefreshLock | None = None) -> RotatingRefreshToken:
    def reload() -> dict[str, Any]:
        return dict(json.loads(secrets.get_secret_value(SecretId=SECRET)["SecretString"]))

    return RotatingRefreshToken(
        endpoint=token_endpoint(TOKEN_URL),
        vault=SecretsManagerVault(SECRET, reload, secrets),
        lock=lock or DynamoDbRefreshLock(table, "lock#quickbooks#1"),
        poll_seconds=0.01,
        max_wait=60,  # a waiting process gives up after this: far beyond any stall of a loaded machine
    )


def _stored(secrets: Any) -> dict[str, Any]:
    return dict(json.loads(secrets.get_secret_value(SecretId=SECRET)["SecretString"]))


def test_two_concurrent_refreshers_spend_the_refresh_token_once(aws: tuple[Any, Any]) -> None:
    table, secrets = aws
    refused, release = threading.Event(), threading.Event()
    intuit = IntuitTokens("refresh-0", hold=release)
    statuses: list[int] = []

    def process() -> None:
        lock = CountingLock(table, "lock#quickbooks#1", refused=refused)
        with httpx.Client(transport=httpx.MockTransport(intuit), auth=_auth(table, secrets, lock)) as http:
            statuses.append(http.get(API).status_code)

    threads = [threading.Thread(target=process) for _ in range(2)]
    for thread in threads:
        thread.start()
    refused.wait(timeout=30)  # the second process found the lock taken...
    release.set()  # ...before the writer's refresh answered
    for thread in threads:
        thread.join()

    assert refused.is_set() and statuses == [200, 200]
    assert intuit.spent == Counter({"refresh-0": 1})  # one refresh in all: the other used the stored token
    assert _stored(secrets)["refresh_token"] == "refresh-1" and _stored(secrets)["access_token"] == "access-1"
    assert table.get_item(Key={"key": "lock#quickbooks#1"}).get("Item") is None  # released


def test_a_process_with_a_revoked_token_refreshes_with_the_latest_refresh_token(aws: tuple[Any, Any]) -> None:
    table, secrets = aws
    intuit = IntuitTokens("refresh-0")
    first, second = _auth(table, secrets), _auth(table, secrets)
    with httpx.Client(transport=httpx.MockTransport(intuit), auth=first) as http:
        assert http.get(API).status_code == 200
    intuit.access.clear()  # every access token revoked
    with httpx.Client(transport=httpx.MockTransport(intuit), auth=second) as http:
        assert http.get(API).status_code == 200  # stored token refused (401): refreshed with refresh-1

    assert intuit.spent == Counter({"refresh-0": 1, "refresh-1": 1})
    assert _stored(secrets)["refresh_token"] == "refresh-2"


def test_a_refused_refresh_token_is_a_configuration_error(aws: tuple[Any, Any]) -> None:
    table, secrets = aws
    intuit = IntuitTokens("some-other-install")
    with (
        httpx.Client(transport=httpx.MockTransport(intuit), auth=_auth(table, secrets)) as http,
        pytest.raises(ConfigurationError),
    ):
        http.get(API)
