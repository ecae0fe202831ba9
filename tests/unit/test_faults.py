"""The fault proxy's decisions and its control client, without sockets.

The proxy itself (real loopback sockets) is tested in tests/integration/connectors/test_faults.py.
"""

from __future__ import annotations

import json
import random

import httpx
import pytest
from pydantic import ValidationError

from concord.local.fault_table import FaultMode, FaultSpec, FaultTable, target_of
from concord.local.faults import FaultController, forwardable_headers, forwarded_headers


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("/erp/rpc/", "erp"),
        ("/crm", "crm"),
        ("/psa/rpc/?x=1", "psa"),
        ("/", ""),
        ("/erp?x=/crm/", "erp"),
    ],
)
def test_target_is_the_first_path_segment(path: str, target: str) -> None:
    assert target_of(path) == target


def test_hop_by_hop_headers_are_not_forwarded() -> None:
    headers = httpx.Headers(
        {
            "Authorization": "Session abc",
            "Content-Type": "application/json",
            "Host": "proxy",
            "Content-Length": "12",
            "Connection": "keep-alive, X-Private",
            "X-Private": "1",
            "Keep-Alive": "timeout=5",
            "Transfer-Encoding": "chunked",
            "Upgrade": "h2c",
            "Proxy-Authorization": "Basic x",
            "TE": "trailers",
        }
    )

    kept = dict(forwardable_headers(headers))

    assert kept == {"authorization": "Session abc", "content-type": "application/json"}


def test_the_upstream_is_told_the_host_the_client_called_not_one_the_client_claims() -> None:
    headers = httpx.Headers({"Host": "127.0.0.1:9000", "X-Forwarded-Host": "evil.example", "Accept": "*/*"})

    sent = forwarded_headers(headers)

    assert [v for k, v in sent if k.lower() == "x-forwarded-host"] == ["127.0.0.1:9000"]
    assert ("accept", "*/*") in sent


def test_no_fault_means_forward() -> None:
    table = FaultTable()

    assert table.decide("erp") is None


def test_a_certain_fault_is_injected_every_time_and_counted() -> None:
    table = FaultTable()
    table.set("erp", FaultSpec(mode=FaultMode.OUTAGE))

    decisions = [table.decide("erp") for _ in range(3)]

    assert [d.mode if d else None for d in decisions] == [FaultMode.OUTAGE] * 3
    assert table.decide("crm") is None
    assert table.report().injected == {"erp": {FaultMode.OUTAGE: 3}}


def test_remaining_counts_down_then_clears() -> None:
    table = FaultTable()
    table.set("erp", FaultSpec(mode=FaultMode.ERROR, status=500, remaining=2))

    first = table.decide("erp")
    assert table.report().faults["erp"].remaining == 1
    second = table.decide("erp")
    third = table.decide("erp")

    assert (first and first.status, second and second.status, third) == (500, 500, None)
    assert table.report().faults == {}
    assert table.report().injected == {"erp": {FaultMode.ERROR: 2}}


def test_probability_draws_from_the_seeded_generator() -> None:
    table = FaultTable(rng=random.Random(42))
    table.set("erp", FaultSpec(mode=FaultMode.THROTTLE, probability=0.25))

    injected = sum(table.decide("erp") is not None for _ in range(1000))

    expected_rng = random.Random(42)
    assert injected == sum(expected_rng.random() < 0.25 for _ in range(1000))
    assert 200 <= injected <= 300


def test_remaining_counts_only_injected_requests() -> None:
    table = FaultTable(rng=random.Random(1))
    table.set("erp", FaultSpec(mode=FaultMode.RESET, probability=0.5, remaining=3))

    decisions = [table.decide("erp") for _ in range(100)]

    assert sum(d is not None for d in decisions) == 3
    assert "erp" not in table.report().faults


def test_clear_one_or_all_keeps_counters() -> None:
    table = FaultTable()
    table.set("erp", FaultSpec(mode=FaultMode.ERROR))
    table.set("psa", FaultSpec(mode=FaultMode.ERROR))
    table.decide("erp")
    table.forwarded("crm")

    table.clear("erp")
    assert set(table.report().faults) == {"psa"}
    table.clear()

    report = table.report()
    assert report.faults == {}
    assert report.injected == {"erp": {FaultMode.ERROR: 1}}
    assert report.forwarded == {"crm": 1}


@pytest.mark.parametrize(
    "values",
    [
        {"mode": "meteor"},
        {"mode": "error", "probability": 1.5},
        {"mode": "error", "status": 200},
        {"mode": "latency", "latency_ms": -1},
        {"mode": "error", "remaining": 0},
        {"mode": "error", "unknown": 1},
    ],
)
def test_invalid_fault_specs_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        FaultSpec.model_validate(values)


def test_fault_controller_speaks_the_control_api() -> None:
    # Given a scripted proxy control API
    seen: list[tuple[str, str, object]] = []

    def control(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        seen.append((request.method, request.url.path, body))
        if request.method == "GET":
            return httpx.Response(
                200,
                json={
                    "faults": {
                        "erp": {
                            "mode": "error",
                            "probability": 1.0,
                            "status": 503,
                            "retry_after": 1,
                            "latency_ms": 0,
                            "remaining": 1,
                        }
                    },
                    "injected": {"erp": {"error": 4}},
                    "forwarded": {"erp": 10},
                },
            )
        return httpx.Response(200, json={})

    controller = FaultController("http://proxy.test", transport=httpx.MockTransport(control))

    # When it sets, lists and clears faults
    controller.set("erp", "error", status=503, remaining=2)
    report = controller.list()
    controller.clear("erp")
    controller.clear()

    # Then the requests and the typed report are the documented ones
    assert seen[0] == (
        "PUT",
        "/_faults/erp",
        {"mode": "error", "probability": 1.0, "status": 503, "retry_after": 1, "latency_ms": 0, "remaining": 2},
    )
    assert [(m, p) for m, p, _ in seen[1:]] == [("GET", "/_faults"), ("DELETE", "/_faults/erp"), ("DELETE", "/_faults")]
    assert report.faults["erp"].remaining == 1
    assert report.injected == {"erp": {FaultMode.ERROR: 4}}
    assert report.forwarded == {"erp": 10}


def test_fault_controller_raises_on_refusal() -> None:
    controller = FaultController(
        "http://proxy.test", transport=httpx.MockTransport(lambda request: httpx.Response(400, json={}))
    )

    with pytest.raises(httpx.HTTPStatusError):
        controller.clear("erp")
