"""The fault-injecting proxy (concord.local.faults) over real loopback sockets.

Upstream is a small scripted JSON-RPC server in this process (no Tryton needed): it answers
login and preferences like Tryton and echoes every other request, so pass-through can be
checked byte for byte. The proxy in front of the real Tryton server is tested in
test_tryton_faults.py.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from concord.connectors.tryton import TrytonRpcClient, TrytonTransientError
from concord.errors import TransientError
from concord.local.faults import FaultController, FaultMode, FaultProxy


class _Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # as Tryton's single-threaded server

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        echo = {
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode(),
        }
        payload: Any = echo
        if self.path.endswith("/rpc/") and body:
            request = json.loads(body)
            result: Any = {"login": [1, "token"], "prefs": {"company": 1}}.get(
                {"common.db.login": "login", "model.res.user.get_preferences": "prefs"}.get(request["method"], ""), echo
            )
            payload = {"id": request["id"], "result": result}
        data = json.dumps(payload).encode()
        self.send_response(201 if self.command == "PUT" else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Upstream", "yes")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxy(upstream: str) -> Iterator[FaultProxy]:
    with FaultProxy(upstream, seed=7) as running:
        yield running


@pytest.fixture
def faults(proxy: FaultProxy) -> Iterator[FaultController]:
    with FaultController(proxy.url) as controller:
        yield controller


def _rpc(proxy: FaultProxy, database: str = "erp", timeout: float = 5.0) -> TrytonRpcClient:
    return TrytonRpcClient(proxy.url, database, "admin", "secret", timeout=timeout)


def test_pass_through_keeps_method_path_query_headers_and_body(proxy: FaultProxy) -> None:
    with httpx.Client(base_url=proxy.url) as client:
        response = client.put(
            "/erp/some/path?x=1&y=two",
            content=b"hello",
            headers={
                "X-Custom": "kept",
                "Connection": "keep-alive, X-Drop",
                "X-Drop": "hop-by-hop by name",
                "Keep-Alive": "5",
            },
        )

    assert response.status_code == 201
    assert response.headers["x-upstream"] == "yes"
    echo = response.json()
    assert (echo["method"], echo["path"], echo["body"]) == ("PUT", "/erp/some/path?x=1&y=two", "hello")
    assert echo["headers"]["x-custom"] == "kept"
    assert "x-drop" not in echo["headers"] and "keep-alive" not in echo["headers"]
    assert echo["headers"]["content-length"] == "5"


def test_rpc_client_works_through_the_proxy(proxy: FaultProxy, faults: FaultController) -> None:
    client = _rpc(proxy)

    echo = client.call("model.party.party.search", [])

    assert echo["path"] == "/erp/rpc/"
    assert faults.list().forwarded == {"erp": 3}  # login, preferences, the call


@pytest.mark.parametrize(
    ("mode", "options"),
    [
        (FaultMode.OUTAGE, {}),
        (FaultMode.RESET, {}),
        (FaultMode.ERROR, {"status": 503}),
        (FaultMode.ERROR, {"status": 500}),
        (FaultMode.THROTTLE, {"retry_after": 7}),
        (FaultMode.LATENCY, {"latency_ms": 1500}),
    ],
)
def test_each_mode_is_a_transient_error_for_the_rpc_client(
    proxy: FaultProxy, faults: FaultController, mode: FaultMode, options: dict[str, Any]
) -> None:
    # Given a logged-in client (timeout 0.5 s) and a fault on its database
    client = _rpc(proxy, timeout=0.5)
    client.login()
    faults.set("erp", mode, **options)

    # When it calls, Then the client sees a transient error (a retry may succeed)
    with pytest.raises(TrytonTransientError) as caught:
        client.call("model.party.party.search", [])
    assert isinstance(caught.value, TransientError)

    # And clearing the fault restores pass-through
    faults.clear("erp")
    time.sleep(1.2 if mode is FaultMode.LATENCY else 0)  # let the delayed request finish
    assert client.call("model.party.party.search", [])["path"] == "/erp/rpc/"
    assert faults.list().injected["erp"] == {mode: 1}


def test_throttle_sends_retry_after(proxy: FaultProxy, faults: FaultController) -> None:
    faults.set("erp", "throttle", retry_after=7)

    response = httpx.get(f"{proxy.url}/erp/rpc/")

    assert (response.status_code, response.headers["retry-after"]) == (429, "7")


def test_faults_are_per_target(proxy: FaultProxy, faults: FaultController) -> None:
    faults.set("erp", "error", status=503)

    assert httpx.get(f"{proxy.url}/crm/x").status_code == 200
    assert httpx.get(f"{proxy.url}/erp/x").status_code == 503


def test_remaining_clears_the_fault_after_that_many(proxy: FaultProxy, faults: FaultController) -> None:
    faults.set("erp", "error", status=502, remaining=2)
    assert faults.list().faults["erp"].remaining == 2

    statuses = [httpx.get(f"{proxy.url}/erp/x").status_code for _ in range(4)]

    assert statuses == [502, 502, 200, 200]
    report = faults.list()
    assert "erp" not in report.faults
    assert report.injected == {"erp": {FaultMode.ERROR: 2}}


def test_probability_injects_a_share_of_requests(proxy: FaultProxy, faults: FaultController) -> None:
    faults.set("erp", "error", probability=0.3)

    with httpx.Client(base_url=proxy.url) as client:
        statuses = [client.get("/erp/x").status_code for _ in range(200)]

    failed = statuses.count(503)
    assert 30 <= failed <= 90  # 60 expected; seeded, so stable
    assert faults.list().injected["erp"][FaultMode.ERROR] == failed
    assert faults.list().forwarded["erp"] == 200 - failed


def test_probability_zero_never_injects(proxy: FaultProxy, faults: FaultController) -> None:
    faults.set("erp", "outage", probability=0.0)

    assert all(httpx.get(f"{proxy.url}/erp/x").status_code == 200 for _ in range(20))


def test_control_api_lists_validates_and_clears_all(proxy: FaultProxy, faults: FaultController) -> None:
    faults.set("erp", "latency", latency_ms=10)
    faults.set("psa", "throttle", retry_after=3, probability=0.5)

    report = faults.list()
    assert report.faults["erp"].mode is FaultMode.LATENCY
    assert (report.faults["psa"].retry_after, report.faults["psa"].probability) == (3, 0.5)

    bad = httpx.put(f"{proxy.url}/_faults/erp", json={"mode": "meteor"})
    assert bad.status_code == 400
    bad = httpx.put(f"{proxy.url}/_faults/erp", json={"mode": "error", "probability": 2})
    assert bad.status_code == 400
    assert httpx.post(f"{proxy.url}/_faults/erp").status_code == 405

    faults.clear()
    assert faults.list().faults == {}


def test_unreachable_upstream_is_502(unused_port: int) -> None:
    with FaultProxy(f"http://127.0.0.1:{unused_port}") as dead:
        client = TrytonRpcClient(dead.url, "erp", "admin", "secret", timeout=2.0)

        with pytest.raises(TrytonTransientError) as caught:
            client.login()

    assert caught.value.status_code == 502


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
