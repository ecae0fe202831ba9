"""The Business Central sandbox (API v2.0): one Entra tenant and environment per sandbox
tenant, under `/<tenant>/...`:

    POST /<tenant>/<entra tenant>/oauth2/v2.0/token          client credentials (Entra ID)
    *    /<tenant>/v2.0/<entra tenant>/<environment>/api/v2.0/companies(<id>)/...
    POST /<tenant>/v2.0/<entra tenant>/<environment>/api/v2.0/$batch
    *    /<tenant>/v2.0/<entra tenant>/<environment>/api/v2.0/subscriptions[('<id>')]

A spent request allocation (6,000 per 5 minutes by default) is answered 429 with Retry-After.
https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/dynamics-rate-limits
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from ..kit import (
    BadJson,
    OAuthClient,
    RecordStore,
    Request,
    RequestBudget,
    Response,
    StoreLayout,
    Tenant,
    TokenIssuer,
)
from ..kit.oauth import Grant
from . import entities
from .batch import run_batch
from .company import DEFAULT_COMPANY_ID, DEFAULT_COMPANY_NAME, Company
from .errors import BcError, not_found
from .subscriptions import Handshake, Subscriptions, http_handshake

ENTRA_TENANT = "concord-sandbox.onmicrosoft.com"
ENVIRONMENT = "sandbox"
SCOPE = "https://api.businesscentral.dynamics.com/.default"
API_PREFIX = f"/v2.0/{ENTRA_TENANT}/{ENVIRONMENT}/api/v2.0"
DEFAULT_CLIENT = OAuthClient(client_id="concord-bc-app", client_secret=SecretStr("concord-bc-secret"))
# Finance's own app (the scenario drivers), so the call log tells Concord's calls apart.
FINANCE_CLIENT = OAuthClient(client_id="concord-bc-finance", client_secret=SecretStr("concord-bc-finance-secret"))
_SEGMENT = re.compile(r"^([A-Za-z][\w.]*)(?:\((.*)\))?$")


def format_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _new_id(table: str, sequence: int) -> str:
    """A GUID, unique by the store's sequence."""
    return f"{sequence:08x}-4bc0-4e11-8a6a-6045bdacc1a1"


COMPANY = {
    "id": DEFAULT_COMPANY_ID,
    "systemVersion": "25.0",
    "name": DEFAULT_COMPANY_NAME,
    "displayName": DEFAULT_COMPANY_NAME,
    "businessProfileId": "",
}


@dataclass
class BcTenant(Tenant):
    clients: tuple[OAuthClient, ...] = (DEFAULT_CLIENT, FINANCE_CLIENT)
    today: Callable[[], dt.date] = field(default=lambda: dt.datetime.now(dt.UTC).date())

    def reset(self) -> None:
        super().reset()
        self.seed_company()

    def seed_company(self) -> None:
        Company(self.store, DEFAULT_COMPANY_ID).seed_reference_data(self.today())


