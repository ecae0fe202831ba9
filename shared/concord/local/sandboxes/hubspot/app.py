"""The HubSpot CRM sandbox: one portal per tenant, with its objects, its app's tokens (a static
token, and OAuth refresh tokens traded for 30-minute access tokens) and its rate limits.

Every authenticated answer but search's carries `X-HubSpot-RateLimit-*`; a spent ten-secondly
window (the tenant budget; the control API sets it) or daily allocation is answered 429 with its
`policyName`; search has its own per-second limit and no headers. A missing or unknown token is
401 INVALID_AUTHENTICATION. https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..kit import BadJson, RecordStore, Request, RequestBudget, Response, Router, StoreLayout, Tenant
from ..kit.oauth import Grant
from . import routes
from .errors import ApiError
from .records import Objects, format_time
from .schema import ObjectSchema, crm_portal


@dataclass(frozen=True)
class App:
    """The app installed in a portal: its static token and its OAuth client with one install's refresh token."""

    static_token: str = "concord-sandbox-static-token"
    client_id: str = "concord-sandbox"
    client_secret: str = "concord-sandbox-secret"
    refresh_token: str = "concord-sandbox-refresh-token"
    expires_in: int = 1800


DEFAULT_APP = App()
TOKEN_PATH = "/oauth/{version}/token"


@dataclass
class Portal(Tenant):
    schema: dict[str, ObjectSchema] = field(default_factory=crm_portal)
    app: App = DEFAULT_APP
    required: dict[str, tuple[str, ...]] = field(default_factory=dict)
    daily: RequestBudget = field(default_factory=lambda: RequestBudget(1_000_000, 86_400.0))
    search_budget: RequestBudget = field(default_factory=lambda: RequestBudget(5, 1.0))
    expiry: dict[str, float] = field(default_factory=dict)  # access token -> when it stops working

    def objects(self, version: str) -> Objects:
        return Objects(self.schema, self.store, self.required, version)


def _router() -> Router:
    router = Router()
    base = "/crm/objects/{version}/{object_type}"
    router.add("POST", f"{base}/batch/read", routes.batch_read)
    router.add("POST", f"{base}/batch/update", routes.batch_update)
    router.add("POST", f"{base}/batch/upsert", routes.batch_upsert)
    router.add("POST", f"{base}/search", routes.search)
    router.add("GET", f"{base}/{{object_id}}", routes.get_object)
    router.add("PATCH", f"{base}/{{object_id}}", routes.update_object)
    router.add("POST", base, routes.create_object)
    return router


def _error(status: int, category: str, message: str, **extra: Any) -> Response:
    return Response(
        status,
        {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), "category": category, **extra},
    )


