"""OAuth 2.0 token endpoint helpers: the client-credentials and JWT-bearer grants (RFC 6749
section 4.4, RFC 7523), opaque bearer tokens, and the checks an authorization server makes."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass

import jwt
from pydantic import BaseModel, ConfigDict, SecretStr

CLIENT_CREDENTIALS = "client_credentials"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class OAuthRefused(Exception):
    """The token request is refused; `error` is the RFC 6749 section 5.2 code."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description


class OAuthClient(BaseModel):
    """The one app a tenant trusts: a client id and secret (client credentials) and/or a
    public key with the user the JWT must name (JWT bearer)."""

    model_config = ConfigDict(frozen=True)

    client_id: str
    client_secret: SecretStr | None = None
    jwt_public_key_pem: str | None = None
    jwt_subject: str | None = None  # the pre-authorised user (sub)
    jwt_audience: str = "https://login.salesforce.com"


@dataclass(frozen=True)
class Grant:
    """Who a token was issued to."""

    client_id: str
    subject: str | None


def check_client_credentials(client: OAuthClient, form: dict[str, str]) -> Grant:
    secret = client.client_secret.get_secret_value() if client.client_secret else None
    given_id, given_secret = form.get("client_id", ""), form.get("client_secret", "")
    if (
        secret is None
        or not secrets.compare_digest(given_id, client.client_id)
        or not secrets.compare_digest(given_secret, secret)
    ):
        raise OAuthRefused("invalid_client", "invalid client credentials")
    return Grant(client.client_id, None)


def check_jwt_assertion(client: OAuthClient, assertion: str) -> Grant:
    """The assertion must be RS256-signed by the client's key, issued by the client id, for
    the configured subject and audience, and unexpired."""
    if not client.jwt_public_key_pem or not assertion:
        raise OAuthRefused("invalid_grant", "invalid assertion")
    try:
        claims = jwt.decode(
            assertion,
            client.jwt_public_key_pem,
            algorithms=["RS256"],
            audience=client.jwt_audience,
            issuer=client.client_id,
            options={"require": ["exp", "iss", "sub", "aud"]},
        )
    except jwt.InvalidAudienceError as exc:
        raise OAuthRefused("invalid_grant", "audience is invalid") from exc
    except jwt.ExpiredSignatureError as exc:
        raise OAuthRefused("invalid_grant", "expired authorization code") from exc
    except jwt.InvalidIssuerError as exc:
        raise OAuthRefused("invalid_client_id", "client identifier invalid") from exc
    except jwt.PyJWTError as exc:
        raise OAuthRefused("invalid_grant", "invalid assertion") from exc
    if claims["sub"] != client.jwt_subject:
        raise OAuthRefused("invalid_grant", "user hasn't approved this consumer")
    return Grant(client.client_id, claims["sub"])


class TokenIssuer:
    """Issues opaque bearer tokens and recognises the ones it issued."""

    def __init__(self, prefix: str = "") -> None:
        self._prefix = prefix
        self._tokens: dict[str, Grant] = {}
        self._lock = threading.Lock()

    def issue(self, grant: Grant) -> str:
        token = self._prefix + secrets.token_urlsafe(48)
        with self._lock:
            self._tokens[token] = grant
        return token

    def grant_of(self, authorization: str | None) -> Grant | None:
        """The grant behind an `Authorization: Bearer <token>` header, if any."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        with self._lock:
            return self._tokens.get(token.strip())

    def revoke_all(self) -> None:
        with self._lock:
            self._tokens.clear()
