"""The NetSuite sandbox: one account per tenant, under `/<tenant>/services/rest/...`.

- OAuth 2.0 client credentials (M2M): POST auth/oauth2/v1/token with a JWT client assertion
  signed by a mapped certificate (kid = its certificate id; PS256..ES512; iss = client id,
  aud = the token URL, exp at most an hour after iat, scope rest_webservices); one-hour tokens.
  https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_162755359851.html
  https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_162790605110.html
- Concurrency governance per account: a request beyond `concurrency_limit` in flight (the
  firm's other integrations hold some: `Account.hold`) is answered 429; so is one beyond the
  kit's request allocation (the control API's budget, for throttling on demand).
  https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/subsect_1559222360.html
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ..kit import BadJson, OAuthRefused, RecordStore, Request, RequestBudget, Response, Router, StoreLayout, Tenant
from ..kit.oauth import Grant
from . import records, suiteql
from .errors import NetSuiteError

REST = "/services/rest"
TOKEN_PATH = f"{REST}/auth/oauth2/v1/token"
ALGORITHMS = ["PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
CLIENT_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_SECONDS = 3600
# The sandbox's integration record and its mapped certificate (a well-known demo credential: the
# key is derived from this seed, so the local stack can sign with it without a key file).
DEMO_CLIENT_ID = "concord-sandbox-integration"
DEMO_CERTIFICATE_ID = "concord-sandbox-certificate"
DEMO_KEY_SEED = b"concord netsuite sandbox certificate"
TABLES = ("customer", "job", "salesOrder", "invoice", "customerPayment", "item", "currency", "term", "certificate")
REFERENCE_DATA: dict[str, list[dict[str, Any]]] = {
    "currency": [
        {"symbol": "USD", "name": "US Dollar"},
        {"symbol": "EUR", "name": "Euro"},
        {"symbol": "GBP", "name": "British pound"},
    ],
    "term": [
        {"name": "Net 15", "daysUntilNetDue": 15},
        {"name": "Net 30", "daysUntilNetDue": 30},
        {"name": "Net 60", "daysUntilNetDue": 60},
    ],
    "item": [
        {"itemId": "CONSULT-HR", "displayName": "Consulting hour", "basePrice": 150.0},
        {"itemId": "EXP-REBILL", "displayName": "Rebillable expenses", "basePrice": 0.0},
    ],
}


def demo_public_key_pem() -> str:
    secret = int.from_bytes(hashlib.sha256(DEMO_KEY_SEED).digest(), "big")
    key = ec.derive_private_key(secret, ec.SECP256R1())
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@dataclass
class Account(Tenant):
    concurrency_limit: int = 5
    in_flight: int = 0
    held: int = 0  # requests the firm's other integrations have in flight
    lock: threading.Lock = field(default_factory=threading.Lock)

    def hold(self, requests: int) -> None:
        """Other integrations of the firm keep `requests` of the account's limit busy."""
        with self.lock:
            self.held = requests

    def enter(self) -> bool:
        with self.lock:
            if self.in_flight + self.held >= self.concurrency_limit:
                return False
            self.in_flight += 1
            return True

    def leave(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def reset(self) -> None:
        super().reset()
        seed_reference_data(self)
        self.hold(0)


def format_time(moment: dt.datetime) -> str:
    """ISO 8601 in UTC to the second, as the record service writes datetimes."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def seed_reference_data(tenant: Tenant) -> None:
    for table, rows in REFERENCE_DATA.items():
        for row in rows:
            tenant.store.insert(table, dict(row))
    tenant.store.insert(
        "certificate",
        {"clientId": DEMO_CLIENT_ID, "certificateId": DEMO_CERTIFICATE_ID, "publicKeyPem": demo_public_key_pem()},
    )


def _router() -> Router:
    router = Router()
    record = f"{REST}/record/v1"
    router.add("GET", f"{record}/{{record_type}}/{{key}}", records.get_record)
    router.add("POST", f"{record}/{{record_type}}", records.create_record)
    router.add("PUT", f"{record}/{{record_type}}/{{key}}", records.upsert_record)
    router.add("PATCH", f"{record}/{{record_type}}/{{key}}", records.patch_record)
    router.add("POST", f"{record}/salesOrder/{{key}}/!transform/invoice", records.transform_to_invoice)
    router.add("POST", f"{REST}/query/v1/suiteql", suiteql.suiteql)
    return router


class NetSuiteSandbox:
    name = "netsuite"

    def __init__(self, *, concurrency_limit: int = 5, allocation: int = 100_000, window_seconds: float = 60.0) -> None:
        self._limit = concurrency_limit
        self._allocation, self._window = allocation, window_seconds
        self._router = _router()

    def new_tenant(self, name: str) -> Account:
        layout = StoreLayout(
            new_id=lambda table, n: str(100 + n),
            format_time=format_time,
            id_field="id",
            created_fields=("dateCreated", "createdDate"),
            modified_fields=("lastModifiedDate",),
        )
        account = Account(
            name=name,
            store=RecordStore(layout),
            budget=RequestBudget(self._allocation, self._window),
            concurrency_limit=self._limit,
        )
        seed_reference_data(account)
        return account

    def handle(self, tenant: Tenant, request: Request) -> Response:
        assert isinstance(tenant, Account)
        if request.method == "POST" and request.path == TOKEN_PATH:
            return self._token(tenant, request)
        if tenant.tokens.grant_of(request.header("Authorization")) is None:
            return NetSuiteError(
                401,
                "INVALID_LOGIN",
                "Invalid login attempt. For more details, see the Login Audit "
                "Trail in the NetSuite UI at Setup > Users/Roles > User "
                "Management > View Login Audit Trail.",
            ).response()
        if not tenant.enter():
            return NetSuiteError(
                429, "CONCURRENCY_LIMIT_EXCEEDED", "Concurrent request limit exceeded. Request blocked."
            ).response()
        try:
            if tenant.budget.take() is None:
                return NetSuiteError(429, "CONCURRENCY_LIMIT_EXCEEDED", "Request limit exceeded.").response()
            return self._route(tenant, request)
        finally:
            tenant.leave()

    def _route(self, tenant: Tenant, request: Request) -> Response:
        found = self._router.match(request.method, request.path)
        if found is None:
            status = 405 if self._router.allows_path(request.path) else 404
            return NetSuiteError(
                status,
                "INVALID_URL_PATH" if status == 404 else "METHOD_NOT_ALLOWED",
                f"The request path {request.path} is not supported.",
            ).response()
        handler, params = found
        try:
            return handler(tenant, request, **params)
        except NetSuiteError as error:
            return error.response()
        except BadJson as bad:
            return NetSuiteError(400, "INVALID_CONTENT", f"Invalid JSON in the request body: {bad}").response()

    def _token(self, tenant: Tenant, request: Request) -> Response:
        form = request.form()
        try:
            grant = _check_assertion(tenant, form, f"{request.tenant_url}{TOKEN_PATH}")
        except OAuthRefused as refused:
            return Response(400, {"error": refused.error, "error_description": refused.description})
        return Response(
            200, {"access_token": tenant.tokens.issue(grant), "token_type": "bearer", "expires_in": str(TOKEN_SECONDS)}
        )

    def seed(self, tenant: Tenant, table: str, records_: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if table not in TABLES:
            raise ValueError(f"no table {table!r}; known: {', '.join(TABLES)}")
        return [tenant.store.insert(table, record) for record in records_]


def _check_assertion(tenant: Tenant, form: dict[str, str], token_url: str) -> Grant:
    if form.get("grant_type") != "client_credentials":
        raise OAuthRefused("unsupported_grant_type", "grant_type must be client_credentials")
    if form.get("client_assertion_type") != CLIENT_ASSERTION:
        raise OAuthRefused("invalid_request", "client_assertion_type must be jwt-bearer")
    assertion = form.get("client_assertion", "")
    try:
        header = jwt.get_unverified_header(assertion)
    except jwt.PyJWTError as exc:
        raise OAuthRefused("invalid_request", "client_assertion is not a JWT") from exc
    certificates = tenant.store.find("certificate", "certificateId", header.get("kid"))
    if not certificates or header.get("alg") not in ALGORITHMS:
        raise OAuthRefused("invalid_client", "unknown certificate (kid) or algorithm")
    certificate = certificates[0]
    try:
        claims = jwt.decode(
            assertion,
            certificate["publicKeyPem"],
            algorithms=ALGORITHMS,
            audience=token_url,
            issuer=certificate["clientId"],
            options={"require": ["iss", "aud", "exp", "iat", "scope"]},
        )
    except jwt.PyJWTError as exc:
        raise OAuthRefused("invalid_grant", f"invalid client assertion: {type(exc).__name__}") from exc
    if claims["exp"] - claims["iat"] > TOKEN_SECONDS:
        raise OAuthRefused("invalid_grant", "exp must be less than 60 minutes after iat")
    if "rest_webservices" not in str(claims["scope"]).replace(" ", "").split(","):
        raise OAuthRefused("invalid_scope", "scope must include rest_webservices")
    return Grant(certificate["clientId"], None)
