"""Xero's OAuth2 shape: a refresh token that rotates on every refresh, shared by concurrent
processes through the connection secret and a lock item on the rate-budget table (moto), the
30-minute access token cached, and a refused refresh token explained to the operator.
https://developer.xero.com/documentation/guides/oauth2/auth-flow/ (Refreshing access tokens)
https://developer.xero.com/faq/oauth2 (refresh tokens expire after 60 days unused)"""

from __future__ import annotations

import base64
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

from concord.connectors.kit import rotation
from concord.connectors.kit.rotation import InMemoryRefreshLock, InMemoryVault, RotatingRefreshToken, shared_rotation
from concord.connectors.registry import ConnectorContext
from concord.connectors.xero.connection import REFRESH_MARGIN, open_client, parse_connection
from concord.connectors.xero.tokens import token_endpoint
from concord.errors import ConfigurationError

SECRET = "concord/test/erp"
TABLE = "budget"
TENANT = "2f8f6c4e-4a5e-4d7b-9e0f-7c3b1a9d5e21"
TOKEN_URL = "https://identity.test/connect/token"
API = "https://api.test/api.xro/2.0/Contacts"
CONNECTION = {
    "kind": "xero",
    "auth": "oauth2",
    "tenant_id": TENANT,
    "client_id": "app",
    "client_secret": "s",
    "refresh_token": "refresh-0",
    "api_url": "https://api.test/api.xro/2.0",
    "token_url": TOKEN_URL,
}


class XeroIdentity:
    """A token endpoint that rotates: each refresh answers a new refresh token and a 30-minute
    access token; a spent refresh token is refused (invalid_grant)."""

    def __init__(self, first: str, hold: threading.Event | None = None) -> None:
        self.valid = {first}
        self.spent: Counter[str] = Counter()
        self.access: set[str] = set()
        self.hold = hold
        self._lock = threading.Lock()
        self._n = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "identity.test":
            if self.hold is not None:
                self.hold.wait(timeout=30)  # keep the writer inside its refresh while the other tries
            return self._refresh(request)
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        return httpx.Response(200 if bearer in self.access else 401, json={"Contacts": []})

    def _refresh(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"app:s").decode()
        form = parse_qs(request.content.decode())
        assert form["grant_type"] == ["refresh_token"]
        token = form["refresh_token"][0]
        with self._lock:
            self.spent[token] += 1
            if token not in self.valid:
                return httpx.Response(400, json={"error": "invalid_grant"})
            self.valid.discard(token)
            self._n += 1
            rotated, access = f"refresh-{self._n}", f"access-{self._n}"
            self.valid.add(rotated)
            self.access.add(access)
        body = {"access_token": access, "refresh_token": rotated, "expires_in": 1800, "token_type": "Bearer"}
        return httpx.Response(200, json=body)


@pytest.fixture
def aws() -> Iterator[tuple[Any, Any]]:
    with mock_aws():
        table = boto3.resource("dynamodb").create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        secrets = boto3.client("secretsmanager")
        secrets.create_secret(Name=SECRET, SecretString=json.dumps(CONNECTION))
        yield table, secrets


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _stored(secrets: Any) -> dict[str, Any]:
    return dict(json.loads(secrets.get_secret_value(SecretId=SECRET)["SecretString"]))


def _process(secrets: Any, identity: XeroIdentity) -> httpx.Client:
    """One Lambda's token handling, wired as the connector wires it: the connection as its cache
    read it, the secret and the rate-budget table every process shares."""
    context = ConnectorContext(
        default_legal_entity="us-01",
        reload_connection=lambda: _stored(secrets),
        rate_budget_table=TABLE,
        secret_name=SECRET,
    )
    vault, lock = shared_rotation("xero", TENANT, _stored(secrets), context)
    auth = RotatingRefreshToken(
        endpoint=token_endpoint(TOKEN_URL), vault=vault, lock=lock, poll_seconds=0.01, max_wait=60
    )
    return httpx.Client(transport=httpx.MockTransport(identity), auth=auth)


