"""Token endpoint, session checks, the request allocation and the control API."""

from __future__ import annotations

import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from concord.local.faults import FaultController, FaultProxy
from concord.local.sandboxes.kit import OAuthClient, SandboxController, SandboxServer
from concord.local.sandboxes.salesforce import SalesforceSandbox

from .conftest import API, doc_example, login, same_shape


def _key_pair() -> tuple[rsa.RSAPrivateKey, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return key, public.decode()


def _assertion(key: rsa.RSAPrivateKey, **claims: object) -> str:
    body = {
        "iss": "jwt-app",
        "sub": "integration@example.com",
        "aud": "https://login.salesforce.com",
        "exp": int(time.time()) + 180,
        **claims,
    }
    return jwt.encode(body, key, algorithm="RS256")


def test_client_credentials_token_has_the_documented_shape(server: SandboxServer) -> None:
    example = doc_example("token")
    good = httpx.post(
        f"{server.url}/crm/services/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "concord-sandbox",
            "client_secret": "concord-sandbox-secret",
        },
    )
    assert good.status_code == 200 and same_shape(example["response"], good.json())
    assert good.json()["instance_url"] == f"{server.url}/crm"
    bad = httpx.post(
        f"{server.url}/crm/services/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": "concord-sandbox", "client_secret": "no"},
    )
    assert bad.status_code == 400 and bad.json() == example["invalid_client"]


def test_jwt_bearer_accepts_only_the_configured_key_and_subject() -> None:
    key, public = _key_pair()
    other_key, _ = _key_pair()
    client = OAuthClient(client_id="jwt-app", jwt_public_key_pem=public, jwt_subject="integration@example.com")
    with SandboxServer(SalesforceSandbox(clients={"psa": client}), ["psa"]) as server:
        url = f"{server.url}/psa/services/oauth2/token"

        def token(assertion: str) -> httpx.Response:
            return httpx.post(
                url, data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion}
            )

        granted = token(_assertion(key))
        assert granted.status_code == 200
        session = {"Authorization": f"Bearer {granted.json()['access_token']}"}
        assert (
            httpx.get(
                f"{server.url}/psa{API}/query", params={"q": "SELECT Id FROM Account"}, headers=session
            ).status_code
            == 200
        )
        for refused in (
            token(_assertion(other_key)),
            token(_assertion(key, sub="someone@else.com")),
            token(_assertion(key, aud="https://example.com")),
            token(_assertion(key, exp=int(time.time()) - 600)),
        ):
            assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


def test_requests_without_a_valid_session_are_401(server: SandboxServer) -> None:
    expected = doc_example("errors")["invalid_session"]
    for headers in ({}, {"Authorization": "Bearer made-up"}):
        answer = httpx.get(f"{server.url}/crm{API}/query", params={"q": "SELECT Id FROM Account"}, headers=headers)
        assert answer.status_code == expected["status"] and answer.json() == expected["body"]


def test_limit_header_counts_and_a_spent_allocation_is_403(
    server: SandboxServer, control: SandboxController, crm: httpx.Client, psa: httpx.Client
) -> None:
    control.set_budget("crm", allocation=2)
    first = crm.get("/query", params={"q": "SELECT Id FROM Account"})
    second = crm.post("/sobjects/Account", json={"Name": "A"})
    assert first.headers["Sforce-Limit-Info"] == "api-usage=1/2"
    assert second.headers["Sforce-Limit-Info"] == "api-usage=2/2"
    spent = crm.get("/query", params={"q": "SELECT Id FROM Account"})
    expected = doc_example("errors")["request_limit_exceeded"]
    assert spent.status_code == expected["status"] and spent.json() == expected["body"]
    # Each org has its own allocation.
    assert psa.get("/query", params={"q": "SELECT Id FROM Account"}).status_code == 200
    control.reset("crm")  # refills
    assert crm.get("/query", params={"q": "SELECT Id FROM Account"}).status_code == 200


def test_call_log_records_method_path_and_status(control: SandboxController, crm: httpx.Client) -> None:
    control.clear_calls("crm")
    crm.get("/sobjects/Account/001Sb000000009zAAA")
    calls = control.calls("crm")
    assert [(c.method, c.path, c.status) for c in calls] == [("GET", f"{API}/sobjects/Account/001Sb000000009zAAA", 404)]


@pytest.mark.parametrize("path", ["/nobody/services/oauth2/token", "/_sandbox/nobody/calls"])
def test_unknown_tenants_are_404(server: SandboxServer, path: str) -> None:
    assert httpx.get(f"{server.url}{path}").status_code == 404


def test_behind_the_fault_proxy_the_instance_url_is_the_proxys(server: SandboxServer) -> None:
    """The token's instance_url must name the proxy, or every API call after the token
    would go around it and no fault would reach the client."""
    with FaultProxy(server.url) as proxy, login(proxy, "crm") as crm:  # type: ignore[arg-type]
        assert str(crm.base_url).startswith(f"{proxy.url}/crm/")
        FaultController(proxy.url).set("crm", "error", status=503, remaining=1)

        assert crm.get("/limits").status_code == 503
        assert crm.get("/sobjects/Account/001Sb0000000001AAA").status_code == 404
        assert proxy.table.report().forwarded["crm"] == 2  # the token and the last GET
