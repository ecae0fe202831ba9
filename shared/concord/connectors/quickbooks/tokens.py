"""QuickBooks Online OAuth 2.0 with rotating refresh tokens, shared by every concurrent Lambda.

Intuit offers the authorization code grant only: an install yields a refresh token, each refresh
answers a new one and the one spent stops working, and an access token lives an hour.
https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/faq

Two processes spending the same refresh token would leave one of them (and, if it wrote last, the
connection) holding a dead token. So one writer refreshes at a time, under a lock that is a
DynamoDB conditional write on the rate-budget table (item `lock#quickbooks#<realm>`, taken only
when absent or expired, released by its owner): a lock item rather than a Secrets Manager
version-stage check because the check-then-refresh-then-write must be exclusive for the whole
token call, which a stage compare at write time cannot give (both would have spent the token by
then). Under the lock the writer re-reads the connection secret (another may have refreshed
while it waited), refreshes with the latest refresh token and writes the new refresh token and
the access token back to the secret; the others re-read the secret and use that access token.
"""

from __future__ import annotations

import base64
import threading
import time
import uuid
from collections.abc import Callable, Generator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

import httpx
from botocore.exceptions import ClientError
from pydantic import SecretStr

from concord.errors import TransientError
from concord.observability import logger

from ..kit.errors import AuthFailed, ErrorMapper

# https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/oauth-2.0
TOKEN_URL = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"


@dataclass(frozen=True)
class AccessToken:
    value: SecretStr
    expires_at: float


class ConnectionVault(Protocol):
    """Where the connection secret (and so the latest tokens) lives."""

    def load(self) -> dict[str, Any]: ...

    def save(self, connection: dict[str, Any]) -> None: ...


class RefreshLock(Protocol):
    def acquire(self, owner: str, ttl: float) -> bool: ...

    def release(self, owner: str) -> None: ...


class InMemoryVault:
    """The connection kept in this process (tests, or a connection without a secret name)."""

    def __init__(self, connection: dict[str, Any]) -> None:
        self._connection = dict(connection)
        self._lock = threading.Lock()

    def load(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._connection)

    def save(self, connection: dict[str, Any]) -> None:
        with self._lock:
            self._connection = dict(connection)


class SecretsManagerVault:
    """The role's connection secret: read afresh, written as a new version."""

    def __init__(self, secret_name: str, reload: Callable[[], dict[str, Any]], client: Any) -> None:
        self._secret_name, self._reload, self._client = secret_name, reload, client

    def load(self) -> dict[str, Any]:
        return self._reload()

    def save(self, connection: dict[str, Any]) -> None:
        import json

        self._client.put_secret_value(SecretId=self._secret_name, SecretString=json.dumps(connection))


class InMemoryRefreshLock:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._owner: tuple[str, float] | None = None
        self._lock, self._clock = threading.Lock(), clock

    def acquire(self, owner: str, ttl: float) -> bool:
        with self._lock:
            if self._owner is not None and self._owner[1] > self._clock():
                return False
            self._owner = (owner, self._clock() + ttl)
            return True

    def release(self, owner: str) -> None:
        with self._lock:
            if self._owner is not None and self._owner[0] == owner:
                self._owner = None


