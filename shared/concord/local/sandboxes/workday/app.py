"""The Workday sandbox: one Workday tenant per sandbox tenant, under `/<tenant>/...`:

    POST /<tenant>/ccx/service/<workday tenant>/Revenue_Management/v45.0    SOAP 1.1 (WWS)
    POST /<tenant>/ccx/oauth2/<workday tenant>/token                        refresh_token grant

Callers sign in as an Integration System User with a WS-Security UsernameToken
(`user@tenant`, PasswordText), or send a bearer token from the OAuth endpoint (an API client
for integrations with a non-expiring refresh token). Bad credentials are a SOAP fault; a bad
bearer token is HTTP 401. Workday publishes no rate limit: a spent allocation (the sandbox's
choice, 600 a minute by default) is answered HTTP 503 with Retry-After.
https://community.workday.com/sites/default/files/file-hosting/productionapi/index.html
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from ..kit import OAuthClient, RecordStore, Request, RequestBudget, Response, StoreLayout, Tenant, TokenIssuer
from ..kit.oauth import Grant
from .envelope import NS, XML_TYPE, SoapFault, envelope, parse, text
from .operations import OPERATIONS

WORKDAY_TENANT = "concord_sandbox"
SERVICE = "Revenue_Management"
VERSIONS = ("v44.0", "v44.1", "v44.2", "v45.0", "v45.1")
# Concord's Integration System User and finance's own user (the scenario drivers), so the call
# log tells Concord's calls apart.
INTEGRATION_USER = f"ISU_Concord@{WORKDAY_TENANT}"
INTEGRATION_PASSWORD = "concord-isu-password"  # a sandbox's well-known demo credential
FINANCE_USER = f"Finance_Clerk@{WORKDAY_TENANT}"
FINANCE_PASSWORD = "concord-finance-password"  # a sandbox's well-known demo credential
# The API client for integrations, and the ISU's non-expiring refresh token it was issued.
API_CLIENT = OAuthClient(client_id="concord-workday-client", client_secret=SecretStr("concord-workday-secret"))
REFRESH_TOKEN = "concord-workday-refresh-token"  # a sandbox's well-known demo credential
COMPANY = "US01"
REFERENCE_DATA: dict[str, list[dict[str, Any]]] = {
    "companies": [{"Company_Reference_ID": COMPANY, "name": "Concord Services US"}],
    "sales_items": [
        {"Sales_Item_ID": "CONSULT-HR", "price": "150"},
        {"Sales_Item_ID": "EXP-REBILL", "price": "0"},
        {"Sales_Item_ID": "SUPPORT-YR", "price": "12000"},
        {"Sales_Item_ID": "MILESTONE", "price": "3000"},
    ],
    "payment_terms": [
        {"Payment_Terms_ID": "Immediate", "days": 0},
        {"Payment_Terms_ID": "Net_15", "days": 15},
        {"Payment_Terms_ID": "Net_30", "days": 30},
        {"Payment_Terms_ID": "Net_45", "days": 45},
    ],
}
_PASSWORD_TEXT = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"


def format_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds")


def _new_wid(table: str, sequence: int) -> str:
    """A Workday ID: 32 hex digits, unique by the store's sequence."""
    return f"3b5d7a1e0c2f4e6b8a9d{sequence:012x}"


@dataclass
class WorkdayTenant(Tenant):
    users: dict[str, str] = field(
        default_factory=lambda: {INTEGRATION_USER: INTEGRATION_PASSWORD, FINANCE_USER: FINANCE_PASSWORD}
    )
    today: Callable[[], dt.date] = field(default=lambda: dt.datetime.now(dt.UTC).date())

    def reset(self) -> None:
        super().reset()
        self.seed_reference_data()

    def seed_reference_data(self) -> None:
        for table, rows in REFERENCE_DATA.items():
            for row in rows:
                self.store.insert(table, dict(row))


