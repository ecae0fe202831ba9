from __future__ import annotations

import json

import httpx
import pytest
from pydantic import SecretStr

from concord.connectors.kit.auth import StaticToken
from concord.connectors.kit.budget import BudgetPolicy, in_memory_budget
from concord.connectors.kit.errors import ErrorMapper, NotFound, Throttled
from concord.connectors.kit.http import VendorClient
from concord.errors import TransientError

BASE = "https://api.vendor.test"


def _client(handler, clock, *, policy: BudgetPolicy | None = None, **kwargs) -> VendorClient:
    budget = in_memory_budget(policy or BudgetPolicy(rate_per_second=10.0, burst=10), clock=clock, sleep=clock.sleep)
    return VendorClient(
        base_url=BASE,
        errors=ErrorMapper("acme"),
        budget=budget,
        auth=StaticToken(SecretStr("very-secret-token")),
        account="acct-1",
        transport=httpx.MockTransport(handler),
        **kwargs,
    )


def _emf_lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{") and '"_aws"' in line]


def test_a_call_returns_the_answer_and_logs_one_line_and_one_metric(clock, log_records, capsys) -> None:
    client = _client(lambda request: httpx.Response(200, json={"id": "C-1"}), clock)
    assert client.json("get_customer", "GET", "/customers/C-1", params={"api_key": "query-secret"}) == {"id": "C-1"}

    (record,) = [r for r in log_records if r.getMessage() == "vendor call"]
    assert (record.vendor, record.account, record.operation, record.method, record.status) == (
        "acme",
        "acct-1",
        "get_customer",
        "GET",
        200,
    )
    assert record.path == "/customers/C-1" and record.latency_ms >= 0
    printed = capsys.readouterr().out  # the JSON log line and the EMF metric
    everything = printed + repr([r.__dict__ for r in log_records])
    assert "query-secret" not in everything and "very-secret-token" not in everything

    (metric,) = _emf_lines(printed)
    assert metric["VendorCallLatency"][0] >= 0
    assert (metric["vendor"], metric["operation"], metric["outcome"]) == ("acme", "get_customer", "ok")


def test_an_error_answer_raises_the_mapped_error_and_is_logged_as_failed(clock, log_records) -> None:
    client = _client(lambda request: httpx.Response(404, json={"message": "no such customer"}), clock)
    with pytest.raises(NotFound, match="acme get_customer: HTTP 404"):
        client.request("get_customer", "GET", "/customers/C-9")
    (record,) = [r for r in log_records if r.getMessage() == "vendor call failed"]
    assert record.status == 404 and record.error_class == "NotFound"


def test_a_timeout_is_transient_and_still_logged(clock, log_records) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(TransientError):
        _client(slow, clock).request("list", "GET", "/customers")
    (record,) = [r for r in log_records if r.getMessage() == "vendor call failed"]
    assert record.status == 0 and record.error_class == "TransientError"


def test_a_vendor_throttle_halves_the_budget_rate(clock) -> None:
    client = _client(lambda request: httpx.Response(429, headers={"Retry-After": "3"}), clock)
    with pytest.raises(Throttled) as raised:
        client.request("list", "GET", "/customers")
    assert raised.value.retry_after == 3.0
    state, _ = client.budget.store.load(client.budget.key)
    assert state.rate == pytest.approx(5.0)


def test_no_budget_no_call(clock) -> None:
    calls: list[httpx.Request] = []

    def api(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200)

    client = _client(api, clock, policy=BudgetPolicy(rate_per_second=1.0, burst=1), max_wait=lambda: 0.1)
    client.request("list", "GET", "/a")
    with pytest.raises(Throttled):
        client.request("list", "GET", "/b")
    assert len(calls) == 1


def test_observe_adds_fields_to_the_log_line(clock, log_records) -> None:
    client = _client(
        lambda request: httpx.Response(204, headers={"X-Usage": "7"}),
        clock,
        observe=lambda response: {"usage": int(response.headers["X-Usage"])},
    )
    assert client.json("touch", "PATCH", "/a", json={"x": 1}) is None
    (record,) = [r for r in log_records if r.getMessage() == "vendor call"]
    assert record.usage == 7
