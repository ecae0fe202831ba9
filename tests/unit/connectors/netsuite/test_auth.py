"""The kit's JwtClientAssertion as NetSuite's OAuth 2.0 M2M flow uses it: grant_type
client_credentials with a certificate-signed client assertion (typ JWT, alg PS256/ES256, kid =
the certificate id; iss, scope, aud = the token URL, iat, exp at most an hour later).
https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_162790605110.html
https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_162755359851.html
"""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pydantic import SecretStr

from concord.connectors.kit.auth import JWT_CLIENT_ASSERTION, CertificateKey, JwtClientAssertion
from concord.connectors.kit.errors import AuthFailed

TOKEN_URL = "https://1234567.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token"
API = "https://1234567.suitetalk.api.netsuite.com/services/rest/record/v1/customer/1"


def _pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


class TokenEndpoint:
    def __init__(self, refuse: int = 0) -> None:
        self.forms: list[dict[str, str]] = []
        self.refuse = refuse

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if str(request.url) == TOKEN_URL:
            self.forms.append({k: v[0] for k, v in parse_qs(request.content.decode()).items()})
            if len(self.forms) <= self.refuse:
                return httpx.Response(400, json={"error": "invalid_client"})
            return httpx.Response(200, json={"access_token": "at-1", "token_type": "bearer", "expires_in": "3600"})
        assert request.headers["Authorization"] == "Bearer at-1"
        return httpx.Response(200, json={"id": "1"})


@pytest.mark.parametrize(
    ("algorithm", "key"),
    [
        ("PS256", rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        ("ES256", ec.generate_private_key(ec.SECP256R1())),
    ],
)
def test_the_token_request_is_client_credentials_with_a_signed_client_assertion(clock, algorithm, key) -> None:
    endpoint = TokenEndpoint()
    auth = JwtClientAssertion(
        vendor="netsuite",
        token_url=TOKEN_URL,
        scope="rest_webservices",
        algorithm=algorithm,
        load_credentials=lambda: CertificateKey(
            client_id="client-1", certificate_id="cert-9", private_key=SecretStr(_pem(key))
        ),
        default_lifetime=3600,
        clock=clock,
    )
    with httpx.Client(auth=auth, transport=httpx.MockTransport(endpoint)) as client:
        client.get(API)
        client.get(API)

    (form,) = endpoint.forms  # the one-hour token is reused
    assert form["grant_type"] == "client_credentials"
    assert (
        form["client_assertion_type"]
        == JWT_CLIENT_ASSERTION
        == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    )
    assertion = form["client_assertion"]
    assert jwt.get_unverified_header(assertion) == {"typ": "JWT", "alg": algorithm, "kid": "cert-9"}
    claims = jwt.decode(
        assertion,
        key.public_key(),
        algorithms=[algorithm],
        audience=TOKEN_URL,
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims == {
        "iss": "client-1",
        "scope": "rest_webservices",
        "aud": TOKEN_URL,
        "iat": int(clock.now),
        "exp": int(clock.now) + 300,
    }
    assert "client_secret" not in form and "sub" not in claims


def test_a_refused_certificate_is_reread_once_then_refused_for_good(clock) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    reads: list[int] = []

    def load() -> CertificateKey:
        reads.append(1)
        return CertificateKey(client_id="c", certificate_id="k", private_key=SecretStr(_pem(key)))

    auth = JwtClientAssertion(
        vendor="netsuite",
        token_url=TOKEN_URL,
        scope="rest_webservices",
        algorithm="ES256",
        load_credentials=load,
        clock=clock,
    )
    with (
        httpx.Client(auth=auth, transport=httpx.MockTransport(TokenEndpoint(refuse=2))) as client,
        pytest.raises(AuthFailed) as refused,
    ):
        client.get(API)
    assert len(reads) == 2 and "BEGIN" not in str(refused.value)
