"""Auth plug-ins for `httpx.Client(auth=...)`: a bearer token, OAuth 2.0 client credentials,
refresh token, JWT bearer.

The OAuth plug-ins keep one token per instance; keep one instance per vendor account per process
(container) and every invocation reuses the token until shortly before it expires. Token requests
are yielded from the auth flow, so they go through the same client (and its test transport).

Credentials come from `load_credentials()` (e.g. reading Secrets Manager). They are re-read when the
token endpoint refuses them (the secret was rotated) and once when an API call answers 401; a
second 401 is returned to the caller, whose error mapper makes it a permanent auth error.
Neither tokens nor secrets are ever logged or put into an error message.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
from pydantic import BaseModel, SecretStr

from concord.errors import ConcordError

from .errors import AuthFailed, ErrorMapper

# OAuth error codes meaning "these credentials are not (or no longer) valid" (RFC 6749 §5.2, plus
# Salesforce's `invalid_client_credentials`).
_REFUSED_CREDENTIALS = frozenset(
    {"invalid_grant", "invalid_client", "invalid_client_credentials", "unauthorized_client"}
)
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
JWT_CLIENT_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class StaticToken(httpx.Auth):
    """A bearer token that never expires (HubSpot static auth, Kantata); a 401 is final."""

    def __init__(self, token: SecretStr) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        request.headers["Authorization"] = f"Bearer {self._token.get_secret_value()}"
        yield request


class ClientSecret(BaseModel):
    """What `OAuth2ClientCredentials` reads from the secret store."""

    client_id: str
    client_secret: SecretStr


class RefreshCredentials(BaseModel):
    """What `OAuth2RefreshToken` reads from the secret store: the app and the install's refresh token."""

    client_id: str
    client_secret: SecretStr
    refresh_token: SecretStr


class JwtSigningKey(BaseModel):
    """What `JwtBearer` reads from the secret store: the app (iss), the user (sub) and the key."""

    client_id: str
    subject: str
    private_key: SecretStr
    key_id: str | None = None


class CertificateKey(BaseModel):
    """What `JwtClientAssertion` reads from the secret store: the app (iss), the certificate it
    signs with (its id goes into `kid`) and the certificate's private key (PEM)."""

    client_id: str
    certificate_id: str
    private_key: SecretStr


@dataclass(frozen=True)
class AccessToken:
    value: SecretStr
    expires_at: float
    # The token response minus the token itself (e.g. Salesforce's instance_url, id, scope).
    details: Mapping[str, Any] = field(default_factory=dict)


