"""Unit tests (no server): the RPC client against a scripted Tryton on httpx.MockTransport."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from concord.connectors.tryton import (
    TrytonError,
    TrytonPermanentError,
    TrytonRpcClient,
    TrytonTransientError,
)
from concord.errors import PermanentError, TransientError

PREFERENCES = {
    "company": 1,
    "companies": [1],
    "employee": 7,
    "employees": [7, 8],
    "language": "en",
    "locale": {"date": "%m/%d/%Y"},
}
Handler = Callable[[dict[str, Any]], httpx.Response]


class FakeTryton:
    """Answers login and get_preferences; every other call goes to `handler`."""

    def __init__(self, handler: Handler | None = None) -> None:
        self.handler = handler or (lambda body: _result(body, "ok"))
        self.requests: list[tuple[str, dict[str, Any], str | None]] = []
        self.logins = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.requests.append((request.url.path, body, request.headers.get("Authorization")))
        if body["method"] == "common.db.login":
            self.logins += 1
            return _result(body, [42, f"token{self.logins}", None])
        if body["method"] == "model.res.user.get_preferences":
            return _result(body, PREFERENCES)
        return self.handler(body)

    def client(self) -> TrytonRpcClient:
        return TrytonRpcClient("http://tryton.test", "erp", "admin", "secret", transport=httpx.MockTransport(self))


def _result(body: dict[str, Any], result: Any) -> httpx.Response:
    return httpx.Response(200, json={"id": body["id"], "result": result})


def test_login_sets_session_header_and_filtered_context() -> None:
    tryton = FakeTryton()
    client = tryton.client()

    client.call("model.party.party.search", [])

    path, login, _ = tryton.requests[0]
    assert path == "/erp/rpc/"
    assert login["params"] == ["admin", {"password": "secret"}, "en"]
    _, call, authorization = tryton.requests[-1]
    assert authorization == "Session " + base64.b64encode(b"admin:42:token1").decode()
    # context appended as the last parameter, without `employees` and other preferences,
    # and telling concord_sync not to announce Concord's own changes
    assert call["params"] == [
        [],
        {"company": 1, "companies": [1], "employee": 7, "language": "en", "concord_push": False},
    ]


def test_a_client_acting_as_a_user_announces_its_changes() -> None:
    tryton = FakeTryton()
    user = TrytonRpcClient(
        "http://tryton.test", "erp", "admin", "secret", transport=httpx.MockTransport(tryton), announce_changes=True
    )

    user.call("model.party.party.create", [{"name": "x"}])
    user.call("common.db.list")

    _, create, _ = tryton.requests[-2]
    assert "concord_push" not in create["params"][-1]
    assert tryton.requests[-1][1]["params"] == []  # not a model call: no context at all


def test_call_context_overrides_are_merged() -> None:
    tryton = FakeTryton()

    tryton.client().call("model.party.party.search", [], context={"active_test": False})

    assert tryton.requests[-1][1]["params"][-1]["active_test"] is False


def test_expired_session_is_renewed_once() -> None:
    answers = iter([httpx.Response(401), None])
    tryton = FakeTryton(lambda body: next(answers) or _result(body, [1]))
    client = tryton.client()

    assert client.call("model.party.party.search", []) == [1]
    assert client.login_count == 2
    assert tryton.requests[-1][2] == "Session " + base64.b64encode(b"admin:42:token2").decode()


def test_unauthorized_with_fresh_session_is_permanent() -> None:
    tryton = FakeTryton(lambda body: httpx.Response(401))

    with pytest.raises(TrytonPermanentError, match="fresh session"):
        tryton.client().call("model.party.party.search", [])
    assert tryton.logins == 2


def test_wrong_credentials_are_permanent() -> None:
    client = TrytonRpcClient(
        "http://tryton.test", "erp", "admin", "bad", transport=httpx.MockTransport(lambda r: httpx.Response(401))
    )

    with pytest.raises(TrytonPermanentError, match="wrong credentials"):
        client.login()


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429, 408])
def test_server_and_throttling_statuses_are_transient(status: int) -> None:
    tryton = FakeTryton(lambda body: httpx.Response(status))

    with pytest.raises(TrytonTransientError) as caught:
        tryton.client().call("model.party.party.search", [])
    assert caught.value.status_code == status


@pytest.mark.parametrize("status", [400, 403, 404])
def test_client_statuses_are_permanent(status: int) -> None:
    tryton = FakeTryton(lambda body: httpx.Response(status))

    with pytest.raises(TrytonPermanentError):
        tryton.client().call("model.party.party.search", [])


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("cut"),
    ],
)
def test_transport_failures_are_transient(failure: httpx.TransportError) -> None:
    def fail(body: dict[str, Any]) -> httpx.Response:
        raise failure

    with pytest.raises(TrytonTransientError):
        FakeTryton(fail).client().call("model.party.party.search", [])


def test_mangled_answer_is_transient() -> None:
    tryton = FakeTryton(lambda body: httpx.Response(200, content=b"<html>proxy error"))

    with pytest.raises(TrytonTransientError, match="not JSON"):
        tryton.client().call("model.party.party.search", [])


def test_user_error_carries_tryton_message() -> None:
    error = ["UserError", ["The invoice has no lines.", "Add a line first.", None]]
    tryton = FakeTryton(lambda body: httpx.Response(200, json={"id": body["id"], "error": error}))

    with pytest.raises(TrytonPermanentError) as caught:
        tryton.client().button("account.invoice", "post", [5])

    assert caught.value.kind == "UserError"
    assert "The invoice has no lines. (Add a line first.)" in str(caught.value)
    assert caught.value.method == "model.account.invoice.post"


def test_errors_fit_concord_retry_classes() -> None:
    assert issubclass(TrytonTransientError, TrytonError)
    assert issubclass(TrytonTransientError, TransientError)
    assert issubclass(TrytonPermanentError, TrytonError)
    assert issubclass(TrytonPermanentError, PermanentError)


def test_convenience_methods_send_tryton_signatures() -> None:
    tryton = FakeTryton()
    client = tryton.client()

    client.search_read("party.party", [["name", "=", "X"]], ["name"], order=[("name", "ASC")], limit=5)
    client.create("party.party", [{"name": "X"}])
    client.write("party.party", [3], {"name": "Y"})

    sent = [(body["method"], body["params"][:-1]) for _, body, _ in tryton.requests[2:]]
    assert sent == [
        ("model.party.party.search_read", [[["name", "=", "X"]], 0, 5, [["name", "ASC"]], ["name"]]),
        ("model.party.party.create", [[{"name": "X"}]]),
        ("model.party.party.write", [[3], {"name": "Y"}]),
    ]


def test_a_session_whose_preferences_failed_is_not_kept() -> None:
    # Given Tryton answers the login but fails reading the preferences once (a fault)
    failures = iter([httpx.Response(503)])

    class Flaky(FakeTryton):
        def __call__(self, request: httpx.Request) -> httpx.Response:
            body = json.loads(request.content)
            if body["method"] == "model.res.user.get_preferences":
                failure = next(failures, None)
                if failure is not None:
                    return failure
            return super().__call__(request)

    tryton = Flaky()
    client = tryton.client()
    with pytest.raises(TrytonTransientError):
        client.call("model.party.party.search", [])

    # When the caller retries, the client logs in again and writes with the user's context
    client.call("model.party.party.create", [{"name": "x"}])

    _, create, _ = tryton.requests[-1]
    assert create["params"][-1]["company"] == PREFERENCES["company"]
    assert tryton.logins == 2