class BusinessCentralSandbox:
    name = "business_central"

    def __init__(
        self,
        *,
        allocation: int = 6000,
        window_seconds: float = 300.0,
        page_size: int = 20000,
        retry_after_seconds: int = 5,
        handshake: Handshake = http_handshake,
    ) -> None:
        self._allocation, self._window = allocation, window_seconds
        self.page_size = page_size
        self.retry_after_seconds = retry_after_seconds
        self.subscriptions = Subscriptions(handshake, lambda: dt.datetime.now(dt.UTC))

    def new_tenant(self, name: str) -> BcTenant:
        layout = StoreLayout(
            new_id=_new_id, format_time=format_time, id_field="id", modified_fields=("lastModifiedDateTime",)
        )
        tenant = BcTenant(
            name=name,
            store=RecordStore(layout),
            budget=RequestBudget(self._allocation, self._window),
            tokens=TokenIssuer("bc."),
        )
        tenant.seed_company()
        return tenant

    def handle(self, tenant: Tenant, request: Request) -> Response:
        try:
            return self._answer(tenant, request)
        except BcError as error:
            return error.response()
        except BadJson as bad:
            return BcError(400, "BadRequest", f"Invalid JSON: {bad}").response()

    def seed(self, tenant: Tenant, table: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        company = Company(tenant.store, DEFAULT_COMPANY_ID)
        return [company.insert(table, record) for record in records]

    # -- steps ----------------------------------------------------------------------------------

    def _answer(self, tenant: Tenant, request: Request) -> Response:
        parts = request.path.strip("/").split("/")
        if len(parts) == 4 and parts[1:] == ["oauth2", "v2.0", "token"] and request.method == "POST":
            return self._token(tenant, request, parts[0])
        if len(parts) < 6 or parts[0] != "v2.0" or parts[3:5] != ["api", "v2.0"]:
            raise not_found("resource")
        if parts[1] != ENTRA_TENANT or parts[2] != ENVIRONMENT:
            raise BcError(404, "NoEnvironment", f"The environment '{parts[2]}' of tenant '{parts[1]}' does not exist.")
        if tenant.tokens.grant_of(request.header("Authorization")) is None:
            return BcError(401, "Unauthorized", "The credentials provided are incorrect").response()
        if tenant.budget.take() is None:
            raise BcError(
                429,
                "Application_TooManyRequests",
                "Too many requests reached. Actual (6001). Maximum (6000).",
                {"Retry-After": str(self.retry_after_seconds)},
            )
        rest = "/".join(parts[5:])
        if rest == "$batch" and request.method == "POST":
            return run_batch(
                request, API_PREFIX, lambda inner: self.handle_api(tenant, inner), tenant.store.transaction
            )
        return self.handle_api(tenant, request)

    def handle_api(self, tenant: Tenant, request: Request) -> Response:
        """One API call below API_PREFIX (also each operation of a `$batch`)."""
        try:
            below = request.path.removeprefix(API_PREFIX)
            segments = [_segment(part) for part in below.strip("/").split("/")]
            if segments[0][0] == "subscriptions" and len(segments) == 1:
                return self.subscriptions.handle(tenant, request, segments[0][1] and segments[0][1].strip("'"))
            if segments[0][0] != "companies":
                raise not_found(f"resource '{segments[0][0]}'")
            company_id = segments[0][1]
            if len(segments) == 1 and company_id is None and request.method == "GET":
                return Response(200, {"value": [COMPANY]})
            if company_id != DEFAULT_COMPANY_ID:
                raise _no_company()
            if len(segments) == 1:
                return Response(200, COMPANY)
            today = getattr(tenant, "today", lambda: dt.datetime.now(dt.UTC).date())
            return entities.route(Company(tenant.store, company_id), request, segments[1:], self.page_size, today)
        except BcError as error:
            return error.response()
        except BadJson as bad:
            return BcError(400, "BadRequest", f"Invalid JSON: {bad}").response()

    def _token(self, tenant: Tenant, request: Request, entra_tenant: str) -> Response:
        form = request.form()
        if entra_tenant != ENTRA_TENANT:
            return Response(
                400,
                {"error": "invalid_request", "error_description": f"AADSTS90002: Tenant '{entra_tenant}' not found."},
            )
        if form.get("grant_type") != "client_credentials":
            return Response(400, {"error": "unsupported_grant_type", "error_description": "AADSTS70003"})
        if form.get("scope") != SCOPE:
            return Response(
                400,
                {
                    "error": "invalid_scope",
                    "error_description": "AADSTS70011: The provided value for scope is not valid.",
                },
            )
        clients: tuple[OAuthClient, ...] = getattr(tenant, "clients", ())
        for client in clients:
            secret = client.client_secret.get_secret_value() if client.client_secret else ""
            if form.get("client_id") == client.client_id and form.get("client_secret") == secret:
                token = tenant.tokens.issue(Grant(client.client_id, None))
                return Response(
                    200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}
                )
        return Response(
            401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."}
        )


def _segment(part: str) -> tuple[str, str | None]:
    match = _SEGMENT.match(part)
    if match is None:
        raise BcError(400, "BadRequest_InvalidToken", f"Invalid segment '{part}'.")
    name, key = match.group(1), match.group(2)
    if key is not None and name != "subscriptions" and not re.fullmatch(r"'?[0-9a-fA-F-]{36}'?", key):
        raise BcError(400, "BadRequest_InvalidToken", f"'{key}' is not a valid GUID.")
    return name, key


def _no_company() -> BcError:
    return BcError(
        404, "Internal_CompanyNotFound", "Cannot process the request because the default company cannot be found."
    )
