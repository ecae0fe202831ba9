from __future__ import annotations

from urllib.parse import parse_qs

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pydantic import SecretStr

from concord.connectors.kit.auth import (
    JWT_BEARER_GRANT,
    ClientSecret,
    JwtBearer,
    JwtSigningKey,
    OAuth2ClientCredentials,
    OAuth2RefreshToken,
    RefreshCredentials,
    StaticToken,
)
from concord.connectors.kit.errors import AuthFailed
from concord.errors import TransientError

TOKEN_URL = "https://auth.vendor.test/oauth/token"
API = "https://api.vendor.test"


def _form(request: httpx.Request) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(request.content.decode()).items()}


class Vendor:
    """A token endpoint and an API: tokens are "tok-1", "tok-2", …; the API accepts `valid_tokens`."""

    def __init__(self, *, expires_in: int | None = None, good_secret: str = "s1") -> None:
        self.expires_in = expires_in
        self.good_secret = good_secret
        self.issued = 0
        self.valid_tokens: set[str] | None = None  # None: every issued token
        self.token_requests: list[dict[str, str]] = []
        self.api_requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if str(request.url) == TOKEN_URL:
            form = _form(request)
            self.token_requests.append(form)
            if form.get("grant_type") == "client_credentials" and form.get("client_secret") != self.good_secret:
                return httpx.Response(
                    400, json={"error": "invalid_client", "error_description": "invalid client credentials"}
                )
            self.issued += 1
            body = {
                "access_token": f"tok-{self.issued}",
                "token_type": "Bearer",
                "instance_url": "https://eu9.vendor.test",
            }
            if self.expires_in is not None:
                body["expires_in"] = self.expires_in
            return httpx.Response(200, json=body)
        # A snapshot: the auth flow re-sends the same Request object with new headers.
        self.api_requests.append(httpx.Request(request.method, request.url, headers=request.headers.copy()))
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        valid = self.valid_tokens if self.valid_tokens is not None else {f"tok-{n}" for n in range(1, self.issued + 1)}
        return (
            httpx.Response(200, json={"ok": True}) if token in valid else httpx.Response(401, json={"error": "expired"})
        )


class Secrets:
    """`load_credentials` for the tests: counts reads and can be rotated."""

    def __init__(self, secret: str = "s1") -> None:
        self.secret = secret
        self.reads = 0

    def __call__(self) -> ClientSecret:
        self.reads += 1
        return ClientSecret(client_id="app", client_secret=SecretStr(self.secret))


def _client_credentials(vendor: Vendor, secrets: Secrets, clock, **kwargs) -> httpx.Client:
    auth = OAuth2ClientCredentials(vendor="acme", token_url=TOKEN_URL, load_credentials=secrets, clock=clock, **kwargs)
    return httpx.Client(base_url=API, auth=auth, transport=httpx.MockTransport(vendor))


def test_static_token_is_sent_as_bearer() -> None:
    seen: list[str] = []

    def api(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        return httpx.Response(200)

    client = httpx.Client(auth=StaticToken(SecretStr("pat-123")), transport=httpx.MockTransport(api))
    client.get(f"{API}/x")
    assert seen == ["Bearer pat-123"]


def test_client_credentials_posts_a_form_and_reuses_the_token(clock) -> None:
    vendor, secrets = Vendor(), Secrets()
    client = _client_credentials(vendor, secrets, clock, scope="crm.read")
    assert client.get("/a").status_code == 200
    assert client.get("/b").status_code == 200
    assert vendor.token_requests == [
        {"grant_type": "client_credentials", "client_id": "app", "client_secret": "s1", "scope": "crm.read"}
    ]
    assert [r.headers["Authorization"] for r in vendor.api_requests] == ["Bearer tok-1", "Bearer tok-1"]
    assert secrets.reads == 1


def test_expires_in_is_honoured_and_the_token_renewed_before_it_runs_out(clock) -> None:
    vendor = Vendor(expires_in=600)
    client = _client_credentials(vendor, Secrets(), clock, refresh_margin=60)
    client.get("/a")
    clock.now += 539
    client.get("/b")
    assert vendor.issued == 1
    clock.now += 2  # 59 s before expiry: inside the margin
    client.get("/c")
    assert vendor.issued == 2
    assert vendor.api_requests[-1].headers["Authorization"] == "Bearer tok-2"


def test_without_expires_in_the_configured_session_lifetime_applies(clock) -> None:
    vendor = Vendor(expires_in=None)
    client = _client_credentials(vendor, Secrets(), clock, default_lifetime=900, refresh_margin=60)
    client.get("/a")
    clock.now += 830
    client.get("/b")
    assert vendor.issued == 1
    clock.now += 20
    client.get("/c")
    assert vendor.issued == 2


def test_a_401_renews_the_token_rereads_the_secret_and_retries_once(clock) -> None:
    vendor, secrets = Vendor(), Secrets()
    client = _client_credentials(vendor, secrets, clock)
    client.get("/a")
    vendor.valid_tokens = {"tok-2"}  # the session was revoked early
    response = client.get("/b")
    assert response.status_code == 200
    assert [r.headers["Authorization"] for r in vendor.api_requests] == ["Bearer tok-1", "Bearer tok-1", "Bearer tok-2"]
    assert secrets.reads == 2


def test_a_second_401_is_handed_back_not_retried_again(clock) -> None:
    vendor = Vendor()
    vendor.valid_tokens = set()  # the integration user lost API access
    client = _client_credentials(vendor, Secrets(), clock)
    assert client.get("/a").status_code == 401
    assert len(vendor.api_requests) == 2
    assert vendor.issued == 2


def test_a_refused_secret_is_reread_once_the_rotated_one_works(clock) -> None:
    vendor, secrets = Vendor(good_secret="s2"), Secrets("s1")

    def rotated() -> ClientSecret:
        credentials = secrets()
        secrets.secret = "s2"  # the next read sees the rotated secret
        return credentials

    client = httpx.Client(
        base_url=API,
        auth=OAuth2ClientCredentials(vendor="acme", token_url=TOKEN_URL, load_credentials=rotated, clock=clock),
        transport=httpx.MockTransport(vendor),
    )
    assert client.get("/a").status_code == 200
    assert [form["client_secret"] for form in vendor.token_requests] == ["s1", "s2"]


def test_a_secret_refused_twice_is_a_permanent_auth_error_without_the_secret(clock) -> None:
    vendor = Vendor(good_secret="never")
    client = _client_credentials(vendor, Secrets("wrong-secret-value"), clock)
    with pytest.raises(AuthFailed) as raised:
        client.get("/a")
    assert len(vendor.token_requests) == 2
    assert "wrong-secret-value" not in str(raised.value)
    assert vendor.api_requests == []


def test_a_failing_token_endpoint_is_transient(clock) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(503, json={"error": "unavailable"}))
    auth = OAuth2ClientCredentials(vendor="acme", token_url=TOKEN_URL, load_credentials=Secrets(), clock=clock)
    with pytest.raises(TransientError):
        httpx.Client(auth=auth, transport=transport).get(f"{API}/a")