class DynamoDbRefreshLock:
    """One item per realm on the rate-budget table (string key `key`), written only when absent
    or expired; a crashed holder's lock frees itself after `ttl`."""

    def __init__(self, table: Any, key: str, clock: Callable[[], float] = time.time) -> None:
        self._table, self._key, self._clock = table, key, clock

    def acquire(self, owner: str, ttl: float) -> bool:
        now = self._clock()
        try:
            self._table.put_item(
                Item={"key": self._key, "owner": owner, "expires_at": Decimal(str(round(now + ttl, 3)))},
                ConditionExpression="attribute_not_exists(#k) OR expires_at < :now",
                ExpressionAttributeNames={"#k": "key"},
                ExpressionAttributeValues={":now": Decimal(str(round(now, 3)))},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def release(self, owner: str) -> None:
        try:
            self._table.delete_item(
                Key={"key": self._key},
                ConditionExpression="#o = :owner",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":owner": owner},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise


class RotatingRefreshToken(httpx.Auth):
    """httpx auth for one realm: a shared access token, refreshed by one writer at a time."""

    requires_response_body = True

    def __init__(
        self,
        *,
        token_url: str,
        vault: ConnectionVault,
        lock: RefreshLock,
        errors: ErrorMapper,
        refresh_margin: float = 300,
        lock_ttl: float = 30,
        max_wait: float = 10,
        poll_seconds: float = 0.2,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.token_url, self._vault, self._lock, self._errors = token_url, vault, lock, errors
        self._margin, self._ttl, self._max_wait, self._poll = refresh_margin, lock_ttl, max_wait, poll_seconds
        self._clock, self._sleep = clock, sleep
        self._token: AccessToken | None = None
        self._process_lock = threading.Lock()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        token = self._token
        if token is None or not self._usable(token):
            token = yield from self._renew(stale=token)
        response = yield self._authorised(request, token)
        if response.status_code == 401:  # revoked early: one fresh token, one retry
            token = yield from self._renew(stale=token)
            yield self._authorised(request, token)

    def _usable(self, token: AccessToken) -> bool:
        return self._clock() < token.expires_at - self._margin

    @staticmethod
    def _authorised(request: httpx.Request, token: AccessToken) -> httpx.Request:
        request.headers["Authorization"] = f"Bearer {token.value.get_secret_value()}"
        return request

    def _shared(self, connection: dict[str, Any], stale: AccessToken | None) -> AccessToken | None:
        """The access token another process stored, if it is usable and not the one that failed."""
        value, expires_at = connection.get("access_token"), float(connection.get("access_token_expires_at") or 0)
        if not value or (stale is not None and value == stale.value.get_secret_value()):
            return None
        token = AccessToken(SecretStr(str(value)), expires_at)
        return token if self._usable(token) else None

    def _renew(self, *, stale: AccessToken | None) -> Generator[httpx.Request, httpx.Response, AccessToken]:
        with self._process_lock:
            if self._token is not None and self._token is not stale and self._usable(self._token):
                return self._token
            deadline = self._clock() + self._max_wait
            while True:
                shared = self._shared(self._vault.load(), stale)
                if shared is not None:
                    self._token = shared
                    return shared
                owner = uuid.uuid4().hex
                if self._lock.acquire(owner, self._ttl):
                    try:
                        self._token = yield from self._refresh_as_writer(stale)
                        return self._token
                    finally:
                        self._lock.release(owner)
                if self._clock() >= deadline:
                    raise TransientError("quickbooks token: another process holds the refresh lock; retry later")
                self._sleep(self._poll)

    def _refresh_as_writer(self, stale: AccessToken | None) -> Generator[httpx.Request, httpx.Response, AccessToken]:
        connection = self._vault.load()  # under the lock: the latest refresh token
        shared = self._shared(connection, stale)
        if shared is not None:
            return shared
        response = yield self._token_request(connection)
        if response.status_code in (400, 401) and _oauth_error(response) in ("invalid_grant", "invalid_client"):
            raise AuthFailed(f"quickbooks token: refresh refused ({_oauth_error(response)}); reconnect the app")
        error = self._errors.error_for_response("token", response)
        if error is not None:
            raise error
        body = response.json()
        token = AccessToken(SecretStr(body["access_token"]), self._clock() + float(body.get("expires_in") or 3600))
        rotated = {
            **connection,
            "refresh_token": body.get("refresh_token") or connection["refresh_token"],
            "access_token": body["access_token"],
            "access_token_expires_at": token.expires_at,
        }
        self._vault.save(rotated)
        logger.info("quickbooks token refreshed", extra={"realm": connection.get("realm_id")})
        return token

    def _token_request(self, connection: dict[str, Any]) -> httpx.Request:
        pair = f"{connection['client_id']}:{connection['client_secret']}".encode()
        return httpx.Request(
            "POST",
            self.token_url,
            data={"grant_type": "refresh_token", "refresh_token": str(connection["refresh_token"])},
            headers={"Accept": "application/json", "Authorization": f"Basic {base64.b64encode(pair).decode()}"},
        )


def _oauth_error(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("error") if isinstance(body, dict) else None