def test_two_concurrent_refreshers_spend_the_refresh_token_once(
    aws: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    table, secrets = aws
    refused, reread, release = threading.Event(), threading.Event(), threading.Event()
    identity = XeroIdentity("refresh-0", hold=release)
    lock_keys: list[str] = []
    acquire, load = rotation.DynamoDbRefreshLock.acquire, rotation.SecretsManagerVault.load

    def noting_acquire(lock: rotation.DynamoDbRefreshLock, owner: str, ttl: float) -> bool:
        taken = acquire(lock, owner, ttl)
        lock_keys.append(lock._key)
        if not taken:
            refused.set()
        return taken

    def noting_load(vault: rotation.SecretsManagerVault) -> dict[str, Any]:
        connection = load(vault)
        if refused.is_set():
            reread.set()  # read while the writer's refresh is still unanswered: no new token in it
        return connection

    monkeypatch.setattr(rotation.DynamoDbRefreshLock, "acquire", noting_acquire)
    monkeypatch.setattr(rotation.SecretsManagerVault, "load", noting_load)
    statuses: list[int] = []
    clients = [_process(secrets, identity) for _ in range(2)]

    def run(client: httpx.Client) -> None:
        statuses.append(client.get(API).status_code)

    threads = [threading.Thread(target=run, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    # The second process found the lock taken and read the secret again before the writer's
    # refresh answered: whatever it does next, it must not spend refresh-0 itself.
    reread.wait(timeout=30)
    release.set()
    for thread in threads:
        thread.join()

    assert reread.is_set() and statuses == [200, 200]
    assert identity.spent == Counter({"refresh-0": 1})  # one refresh in all: the other used the stored token
    stored = _stored(secrets)
    assert (stored["refresh_token"], stored["access_token"]) == ("refresh-1", "access-1")
    assert parse_connection(stored).auth == "oauth2"  # what was written back is still a valid connection
    assert set(lock_keys) == {f"lock#xero#{TENANT}"}
    assert table.get_item(Key={"key": f"lock#xero#{TENANT}"}).get("Item") is None  # released


def test_a_later_process_refreshes_with_the_rotated_token_the_secret_holds(aws: tuple[Any, Any]) -> None:
    _, secrets = aws
    identity = XeroIdentity("refresh-0")
    assert _process(secrets, identity).get(API).status_code == 200
    identity.access.clear()  # every access token revoked (the app was reconnected, say)

    assert _process(secrets, identity).get(API).status_code == 200  # 401: refreshes with refresh-1

    assert identity.spent == Counter({"refresh-0": 1, "refresh-1": 1})
    assert _stored(secrets)["refresh_token"] == "refresh-2"


def test_the_access_token_serves_its_30_minutes_then_the_rotated_token_refreshes() -> None:
    clock, identity = Clock(), XeroIdentity("refresh-0")
    vault = InMemoryVault(CONNECTION)
    auth = RotatingRefreshToken(
        endpoint=token_endpoint(TOKEN_URL),
        vault=vault,
        lock=InMemoryRefreshLock(clock),
        refresh_margin=REFRESH_MARGIN,
        clock=clock,
        sleep=clock.sleep,
    )
    with httpx.Client(transport=httpx.MockTransport(identity), auth=auth) as http:
        http.get(API)
        clock.now += 28 * 60
        http.get(API)
        assert identity.spent == Counter({"refresh-0": 1})  # the first access token still served
        clock.now += 90  # 29.5 minutes in: inside the last minute, renewed
        http.get(API)

    assert identity.spent == Counter({"refresh-0": 1, "refresh-1": 1})
    assert vault.load()["refresh_token"] == "refresh-2"
    assert vault.load()["access_token_expires_at"] == clock.now + 1800


def test_a_refused_refresh_token_tells_the_operator_to_re_authorise() -> None:
    identity = XeroIdentity("a-token-of-another-consent")
    context = ConnectorContext(default_legal_entity="us-01", reload_connection=lambda: dict(CONNECTION))
    client = open_client(dict(CONNECTION), context, transport=httpx.MockTransport(identity))

    with pytest.raises(ConfigurationError) as refused:
        client.get("read contacts", "Contacts")

    message = str(refused.value)
    assert "invalid_grant" in message and "re-authorise" in message and "60 days" in message
    assert "refresh-0" not in message


def test_the_oauth2_shape_needs_its_refresh_token_and_a_custom_connection_has_none() -> None:
    without = {key: value for key, value in CONNECTION.items() if key != "refresh_token"}
    custom = {**CONNECTION, "auth": "custom_connection"}

    with pytest.raises(ConfigurationError, match="refresh_token"):
        parse_connection(without)
    with pytest.raises(ConfigurationError, match="refresh_token"):
        parse_connection(custom)
    assert parse_connection({key: value for key, value in custom.items() if key != "refresh_token"}).auth == (
        "custom_connection"
    )
