"""A rotated system password takes effect (issue #18, item 4): at once when Tryton refuses the
old one (the secret is re-read and the call retried once), and, once the secret cache expires,
by rebuilding the connector; an unchanged secret keeps the connector and its session warm.

Secrets Manager is moto; Tryton is a scripted JSON-RPC server on httpx.MockTransport that,
like trytond, ends a user's sessions when the password changes and answers 401 to a wrong one."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import secrets
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from aws_lambda_powertools.utilities.parameters import base as powertools_parameters
from moto import mock_aws

from concord.aws import systems as aws_systems
from concord.aws.systems import ConnectorSettings, connectors_for
from concord.connectors.registry import ConnectorContext, Role
from concord.connectors.tryton import TrytonLoginRefused, TrytonRpcClient, connect
from concord.connectors.tryton import connection as tryton_connection

PREFIX = "concord/test/systems"
CACHE_SECONDS = 300


class ScriptedTryton:
    """One database user `concord` whose password can be rotated."""

    def __init__(self, password: str) -> None:
        self.password = password
        self.sessions: set[str] = set()
        self.logins: list[str] = []  # the passwords tried, in order

    def rotate(self, password: str) -> None:
        self.password = password
        self.sessions.clear()  # trytond clears a user's sessions when its password is written

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if body["method"] == "common.db.login":
            tried = body["params"][1]["password"]
            self.logins.append(tried)
            if tried != self.password:
                return httpx.Response(401)
            token = secrets.token_hex(8)
            self.sessions.add(token)
            return _result(body, [1, token])
        session = request.headers.get("Authorization", "").removeprefix("Session ")
        if base64.b64decode(session).decode().rsplit(":", 1)[-1] not in self.sessions:
            return httpx.Response(401)
        if body["method"] == "model.res.user.get_preferences":
            return _result(body, {"company": 1, "language": "en"})
        return _result(body, [{"id": 7}])


def _result(body: dict[str, Any], result: Any) -> httpx.Response:
    return httpx.Response(200, json={"id": body["id"], "result": result})


def _secret(password: str, url: str = "https://erp.example.com") -> dict[str, str]:
    return {"kind": "tryton", "url": url, "database": "erp", "login": "concord", "password": password}


def _parties(connector: Any) -> list[dict[str, Any]]:
    return connector.client.search_read("party.party", [], ["id"])  # type: ignore[no-any-return]


@pytest.fixture
def tryton(monkeypatch: pytest.MonkeyPatch) -> ScriptedTryton:
    """Every Tryton client the connector builds talks to the scripted server."""
    server = ScriptedTryton("first-password")
    transport = httpx.MockTransport(server)
    monkeypatch.setattr(tryton_connection, "TrytonRpcClient", functools.partial(TrytonRpcClient, transport=transport))
    return server


# ------------------------------------------------------------- refused login: re-read, retry once


def test_a_refused_login_rereads_the_secret_and_the_call_is_retried_once(tryton: ScriptedTryton) -> None:
    secret = _secret("first-password")
    reads: list[dict[str, str]] = []

    def reload() -> dict[str, str]:
        reads.append(dict(secret))
        return dict(secret)

    erp = connect(Role.ERP, dict(secret), ConnectorContext(default_legal_entity="us-01", reload_connection=reload))
    assert _parties(erp) == [{"id": 7}]

    tryton.rotate("second-password")
    secret["password"] = "second-password"

    assert _parties(erp) == [{"id": 7}]  # 401, login refused, secret re-read, login, the call again
    assert tryton.logins == ["first-password", "first-password", "second-password"]
    assert len(reads) == 1


def test_credentials_refused_and_unchanged_in_the_secret_fail_after_one_reread(tryton: ScriptedTryton) -> None:
    stale = _secret("first-password")
    reads: list[dict[str, str]] = []

    def reload() -> dict[str, str]:
        reads.append(stale)
        return stale

    erp = connect(Role.ERP, stale, ConnectorContext(default_legal_entity="us-01", reload_connection=reload))
    tryton.rotate("nobody-told-concord")

    with pytest.raises(TrytonLoginRefused):
        _parties(erp)
    assert tryton.logins == ["first-password"]  # no second attempt with the same password
    assert len(reads) == 1


# ------------------------------------------------------------- through Secrets Manager (moto)


class Clock:
    """What Powertools' parameter cache takes for now (it expires entries by datetime.now())."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 1, 1, 9, 0)

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()

    class FakeDatetime(dt.datetime):
        @classmethod
        def now(cls, tz: Any = None) -> dt.datetime:  # type: ignore[override]
            return clock.now

    monkeypatch.setattr(powertools_parameters, "datetime", FakeDatetime)
    return clock


@pytest.fixture
def secretsmanager(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("secretsmanager")
        for role in Role:
            client.create_secret(Name=f"{PREFIX}/{role.value}", SecretString=json.dumps(_secret("first-password")))
        # This test's connectors only: none built by another test, none left for the next one.
        monkeypatch.setattr(aws_systems, "LIVE_CONNECTORS", aws_systems.LiveConnectors())
        yield client


def _rotate(client: Any, role: Role, password: str) -> None:
    client.put_secret_value(SecretId=f"{PREFIX}/{role.value}", SecretString=json.dumps(_secret(password)))


def _settings() -> ConnectorSettings:
    return ConnectorSettings.model_validate({"SYSTEMS_SECRET_PREFIX": PREFIX, "SECRET_CACHE_SECONDS": CACHE_SECONDS})


@pytest.mark.usefixtures("tryton")
def test_an_unchanged_secret_keeps_the_connectors_and_their_session(secretsmanager: Any, clock: Clock) -> None:
    crm, psa, erp = connectors_for(_settings())
    _parties(erp)
    clock.advance(CACHE_SECONDS + 1)  # the cache expires; the secret is read again, unchanged

    again = connectors_for(_settings())
    assert [c.client for c in again] == [c.client for c in (crm, psa, erp)]  # the same connectors
    _parties(erp)
    assert erp.client.login_count == 1


def test_a_rotation_takes_effect_when_the_secret_cache_expires(
    secretsmanager: Any, clock: Clock, tryton: ScriptedTryton
) -> None:
    before = [c.client for c in connectors_for(_settings())]
    _rotate(secretsmanager, Role.ERP, "second-password")

    clock.advance(CACHE_SECONDS - 1)
    # still cached: nothing read, nothing rebuilt
    assert [c.client for c in connectors_for(_settings())] == before

    clock.advance(2)
    crm_now, psa_now, erp_now = connectors_for(_settings())
    assert [crm_now.client, psa_now.client] == before[:2]  # their secrets did not change
    assert erp_now.client is not before[2]
    tryton.rotate("second-password")
    assert _parties(erp_now) == [{"id": 7}]
    assert tryton.logins == ["second-password"]  # the rebuilt connector logs in with the new password


def test_a_refused_login_reads_the_rotated_secret_from_secrets_manager_at_once(
    secretsmanager: Any, clock: Clock, tryton: ScriptedTryton
) -> None:
    _, _, erp = connectors_for(_settings())
    _parties(erp)
    first_client = erp.client
    _rotate(secretsmanager, Role.ERP, "second-password")
    tryton.rotate("second-password")

    assert _parties(erp) == [{"id": 7}]  # long before the cache expires
    assert tryton.logins == ["first-password", "first-password", "second-password"]
    # The fresh read refreshed the cache: the next invocation's connector has the new connection.
    assert connectors_for(_settings())[2].client is not first_client