class WorkdaySandbox:
    name = "workday"

    def __init__(self, *, allocation: int = 600, window_seconds: float = 60.0, retry_after_seconds: int = 5) -> None:
        self._allocation, self._window = allocation, window_seconds
        self.retry_after_seconds = retry_after_seconds

    def new_tenant(self, name: str) -> WorkdayTenant:
        layout = StoreLayout(new_id=_new_wid, format_time=format_time, id_field="wid", modified_fields=("updated",))
        tenant = WorkdayTenant(
            name=name,
            store=RecordStore(layout),
            budget=RequestBudget(self._allocation, self._window),
            tokens=TokenIssuer("wd."),
        )
        tenant.seed_reference_data()
        return tenant

    def seed(self, tenant: Tenant, table: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [tenant.store.insert(table, record) for record in records]

    def handle(self, tenant: Tenant, request: Request) -> Response:
        parts = request.path.strip("/").split("/")
        if request.method != "POST" or len(parts) < 4 or parts[0] != "ccx":
            return Response(404, b"Not Found", {"Content-Type": "text/plain"})
        if parts[1] == "oauth2" and parts[3:] == ["token"] and parts[2] == WORKDAY_TENANT:
            return self._token(tenant, request)
        if parts[1] != "service" or parts[2] != WORKDAY_TENANT or len(parts) != 5:
            return Response(404, b"Not Found", {"Content-Type": "text/plain"})
        try:
            return self._soap(tenant, request, service=parts[3], version=parts[4])
        except SoapFault as fault:
            return Response(500, fault.envelope(), {"Content-Type": XML_TYPE})

    # -- steps ----------------------------------------------------------------------------------

    def _soap(self, tenant: Tenant, request: Request, *, service: str, version: str) -> Response:
        header, operation = parse(request.body)
        bearer = request.header("Authorization")
        if bearer is not None:
            if tenant.tokens.grant_of(bearer) is None:
                return Response(401, b"invalid token", {"Content-Type": "text/plain"})
        elif not self._signed_in(tenant, header):
            raise SoapFault("SOAP-ENV:Client.authenticationError", "invalid username or password", validation=False)
        if tenant.budget.take() is None:
            headers = {"Retry-After": str(self.retry_after_seconds), "Content-Type": "text/plain"}
            return Response(503, b"Service Unavailable", headers)
        if service != SERVICE or version not in VERSIONS:
            raise SoapFault("SOAP-ENV:Client", f"Invalid request service: {service}/{version}", validation=False)
        name = operation.tag.rpartition("}")[2]
        handler = OPERATIONS.get(name) if operation.tag.startswith(f"{{{NS['wd']}}}") else None
        if handler is None:
            raise SoapFault(
                "SOAP-ENV:Client", f"Invalid request: {name} is not an operation of {SERVICE}", validation=False
            )
        today = getattr(tenant, "today", lambda: dt.datetime.now(dt.UTC).date())()
        answer = handler(tenant.store, operation, today)
        return Response(200, envelope(answer), {"Content-Type": XML_TYPE})

    @staticmethod
    def _signed_in(tenant: Tenant, header: ET.Element | None) -> bool:
        token = header.find("wsse:Security/wsse:UsernameToken", NS) if header is not None else None
        if token is None:
            return False
        password = token.find("wsse:Password", NS)
        if password is not None and password.get("Type", _PASSWORD_TEXT) != _PASSWORD_TEXT:
            return False
        users: dict[str, str] = getattr(tenant, "users", {})
        username = text(token, "wsse:Username")
        return username in users and text(token, "wsse:Password") == users[username]

    def _token(self, tenant: Tenant, request: Request) -> Response:
        # https://community.workday.com/sites/default/files/file-hosting/restapi/index.html (OAuth 2.0)
        form = request.form()
        secret = API_CLIENT.client_secret.get_secret_value() if API_CLIENT.client_secret else ""
        if form.get("grant_type") != "refresh_token":
            return Response(400, {"error": "unsupported_grant_type"})
        if form.get("client_id") != API_CLIENT.client_id or form.get("client_secret") != secret:
            return Response(401, {"error": "invalid_client"})
        if form.get("refresh_token") != REFRESH_TOKEN:
            return Response(400, {"error": "invalid_grant"})
        token = tenant.tokens.issue(Grant(API_CLIENT.client_id, None))
        return Response(200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600})