class OAuth2Token[C: BaseModel](httpx.Auth):
    """Base of the token-endpoint flows: caching, refresh before expiry, credential re-reads.

    `default_lifetime` is used when the token response has no `expires_in` (Salesforce's has none:
    its tokens live as long as the org's session timeout). The token is renewed `refresh_margin`
    seconds before it would expire. With `instance_url_field`, API requests are sent to the host the
    token response names (Salesforce's `instance_url`), whatever base URL the client was given.
    `refused_codes` adds a vendor's own words for "these credentials are refused" (HubSpot answers
    `{"status": "BAD_REFRESH_TOKEN"}`) to OAuth's standard error codes.
    """

    requires_response_body = True

    def __init__(
        self,
        *,
        vendor: str,
        token_url: str,
        load_credentials: Callable[[], C],
        default_lifetime: float = 15 * 60,
        refresh_margin: float = 60,
        instance_url_field: str | None = None,
        errors: ErrorMapper | None = None,
        refused_codes: frozenset[str] = frozenset(),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.vendor = vendor
        self._refused_codes = _REFUSED_CREDENTIALS | refused_codes
        self.token_url = token_url
        self._load_credentials = load_credentials
        self._credentials: C | None = None
        self._default_lifetime = default_lifetime
        self._refresh_margin = refresh_margin
        self._instance_url_field = instance_url_field
        self._errors = errors or ErrorMapper(vendor)
        self._clock = clock
        self._token: AccessToken | None = None
        self._lock = threading.Lock()

    def grant_form(self, credentials: C) -> dict[str, str]:
        """The form fields of the token request; each flow defines its own."""
        raise NotImplementedError

    # ---------------------------------------------------------------- the flow httpx drives

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        token = self._token
        if token is None or not self._usable(token):
            token = yield from self._renew(stale=token, reread=False)
        response = yield self._authorised(request, token)
        if response.status_code == 401:
            # The session ended early or the secret was rotated: one fresh token, one retry.
            token = yield from self._renew(stale=token, reread=True)
            yield self._authorised(request, token)

    def _usable(self, token: AccessToken | None) -> bool:
        return token is not None and self._clock() < token.expires_at - self._refresh_margin

    def _authorised(self, request: httpx.Request, token: AccessToken) -> httpx.Request:
        request.headers["Authorization"] = f"Bearer {token.value.get_secret_value()}"
        instance_url = token.details.get(self._instance_url_field or "")
        if instance_url:
            target = httpx.URL(instance_url)
            request.url = request.url.copy_with(scheme=target.scheme, host=target.host, port=target.port)
            request.headers["Host"] = request.url.netloc.decode("ascii")
        return request

    def _renew(
        self, *, stale: AccessToken | None, reread: bool
    ) -> Generator[httpx.Request, httpx.Response, AccessToken]:
        # One renewal at a time per process; a thread that waited uses the token just fetched.
        with self._lock:
            if self._token is not stale and self._usable(self._token):
                assert self._token is not None
                return self._token
            if reread or self._credentials is None:
                self._credentials = self._load_credentials()
            response = yield self._token_request(self._credentials)
            if self._refused(response) and not reread:
                self._credentials = self._load_credentials()  # the secret may have been rotated
                response = yield self._token_request(self._credentials)
            self._token = self._accept(response)
            return self._token

    def _token_request(self, credentials: C) -> httpx.Request:
        return httpx.Request(
            "POST", self.token_url, data=self.grant_form(credentials), headers={"Accept": "application/json"}
        )

    def _refused(self, response: httpx.Response) -> bool:
        return response.status_code in (400, 401) and self._refusal_code(response) in self._refused_codes

    @staticmethod
    def _refusal_code(response: httpx.Response) -> str | None:
        try:
            body = response.json()
        except ValueError:
            return None
        return (body.get("error") or body.get("status")) if isinstance(body, dict) else None

    def _accept(self, response: httpx.Response) -> AccessToken:
        if self._refused(response):
            raise AuthFailed(f"{self.vendor} token: credentials refused ({self._refusal_code(response)})")
        error: ConcordError | None = self._errors.error_for_response("token", response)
        if error is not None:
            raise error
        body = response.json()
        lifetime = float(body.get("expires_in") or self._default_lifetime)
        details = {
            key: value for key, value in body.items() if key not in ("access_token", "refresh_token", "id_token")
        }
        return AccessToken(SecretStr(body["access_token"]), self._clock() + lifetime, details)


class OAuth2ClientCredentials(OAuth2Token[ClientSecret]):
    """RFC 6749 §4.4 client credentials, sent as form fields."""

    def __init__(self, *, scope: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scope = scope

    def grant_form(self, credentials: ClientSecret) -> dict[str, str]:
        form = {
            "grant_type": "client_credentials",
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret.get_secret_value(),
        }
        if self.scope:
            form["scope"] = self.scope
        return form


class OAuth2RefreshToken(OAuth2Token[RefreshCredentials]):
    """RFC 6749 §6 refresh: a long-lived refresh token (from an app's install) traded for
    short-lived access tokens, renewed from the answer's `expires_in` (HubSpot OAuth apps)."""

    def grant_form(self, credentials: RefreshCredentials) -> dict[str, str]:
        return {
            "grant_type": "refresh_token",
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret.get_secret_value(),
            "refresh_token": credentials.refresh_token.get_secret_value(),
        }


class JwtBearer(OAuth2Token[JwtSigningKey]):
    """RFC 7523 JWT bearer grant: a short-lived assertion signed with the app's private key.

    Salesforce: iss = consumer key, sub = username, aud = login URL, exp within 3 minutes.
    NetSuite's variant signs with PS256/ES256 and names the certificate in `kid`.
    """

    def __init__(
        self, *, audience: str, algorithm: str = "RS256", assertion_lifetime: float = 180, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.audience = audience
        self.algorithm = algorithm
        self.assertion_lifetime = assertion_lifetime

    def assertion(self, credentials: JwtSigningKey) -> str:
        now = int(self._clock())
        claims = {
            "iss": credentials.client_id,
            "sub": credentials.subject,
            "aud": self.audience,
            "exp": now + int(self.assertion_lifetime),
        }
        headers = {"kid": credentials.key_id} if credentials.key_id else None
        return jwt.encode(claims, credentials.private_key.get_secret_value(), algorithm=self.algorithm, headers=headers)

    def grant_form(self, credentials: JwtSigningKey) -> dict[str, str]:
        return {"grant_type": JWT_BEARER_GRANT, "assertion": self.assertion(credentials)}


class JwtClientAssertion(OAuth2Token[CertificateKey]):
    """RFC 6749 §4.4 client credentials, the client authenticated by a signed JWT (RFC 7523 §2.2)
    instead of a secret: `client_assertion_type` + `client_assertion`, no user (`sub`).

    NetSuite's OAuth 2.0 M2M flow: the JWT's header names the mapped certificate (`kid`), its
    claims are iss = client id, scope, aud = the token URL, iat and exp (at most an hour apart).
    """

    def __init__(self, *, scope: str, algorithm: str = "PS256", assertion_lifetime: float = 300, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scope = scope
        self.algorithm = algorithm
        self.assertion_lifetime = assertion_lifetime

    def assertion(self, credentials: CertificateKey) -> str:
        now = int(self._clock())
        claims = {
            "iss": credentials.client_id,
            "scope": self.scope,
            "aud": self.token_url,
            "iat": now,
            "exp": now + int(self.assertion_lifetime),
        }
        headers = {"typ": "JWT", "kid": credentials.certificate_id}
        return jwt.encode(claims, credentials.private_key.get_secret_value(), algorithm=self.algorithm, headers=headers)

    def grant_form(self, credentials: CertificateKey) -> dict[str, str]:
        return {
            "grant_type": "client_credentials",
            "client_assertion_type": JWT_CLIENT_ASSERTION,
            "client_assertion": self.assertion(credentials),
        }
