"""The Xero sandbox (Accounting API 2.0): one organisation per sandbox tenant, under `/<tenant>`:

    POST /<tenant>/connect/token                      client credentials (a Custom Connection)
    GET|PUT|POST /<tenant>/api.xro/2.0/Contacts[/<id or ContactNumber>]
    GET|PUT|POST /<tenant>/api.xro/2.0/Invoices[/<id>]
    GET|PUT      /<tenant>/api.xro/2.0/Payments[/<id>]
    GET          /<tenant>/api.xro/2.0/Items

Every API call needs the bearer token and `xero-tenant-id` (the organisation). The limits are
counted per app and organisation, as Xero counts them, and answered as Xero answers them: 429
with `Retry-After` and `X-Rate-Limit-Problem` (minute, day, concurrent) over 60 calls a minute,
5,000 a day or 5 in progress (all configurable; the control API's budget is Concord's app's). An
`Idempotency-Key` seen before is answered with the first answer again.
https://developer.xero.com/documentation/guides/oauth2/limits/
https://developer.xero.com/documentation/guides/idempotent-requests/idempotency/
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from ..kit import BadJson, OAuthClient, RecordStore, Request, RequestBudget, Response, StoreLayout, Tenant, TokenIssuer
from ..kit.oauth import Grant
from . import routes
from .books import Books, ms_date
from .errors import XeroError, problem, validation

ORGANISATION_ID = "2f8f6c4e-4a5e-4d7b-9e0f-7c3b1a9d5e21"
API_PREFIX = "/api.xro/2.0/"
DEFAULT_CLIENT = OAuthClient(client_id="concord-xero-app", client_secret=SecretStr("concord-xero-secret"))
# Finance's own custom connection (the scenario drivers), so the call log tells Concord's calls apart.
FINANCE_CLIENT = OAuthClient(client_id="concord-xero-finance", client_secret=SecretStr("concord-xero-finance-secret"))


def _new_id(table: str, sequence: int) -> str:
    return str(uuid.UUID(int=(0x7E40 << 112) | sequence))


@dataclass
class AppLimits:
    """One app's calls to the organisation: a minute and a day allocation, and calls in progress."""

    minute: RequestBudget
    day: RequestBudget
    in_flight: int = 0


@dataclass
class XeroTenant(Tenant):
    clients: tuple[OAuthClient, ...] = (DEFAULT_CLIENT, FINANCE_CLIENT)
    limits: dict[str, AppLimits] = field(default_factory=dict)
    per_day: int = 5000
    replays: dict[str, Response] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    today: Callable[[], dt.date] = field(default=lambda: dt.datetime.now(dt.UTC).date())

    def reset(self) -> None:
        super().reset()
        self.limits.clear()
        self.replays.clear()
        self.books().seed_items()

    def limits_of(self, client_id: str) -> AppLimits:
        """The app's limits; Concord's app counts on the tenant's budget (the control API's)."""
        with self.lock:
            if client_id not in self.limits:
                minute = (
                    self.budget
                    if client_id == DEFAULT_CLIENT.client_id
                    else RequestBudget(self.budget.allocation, self.budget.window_seconds)
                )
                self.limits[client_id] = AppLimits(minute, RequestBudget(self.per_day, 86_400.0))
            return self.limits[client_id]

    def books(self) -> Books:
        return Books(self.store, self.today())


class XeroSandbox:
    name = "xero"

    def __init__(
        self, *, per_minute: int = 60, per_day: int = 5000, concurrent: int = 5, retry_after_seconds: int = 5
    ) -> None:
        self.per_minute, self.per_day, self.concurrent = per_minute, per_day, concurrent
        self.retry_after_seconds = retry_after_seconds

    def new_tenant(self, name: str) -> XeroTenant:
        layout = StoreLayout(
            new_id=_new_id, format_time=lambda moment: moment, id_field="_id", modified_fields=("_updated",)
        )
        tenant = XeroTenant(
            name=name,
            store=RecordStore(layout),
            budget=RequestBudget(self.per_minute, 60.0),
            tokens=TokenIssuer("xero."),
            per_day=self.per_day,
        )
        tenant.books().seed_items()
        return tenant

    def handle(self, tenant: Tenant, request: Request) -> Response:
        assert isinstance(tenant, XeroTenant)
        try:
            if request.path == "/connect/token" and request.method == "POST":
                return self._token(tenant, request)
            if not request.path.startswith(API_PREFIX):
                raise problem(404, "NotFound", "The resource you're looking for cannot be found")
            return self._api(tenant, request)
        except XeroError as error:
            return error.response()
        except BadJson as bad:
            return validation([f"The request body could not be read: {bad}"]).response()

    def seed(self, tenant: Tenant, table: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [tenant.store.insert(table, record) for record in records]

    # -- steps ----------------------------------------------------------------------------------

    def _api(self, tenant: XeroTenant, request: Request) -> Response:
        grant = tenant.tokens.grant_of(request.header("Authorization"))
        if grant is None:
            raise problem(401, "Unauthorized", "AuthenticationUnsuccessful")
        if (request.header("xero-tenant-id") or "").lower() != ORGANISATION_ID:
            raise problem(403, "Forbidden", "AuthenticationUnsuccessful: the tenant is not connected")
        limits = tenant.limits_of(grant.client_id)
        if limits.day.take() is None:
            raise self._throttled("day")
        if limits.minute.take() is None:
            raise self._throttled("minute")
        with tenant.lock:
            limits.in_flight += 1
            over = limits.in_flight > self.concurrent
        try:
            if over:
                raise self._throttled("concurrent")
            return self._replayed(tenant, request)
        finally:
            with tenant.lock:
                limits.in_flight -= 1

    def _replayed(self, tenant: XeroTenant, request: Request) -> Response:
        key = request.header("Idempotency-Key") if request.method in ("PUT", "POST") else None
        if key and key in tenant.replays:
            return tenant.replays[key]
        try:
            answer = routes.answer(tenant.books(), request, request.path.removeprefix(API_PREFIX))
        except XeroError as error:
            answer = error.response()
        if isinstance(answer.body, dict) and answer.status == 200:
            answer.body = {**_envelope(), **answer.body}
        if key and answer.status < 500:
            tenant.replays[key] = answer
        return answer

    def _throttled(self, problem_name: str) -> XeroError:
        headers = {"Retry-After": str(self.retry_after_seconds), "X-Rate-Limit-Problem": problem_name}
        return problem(429, "TooManyRequests", f"Rate limit exceeded: {problem_name}", headers)

    def _token(self, tenant: XeroTenant, request: Request) -> Response:
        form = request.form()
        if form.get("grant_type") != "client_credentials":
            return Response(400, {"error": "unsupported_grant_type"})
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        for client in tenant.clients:
            known = client.client_secret.get_secret_value() if client.client_secret else ""
            if client_id == client.client_id and secret == known:
                token = tenant.tokens.issue(Grant(client.client_id, None))
                scope = form.get("scope") or "accounting.transactions accounting.contacts accounting.settings"
                return Response(
                    200, {"access_token": token, "expires_in": 1800, "token_type": "Bearer", "scope": scope}
                )
        return Response(400, {"error": "invalid_client"})


def _envelope() -> dict[str, Any]:
    """What Xero puts around every list answer (not in its OpenAPI document)."""
    return {
        "Id": str(uuid.uuid4()),
        "Status": "OK",
        "ProviderName": "Concord",
        "DateTimeUTC": ms_date(dt.datetime.now(dt.UTC)),
    }