class HubSpotSandbox:
    name = "hubspot"

    def __init__(
        self,
        *,
        app: App = DEFAULT_APP,
        required: Mapping[str, tuple[str, ...]] | None = None,
        per_ten_seconds: int = 190,
        daily: int = 1_000_000,
        search_per_second: int = 5,
    ) -> None:
        self._app = app
        self._required = dict(required or {})
        self._limits = (per_ten_seconds, daily, search_per_second)
        self._router = _router()

    def new_tenant(self, name: str) -> Portal:
        layout = StoreLayout(
            new_id=lambda table, n: str(10_000 + n),
            format_time=format_time,
            id_field="id",
            created_fields=("createdAt",),
            modified_fields=("updatedAt",),
        )
        burst, daily, search = self._limits
        return Portal(
            name=name,
            store=RecordStore(layout),
            budget=RequestBudget(burst, 10.0),
            app=self._app,
            required=dict(self._required),
            daily=RequestBudget(daily, 86_400.0),
            search_budget=RequestBudget(search, 1.0),
        )

    def handle(self, tenant: Tenant, request: Request) -> Response:
        portal = tenant if isinstance(tenant, Portal) else None
        assert portal is not None, "a HubSpot tenant is a Portal"
        parts = request.path.strip("/").split("/")
        if request.method == "POST" and len(parts) == 3 and parts[0] == "oauth" and parts[2] == "token":
            return token_answer(portal, request)
        if not self._authorised(portal, request.header("Authorization")):
            return _error(
                401,
                "INVALID_AUTHENTICATION",
                "Authentication credentials not found. This API supports "
                "OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
            )
        if request.path.endswith("/search"):
            if portal.search_budget.take() is None:
                return _error(429, "RATE_LIMITS", "You have reached your secondly limit.", policyName="SECONDLY")
            return self._answer(portal, request)
        window, day = portal.budget.take(), portal.daily.take()
        if window is None or day is None:
            policy = "TEN_SECONDLY_ROLLING" if window is None else "DAILY"
            response = _error(
                429,
                "RATE_LIMITS",
                f"You have reached your {policy.lower()} limit.",
                errorType="RATE_LIMIT",
                policyName=policy,
            )
        else:
            response = self._answer(portal, request)
        response.headers.update(_limit_headers(portal))
        return response

    def _authorised(self, portal: Portal, authorization: str | None) -> bool:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return False
        if secrets.compare_digest(token, portal.app.static_token):
            return True
        return portal.tokens.grant_of(authorization) is not None and portal.expiry.get(token, 0) > time.time()

    def _answer(self, portal: Portal, request: Request) -> Response:
        found = self._router.match(request.method, request.path)
        if found is None:
            status = 405 if self._router.allows_path(request.path) else 404
            return _error(
                status,
                "OBJECT_NOT_FOUND" if status == 404 else "VALIDATION_ERROR",
                "resource not found" if status == 404 else f"{request.method} not allowed",
            )
        handler, params = found
        try:
            return handler(portal.objects(params.pop("version")), request, **params)
        except ApiError as error:
            return error.response()
        except BadJson as bad:
            return _error(400, "VALIDATION_ERROR", f"Invalid input JSON: {bad}")

    def seed(self, tenant: Tenant, table: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        portal = tenant if isinstance(tenant, Portal) else None
        if portal is None or table not in portal.schema:
            raise ValueError(f"no object type {table!r} in this portal")
        return [portal.store.insert(table, {**record, "_associations": {}}) for record in records]


def _limit_headers(portal: Portal) -> dict[str, str]:
    window, day = portal.budget.usage(), portal.daily.usage()
    return {
        "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(portal.budget.window_seconds * 1000)),
        "X-HubSpot-RateLimit-Max": str(window.allocation),
        "X-HubSpot-RateLimit-Remaining": str(max(0, window.allocation - window.used)),
        "X-HubSpot-RateLimit-Daily": str(day.allocation),
        "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, day.allocation - day.used)),
    }


def token_answer(portal: Portal, request: Request) -> Response:
    """The refresh-token grant: https://developers.hubspot.com/docs/api-reference/2026-03/authentication/oauth-tokens/refresh-oauth-token"""
    form, app = request.form(), portal.app
    if form.get("grant_type") != "refresh_token":
        return Response(
            400,
            {
                "status": "BAD_GRANT_TYPE",
                "message": "grant_type must be refresh_token",
                "correlationId": str(uuid.uuid4()),
            },
        )
    if not (
        secrets.compare_digest(form.get("client_id", ""), app.client_id)
        and secrets.compare_digest(form.get("client_secret", ""), app.client_secret)
    ):
        return Response(
            400,
            {
                "status": "BAD_CLIENT_ID",
                "message": "missing or invalid client credentials",
                "correlationId": str(uuid.uuid4()),
            },
        )
    if not secrets.compare_digest(form.get("refresh_token", ""), app.refresh_token):
        return Response(
            400,
            {
                "status": "BAD_REFRESH_TOKEN",
                "message": "missing or unknown refresh token",
                "correlationId": str(uuid.uuid4()),
            },
        )
    token = portal.tokens.issue(Grant(app.client_id, None))
    portal.expiry[token] = time.time() + app.expires_in
    return Response(
        200,
        {
            "access_token": token,
            "refresh_token": app.refresh_token,
            "token_type": "bearer",
            "expires_in": app.expires_in,
        },
    )
