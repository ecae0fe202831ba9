"""The Salesforce REST sandbox (API v67.0): one org per tenant, each with its schema (a CRM
org, or an org with Certinia PSA installed), records, tokens and request allocation.

Every answer after authentication carries `Sforce-Limit-Info: api-usage=N/M`; a spent
allocation is answered 403 REQUEST_LIMIT_EXCEEDED, a missing or unknown token 401
INVALID_SESSION_ID. https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..kit import (
    BadJson,
    Cursors,
    OAuthClient,
    RecordStore,
    Request,
    RequestBudget,
    Response,
    Router,
    StoreLayout,
    Tenant,
)
from . import routes_collections as collections
from . import routes_records as rows
from .auth import token_answer
from .errors import ApiError
from .ids import new_id
from .objects import crm_org, psa_org
from .org import DEFAULT_CLIENT, Org
from .records import error_list
from .schema import Schema
from .validation import RecordRejected
from .values import format_datetime

API = rows.API_PATH
# Tenant name -> the org it plays; any other tenant is a CRM org with PSA installed.
DEFAULT_ORGS: dict[str, Callable[[], Schema]] = {"crm": crm_org, "psa": psa_org}


def _router() -> Router:
    router = Router()
    router.add("GET", f"{API}/query", rows.query)
    router.add("GET", f"{API}/query/{{locator}}", rows.query_more)
    router.add("POST", f"{API}/composite/sobjects", collections.create_records)
    router.add("PATCH", f"{API}/composite/sobjects", collections.update_records)
    router.add("PATCH", f"{API}/composite/sobjects/{{sobject}}/{{field}}", collections.upsert_records)
    router.add("POST", f"{API}/sobjects/{{sobject}}", rows.create_record)
    router.add("GET", f"{API}/sobjects/{{sobject}}/{{record_id}}", rows.get_record)
    router.add("PATCH", f"{API}/sobjects/{{sobject}}/{{record_id}}", rows.update_record)
    router.add("DELETE", f"{API}/sobjects/{{sobject}}/{{record_id}}", rows.delete_record)
    router.add("PATCH", f"{API}/sobjects/{{sobject}}/{{field}}/{{value}}", rows.upsert_record)
    return router


class SalesforceSandbox:
    name = "salesforce"

    def __init__(
        self,
        *,
        clients: Mapping[str, OAuthClient] | None = None,
        orgs: Mapping[str, Callable[[], Schema]] | None = None,
        allocation: int = 100_000,
        window_seconds: float = 86_400.0,
    ) -> None:
        self._clients = dict(clients or {})
        self._orgs = dict(orgs or DEFAULT_ORGS)
        self._allocation = allocation
        self._window = window_seconds
        self._router = _router()

    def new_tenant(self, name: str) -> Org:
        schema = self._orgs.get(name, psa_org)()
        layout = StoreLayout(
            new_id=lambda table, n: new_id(schema.get(table).key_prefix, n),  # type: ignore[union-attr]
            format_time=format_datetime,
            created_fields=("CreatedDate",),
            modified_fields=("LastModifiedDate", "SystemModstamp"),
        )
        return Org(
            name=name,
            store=RecordStore(layout),
            budget=RequestBudget(self._allocation, self._window),
            cursors=Cursors(prefix="01gSb"),
            schema=schema,
            client=self._clients.get(name, DEFAULT_CLIENT),
        )

    def handle(self, tenant: Tenant, request: Request) -> Response:
        org = tenant if isinstance(tenant, Org) else None
        assert org is not None, "a Salesforce tenant is an Org"
        if request.path == "/services/oauth2/token" and request.method == "POST":
            return token_answer(org, org.client, request)
        if org.tokens.grant_of(request.header("Authorization")) is None:
            return Response(401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
        usage = org.budget.take()
        if usage is None:
            spent = org.budget.usage()
            return Response(
                403,
                [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}],
                {"Sforce-Limit-Info": f"api-usage={spent.used}/{spent.allocation}"},
            )
        response = self._answer(org, request)
        response.headers["Sforce-Limit-Info"] = f"api-usage={usage.used}/{usage.allocation}"
        return response

    def _answer(self, org: Org, request: Request) -> Response:
        found = self._router.match(request.method, request.path)
        if found is None:
            if self._router.allows_path(request.path):
                return Response(
                    405,
                    [{"errorCode": "METHOD_NOT_ALLOWED", "message": f"HTTP Method '{request.method}' not allowed."}],
                )
            return Response(404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}])
        handler, params = found
        try:
            return handler(org, request, **params)
        except ApiError as error:
            return error.response()
        except RecordRejected as rejected:
            return Response(400, error_list(rejected.errors))
        except BadJson as bad:
            return Response(400, [{"errorCode": "JSON_PARSER_ERROR", "message": str(bad)}])

    def seed(self, tenant: Tenant, table: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        org = tenant if isinstance(tenant, Org) else None
        sobject = org.schema.get(table) if org else None
        if org is None or sobject is None:
            raise ValueError(f"no sObject {table!r} in this org")
        stored = []
        for record in records:
            fields = {
                (sobject.field(k).name if sobject.field(k) else k): v  # type: ignore[union-attr]
                for k, v in record.items()
            }
            stored.append(org.store.insert(sobject.name, fields))
        return stored
