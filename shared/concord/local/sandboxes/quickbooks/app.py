"""The QuickBooks Online sandbox (Accounting API v3): one company (realm) per sandbox tenant.

    POST /<tenant>/oauth2/v1/tokens/bearer                        refresh_token grant (rotating)
    GET  /<tenant>/v3/company/<realm>/<entity>/<id>               read
    POST /<tenant>/v3/company/<realm>/<entity>[?requestid=]       create, or update (Id + SyncToken)
    GET  /<tenant>/v3/company/<realm>/query?query=...             the query language subset
    POST /<tenant>/v3/company/<realm>/batch                       up to 30 items, run one by one
    GET  /<tenant>/v3/company/<realm>/cdc?entities=&changedSince= changes of the last 30 days

Refresh tokens rotate: each refresh answers a new one and the one spent is refused afterwards
(invalid_grant), as Intuit's token endpoint does. A write sent again with the same `requestid`
gets the first answer back. More than 10 requests a second from one app, or 500 a minute from
every app together (configurable), are answered 429.
https://developer.intuit.com/app/developer/qbo/docs/learn/limits-and-throttles
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..kit import BadJson, RecordStore, Request, RequestBudget, Response, StoreLayout, Tenant, TokenIssuer
from ..kit.oauth import Grant
from .entities import BY_PATH, Company, QboError, invalid
from .query import QueryError, parse, run

REALM_ID = "9341453050298"
CLIENT_ID = "concord-qbo-app"
CLIENT_SECRET = "concord-qbo-secret"
FINANCE_CLIENT_ID = "concord-qbo-finance"
FINANCE_CLIENT_SECRET = "concord-qbo-finance-secret"
# The refresh token each app's install starts with (the authorization code exchange is not played).
FIRST_REFRESH_TOKENS = {CLIENT_ID: "qbo-refresh-concord-0", FINANCE_CLIENT_ID: "qbo-refresh-finance-0"}
BATCH_LIMIT = 30
CDC_DAYS = 30
CDC_LIMIT = 1000
SERVICE_ITEM = {"Name": "CONSULT-HR", "Type": "Service", "UnitPrice": 150, "IncomeAccountRef": {"value": "79"}}
# QuickBooks' standard terms, and the one the demo company's rules name.
TERMS = (
    {"Name": "Net 30", "DueDays": 30},
    {"Name": "Net 15", "DueDays": 15},
    {"Name": "Due on receipt", "DueDays": 0},
    {"Name": "Net 30 days", "DueDays": 30},
)


def _now_text() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def fault_response(error: QboError) -> Response:
    return Response(error.status, {"Fault": error.fault(), "time": _now_text()})


@dataclass
class QboTenant(Tenant):
    # 500 requests a minute per realm (`budget`, every app together) and 10 a second per realm
    # and app: finance's own app does not spend Concord's second.
    # https://developer.intuit.com/app/developer/qbo/docs/learn/limits-and-throttles
    per_second: int = 10
    app_seconds: dict[str, RequestBudget] = field(default_factory=dict)  # client id -> its second
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # valid refresh token -> client id
    replies: dict[str, Response] = field(default_factory=dict)  # requestid -> the first answer
    today: Callable[[], dt.date] = field(default=lambda: dt.datetime.now(dt.UTC).date())
    lock: threading.Lock = field(default_factory=threading.Lock)
    clock: Callable[[], float] = time.monotonic  # what the apps' seconds are counted on

    def reset(self) -> None:
        super().reset()
        self.replies.clear()
        self.app_seconds.clear()
        self.seed_company()

    def second_of(self, client_id: str) -> RequestBudget:
        """The per-second budget of one app in this realm."""
        return self.app_seconds.setdefault(client_id, RequestBudget(self.per_second, 1.0, self.clock))

    def seed_company(self) -> None:
        company = Company(self.store, self.today())
        company.create("Item", dict(SERVICE_ITEM))
        for term in TERMS:
            company.create("Term", dict(term))


class QuickBooksSandbox:
    name = "quickbooks"

    def __init__(self, *, per_second: int = 10, per_minute: int = 500, retry_after_seconds: int = 1) -> None:
        self.per_second, self.per_minute = per_second, per_minute
        self.retry_after_seconds = retry_after_seconds

    def new_tenant(self, name: str) -> QboTenant:
        layout = StoreLayout(new_id=lambda table, sequence: str(sequence), format_time=lambda moment: moment)
        tenant = QboTenant(
            name=name,
            store=RecordStore(layout),
            budget=RequestBudget(self.per_minute, 60.0),
            per_second=self.per_second,
            tokens=TokenIssuer("qbo."),
            refresh_tokens={token: client for client, token in FIRST_REFRESH_TOKENS.items()},
        )
        tenant.seed_company()
        return tenant

    def seed(self, tenant: Tenant, table: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [tenant.store.insert(table, record) for record in records]

    def handle(self, tenant: Tenant, request: Request) -> Response:
        assert isinstance(tenant, QboTenant)
        try:
            return self._answer(tenant, request)
        except QboError as error:
            return fault_response(error)
        except BadJson as bad:
            return fault_response(
                QboError(400, "2500", "Invalid Reference Id", f"Request has invalid or unsupported property: {bad}")
            )

    # ---------------------------------------------------------------- steps

    def _answer(self, tenant: QboTenant, request: Request) -> Response:
        parts = request.path.strip("/").split("/")
        if parts == ["oauth2", "v1", "tokens", "bearer"] and request.method == "POST":
            return _token(tenant, request)
        if len(parts) < 4 or parts[:2] != ["v3", "company"]:
            raise QboError(404, "610", "Object Not Found", "no such resource", "ResourceNotFound")
        if parts[2] != REALM_ID:
            raise QboError(
                403,
                "3100",
                "ApplicationAuthorizationFailed",
                "the app is not connected to this company",
                "AUTHENTICATION",
            )
        grant = tenant.tokens.grant_of(request.header("Authorization"))
        if grant is None:
            raise QboError(
                401,
                "3200",
                "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                "Token revoked or expired",
                "AUTHENTICATION",
            )
        if tenant.second_of(grant.client_id).take() is None or tenant.budget.take() is None:
            response = fault_response(
                QboError(
                    429,
                    "003001",
                    "message=ThrottleExceeded; errorCode=003001; statusCode=429",
                    "The request limit was reached.",
                    "ThrottleExceeded",
                )
            )
            response.headers["Retry-After"] = str(self.retry_after_seconds)
            return response
        if not request.param("minorversion"):
            raise invalid("minorversion is required by this sandbox (Concord always sends it)", "minorversion")
        company = Company(tenant.store, tenant.today())
        with tenant.lock:
            return self._route(tenant, company, request, parts[3:])

    def _route(self, tenant: QboTenant, company: Company, request: Request, rest: list[str]) -> Response:
        if rest == ["query"] and request.method in ("GET", "POST"):
            text = request.param("query") or request.body.decode("utf-8")
            return Response(200, {"QueryResponse": query_answer(company, text), "time": _now_text()})
        if rest == ["cdc"] and request.method == "GET":
            return Response(200, {"CDCResponse": [cdc_answer(company, request)], "time": _now_text()})
        request_id = request.param("requestid")
        if request.method == "POST" and request_id and request_id in tenant.replies:
            return tenant.replies[request_id]
        if rest == ["batch"] and request.method == "POST":
            response = Response(200, {"BatchItemResponse": run_batch(company, request.json()), "time": _now_text()})
        elif len(rest) == 2 and rest[0] in BY_PATH and request.method == "GET":
            entity = BY_PATH[rest[0]]
            response = Response(200, {entity: company.read(entity, rest[1]), "time": _now_text()})
        elif len(rest) == 1 and rest[0] in BY_PATH and request.method == "POST":
            entity = BY_PATH[rest[0]]
            response = Response(200, {entity: write(company, entity, request.json()), "time": _now_text()})
        else:
            raise QboError(400, "4001", "Unsupported Operation", f"{request.method} {'/'.join(rest)} is not supported")
        if request_id:
            tenant.replies[request_id] = response
        return response


def write(company: Company, entity: str, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise invalid(f"a {entity} object is required")
    return company.update(entity, body) if body.get("Id") else company.create(entity, body)


def query_answer(company: Company, text: str) -> dict[str, Any]:
    try:
        query = parse(text)
    except (QueryError, IndexError, ValueError) as error:
        raise QboError(400, "4000", "Error parsing query", f"QueryParserError: {error}") from None
    if query.entity not in BY_PATH.values():
        raise QboError(400, "4000", "Error parsing query", f"QueryValidationError: no entity {query.entity}")
    rows, _ = run(query, company.store.rows(query.entity))
    answer: dict[str, Any] = {"startPosition": query.start, "maxResults": len(rows)}
    if rows:
        answer[query.entity] = rows
    return answer


def cdc_answer(company: Company, request: Request) -> dict[str, Any]:
    """What changed since `changedSince` (at most 30 days back), entity by entity, oldest first;
    at most 1,000 objects in all."""
    # https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/changedatacapture
    names = [name.strip() for name in (request.param("entities") or "").split(",") if name.strip()]
    try:
        since = dt.datetime.fromisoformat(request.param("changedSince") or "")
    except ValueError:
        raise invalid("changedSince must be a date-time", "changedSince") from None
    since = since if since.tzinfo else since.replace(tzinfo=dt.UTC)
    if not names or any(name not in BY_PATH.values() for name in names):
        raise invalid("entities must name supported entities", "entities")
    if since < dt.datetime.now(dt.UTC) - dt.timedelta(days=CDC_DAYS):
        raise QboError(400, "4000", "Error parsing query", f"changedSince cannot be more than {CDC_DAYS} days ago")
    responses, room = [], CDC_LIMIT
    for name in names:
        changed = sorted(
            (r for r in company.store.rows(name) if _updated(r) > since), key=lambda r: (_updated(r), int(r["Id"]))
        )[:room]
        room -= len(changed)
        response: dict[str, Any] = {"startPosition": 1, "maxResults": len(changed), "totalCount": len(changed)}
        if changed:
            response[name] = changed
        responses.append(response)
    return {"QueryResponse": responses}


def _updated(record: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(record["MetaData"]["LastUpdatedTime"].replace("Z", "+00:00"))


def run_batch(company: Company, body: Any) -> list[dict[str, Any]]:
    """Each item on its own, in order (no transaction); a failed item answers its Fault."""
    # https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/batch
    items = body.get("BatchItemRequest") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise invalid("BatchItemRequest is required", "BatchItemRequest")
    if len(items) > BATCH_LIMIT:
        raise QboError(
            400,
            "2010",
            "Request has invalid or unsupported property",
            f"The batch has {len(items)} items; at most {BATCH_LIMIT} are allowed",
        )
    answers = []
    for item in items:
        bid = str(item.get("bId", ""))
        try:
            answers.append({"bId": bid, **_batch_item(company, item)})
        except QboError as error:
            answers.append({"bId": bid, "Fault": error.fault()})
    return answers


def _batch_item(company: Company, item: dict[str, Any]) -> dict[str, Any]:
    if "Query" in item:
        return {"QueryResponse": query_answer(company, str(item["Query"]))}
    entities = [key for key in item if key in BY_PATH.values()]
    if len(entities) != 1:
        raise invalid("a batch item names one entity", "BatchItemRequest")
    entity, operation = entities[0], item.get("operation")
    if operation == "create" and item[entity].get("Id"):
        raise invalid("Id is not allowed on create", "Id")
    if operation not in ("create", "update"):
        raise QboError(400, "4001", "Unsupported Operation", f"operation {operation!r} is not supported")
    return {entity: write(company, entity, item[entity])}


def _token(tenant: QboTenant, request: Request) -> Response:
    """Refresh-token grant, the app authenticated by HTTP Basic (client id : secret)."""
    # https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/oauth-2.0
    scheme, _, encoded = (request.header("Authorization") or "").partition(" ")
    try:
        client_id, _, client_secret = base64.b64decode(encoded).decode("utf-8").partition(":")
    except ValueError:
        client_id = client_secret = ""
    known = {CLIENT_ID: CLIENT_SECRET, FINANCE_CLIENT_ID: FINANCE_CLIENT_SECRET}
    if scheme.lower() != "basic" or not secrets.compare_digest(known.get(client_id, "\0"), client_secret):
        return Response(401, {"error": "invalid_client"})
    form = request.form()
    if form.get("grant_type") != "refresh_token":
        return Response(400, {"error": "unsupported_grant_type"})
    with tenant.lock:
        owner = tenant.refresh_tokens.get(form.get("refresh_token", ""))
        if owner != client_id:
            return Response(400, {"error": "invalid_grant", "error_description": "Token invalid"})
        del tenant.refresh_tokens[form["refresh_token"]]  # spent: the new one replaces it
        rotated = f"qbo-refresh-{secrets.token_urlsafe(24)}"
        tenant.refresh_tokens[rotated] = client_id
    access = tenant.tokens.issue(Grant(client_id, REALM_ID))
    return Response(
        200,
        {
            "token_type": "bearer",
            "access_token": access,
            "expires_in": 3600,
            "refresh_token": rotated,
            "x_refresh_token_expires_in": 8726400,
        },
    )