def test_the_token_response_can_route_api_calls_to_its_instance(clock) -> None:
    vendor = Vendor()
    client = _client_credentials(vendor, Secrets(), clock, instance_url_field="instance_url")
    client.get("/services/data/v67.0/limits", params={"x": "1"})
    sent = vendor.api_requests[0]
    assert sent.url == "https://eu9.vendor.test/services/data/v67.0/limits?x=1"
    assert sent.headers["Host"] == "eu9.vendor.test"


def _pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def test_jwt_bearer_sends_a_signed_assertion_with_iss_sub_aud_exp(clock) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    vendor = Vendor()
    auth = JwtBearer(
        vendor="salesforce",
        token_url=TOKEN_URL,
        audience="https://login.salesforce.com",
        load_credentials=lambda: JwtSigningKey(
            client_id="3MVG9-app", subject="integration@acme.example", private_key=SecretStr(_pem(key))
        ),
        clock=clock,
    )
    httpx.Client(auth=auth, transport=httpx.MockTransport(vendor)).get(f"{API}/a")
    (form,) = vendor.token_requests
    assert form["grant_type"] == JWT_BEARER_GRANT == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    claims = jwt.decode(
        form["assertion"],
        key.public_key(),
        algorithms=["RS256"],
        audience="https://login.salesforce.com",
        options={"verify_exp": False},
    )
    assert claims == {
        "iss": "3MVG9-app",
        "sub": "integration@acme.example",
        "aud": "https://login.salesforce.com",
        "exp": int(clock.now) + 180,
    }
    assert "kid" not in jwt.get_unverified_header(form["assertion"])


def test_jwt_bearer_algorithm_and_kid_are_configurable(clock) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    vendor = Vendor()
    auth = JwtBearer(
        vendor="netsuite",
        token_url=TOKEN_URL,
        audience=TOKEN_URL,
        algorithm="ES256",
        load_credentials=lambda: JwtSigningKey(
            client_id="c", subject="c", private_key=SecretStr(_pem(key)), key_id="cert-7"
        ),
        clock=clock,
    )
    httpx.Client(auth=auth, transport=httpx.MockTransport(vendor)).get(f"{API}/a")
    assertion = vendor.token_requests[0]["assertion"]
    assert jwt.get_unverified_header(assertion) == {"alg": "ES256", "kid": "cert-7", "typ": "JWT"}
    jwt.decode(assertion, key.public_key(), algorithms=["ES256"], audience=TOKEN_URL, options={"verify_exp": False})


def test_refresh_token_grant_posts_the_refresh_form_and_renews_from_expires_in(clock) -> None:
    vendor = Vendor(expires_in=1800)
    reads: list[int] = []

    def credentials() -> RefreshCredentials:
        reads.append(1)
        return RefreshCredentials(client_id="app", client_secret=SecretStr("s1"), refresh_token=SecretStr("rt-1"))

    auth = OAuth2RefreshToken(
        vendor="acme", token_url=TOKEN_URL, load_credentials=credentials, clock=clock, refresh_margin=60
    )
    client = httpx.Client(base_url=API, auth=auth, transport=httpx.MockTransport(vendor))
    client.get("/a")
    clock.now += 1700
    client.get("/b")
    assert vendor.token_requests == [
        {"grant_type": "refresh_token", "client_id": "app", "client_secret": "s1", "refresh_token": "rt-1"}
    ]
    clock.now += 50  # 50 s before expiry: inside the margin
    client.get("/c")
    assert vendor.issued == 2 and len(reads) == 1  # renewed by time, the secret read once
    assert vendor.api_requests[-1].headers["Authorization"] == "Bearer tok-2"
