"""The Dynamics 365 Finance sandbox: one environment per tenant, `/<tenant>/data/...` (OData v4
data entities) and an Entra ID token endpoint at `/<tenant>/<directory>/oauth2/v2.0/token`.

- Client credentials (v2.0): client id + secret of the registered app, scope `<environment>/.default`.
  https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow
- Entity sets with `dataAreaId` keys; without `cross-company=true` only the default company's
  rows are seen. `$filter`, `$orderby`, `$top`, `$skip`, `$select`; pages of `page_size` rows
  with `@odata.nextLink`. ETags on every entity; PATCH honours If-Match (412 when stale).
  https://learn.microsoft.com/en-us/dynamics365/fin-ops-core/dev-itpro/data-entities/odata
- `$batch` (multipart/mixed) with change sets applied all or nothing.
- Service protection: past the request allocation, 429 with Retry-After (seconds).
  https://learn.microsoft.com/en-us/dynamics365/fin-ops-core/dev-itpro/data-entities/service-protection-retry-operations
- Posting (finance's job) as bound actions `.../Microsoft.Dynamics.DataEntities.Post`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlencode

from ..kit import (
    BadJson,
    RecordStore,
    Request,
    RequestBudget,
    Response,
    StoreLayout,
    Tenant,
)
from ..kit.oauth import Grant
from . import batch, entities, query
from .errors import ODataError, bad_request, not_found

DEMO_CLIENT_ID = "concord-sandbox-app"
DEMO_CLIENT_SECRET = "concord-sandbox-app-secret"  # a sandbox's well-known demo credential
DEFAULT_COMPANY = "usmf"
TOKEN_SECONDS = 3599
ACTION_PREFIX = "Microsoft.Dynamics.DataEntities."
_SEGMENT = re.compile(r"^(?P<entity>[A-Za-z0-9]+)(?:\((?P<keys>.*)\))?$")
_PAIR = re.compile(r"\s*(?P<name>\w+)\s*=\s*(?P<value>'(?:[^']|'')*'|[^,]+)\s*(?:,|$)")


def format_time(moment: dt.datetime) -> str:
    """DateTimeOffset in UTC to the second, as finance and operations apps store datetimes."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Environment(Tenant):
    page_size: int = 1000


class FinanceSandbox:
    name = "dynamics_finance"

    def __init__(self, *, page_size: int = 1000, allocation: int = 100_000, window_seconds: float = 300.0) -> None:
        self._page_size = page_size
        self._allocation, self._window = allocation, window_seconds

    def new_tenant(self, name: str) -> Environment:
        layout = StoreLayout(new_id=lambda table, n: str(5637144576 + n), format_time=format_time, id_field="RecId",
                             created_fields=("CreatedDateTime",), modified_fields=("ModifiedDateTime",))
        environment = Environment(name=name, store=RecordStore(layout),
                                  budget=RequestBudget(self._allocation, self._window), page_size=self._page_size)
        entities.seed_reference_data(environment)
        return environment

    def seed(self, tenant: Tenant, table: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if table not in entities.ENTITY_SETS:
            raise ValueError(f"no entity set {table!r}; known: {', '.join(sorted(entities.ENTITY_SETS))}")
        return [entities.public(tenant.store.insert(table, {**record, "Version": 0})) for record in records]

    def handle(self, tenant: Tenant, request: Request) -> Response:
        assert isinstance(tenant, Environment)
        path = unquote(request.path)
        if request.method == "POST" and path.endswith("/oauth2/v2.0/token"):
            return self._token(tenant, request)
        if tenant.tokens.grant_of(request.header("Authorization")) is None:
            return ODataError(401, "Unauthorized: the access token is missing or not valid.").response()
        if tenant.budget.take() is None:
            wait = str(max(1, math.ceil(min(tenant.budget.window_seconds, 300))))
            return ODataError(429, "Too many requests: the service protection limit was reached.",
                              {"Retry-After": wait}).response()
        try:
            if path == "/data/$batch" and request.method == "POST":
                return batch.run(request, tenant.store, lambda *args: self.answer(tenant, *args))
            return self.answer(tenant, request.method, path, request.query, request.body, request.headers,
                               request.tenant_url)
        except ODataError as error:
            return error.response()
        except BadJson as bad:
            return bad_request(f"The request body is not valid JSON: {bad}").response()

    def answer(self, tenant: Environment, method: str, path: str, params: dict[str, list[str]], body: bytes,
               headers: Mapping[str, str], tenant_url: str) -> Response:
        """One OData request (also each request of a batch)."""
        if not path.startswith("/data/"):
            raise not_found(path)
        segments = path[len("/data/"):].strip("/").split("/")
        cross_company = (params.get("cross-company") or ["false"])[0].lower() == "true"
        match = _SEGMENT.match(segments[0])
        if match is None or match.group("entity") not in entities.ENTITY_SETS:
            raise not_found(segments[0])
        entity = entities.ENTITY_SETS[match.group("entity")]
        data = Request(method, tenant.name, path, body=body).json() if body else None
        if match.group("keys") is None:
            if len(segments) != 1:
                raise not_found(path)
            if method == "GET":
                return self._collection(tenant, entity, params, cross_company, f"{tenant_url}{path}")
            if method == "POST":
                created = entities.create(tenant, entity, dict(data or {}))
                return Response(201, entities.public(created), {"ETag": entities.etag(created)})
            raise ODataError(405, f"The HTTP method '{method}' is not allowed on {entity.name}.")
        row = self._by_key(tenant, entity, match.group("keys"), cross_company)
        if len(segments) == 2 and method == "POST" and segments[1] == ACTION_PREFIX + "Post":
            return Response(200, entities.public(entities.post(tenant, entity, row, dt.date.today())))
        if len(segments) != 1:
            raise not_found(path)
        if method == "GET":
            return Response(200, entities.public(row), {"ETag": entities.etag(row)})
        if method == "PATCH":
            if_match = next((v for k, v in headers.items() if k.lower() == "if-match"), None)
            entities.update(tenant, entity, row, dict(data or {}), if_match)
            return Response(204)
        raise ODataError(405, f"The HTTP method '{method}' is not allowed on an entity of {entity.name}.")

    def _collection(self, tenant: Environment, entity: entities.EntitySet, params: dict[str, list[str]],
                    cross_company: bool, url: str) -> Response:
        option = {name: values[0] for name, values in params.items() if values}
        rows = entities.rows_of(tenant, entity)
        if not cross_company:
            rows = [row for row in rows if row["dataAreaId"] == DEFAULT_COMPANY]
        matches = query.where(option.get("$filter"), set(entity.fields))  # parsed (and refused) once, rows or not
        rows = [row for row in rows if matches(row)]
        rows = query.ordered(rows, option.get("$orderby"), set(entity.fields))
        skip = query.whole_number(option.get("$skip"), "$skip") or 0
        top = query.whole_number(option.get("$top"), "$top")
        end = len(rows) if top is None else min(len(rows), skip + top)
        page_end = min(end, skip + tenant.page_size)
        body: dict[str, Any] = {"@odata.context": f"{url.rsplit('/data/', 1)[0]}/data/$metadata#{entity.name}",
                                "value": [self._selected(entities.public(r), option.get("$select"))
                                          for r in rows[skip:page_end]]}
        if page_end < end:
            following = {**option, "$skip": str(page_end)}
            if top is not None:
                following["$top"] = str(end - page_end)
            body["@odata.nextLink"] = f"{url}?{urlencode(following)}"
        return Response(200, body)

    @staticmethod
    def _selected(row: dict[str, Any], select: str | None) -> dict[str, Any]:
        if not select:
            return row
        names = {name.strip() for name in select.split(",")}
        return {k: v for k, v in row.items() if k in names or k == "@odata.etag"}

    @staticmethod
    def _by_key(tenant: Environment, entity: entities.EntitySet, text: str, cross_company: bool) -> dict[str, Any]:
        keys: dict[str, Any] = {}
        for pair in _PAIR.finditer(text):
            value = pair.group("value").strip()
            keys[pair.group("name")] = query.literal(value) if value.startswith("'") else value
        if set(keys) != set(entity.all_keys):
            raise bad_request(f"The key of {entity.name} is {', '.join(entity.all_keys)}.")
        if not cross_company and str(keys["dataAreaId"]).lower() != DEFAULT_COMPANY:
            raise not_found(f"{entity.name}({text})")
        row = entities.find(tenant, entity, keys)
        if row is None:
            raise not_found(f"{entity.name}({text})")
        return row

    def _token(self, tenant: Environment, request: Request) -> Response:
        form = request.form()
        if form.get("grant_type") != "client_credentials":
            return Response(400, {"error": "unsupported_grant_type", "error_description": "AADSTS70003"})
        if not (secrets.compare_digest(form.get("client_id", ""), DEMO_CLIENT_ID)
                and secrets.compare_digest(form.get("client_secret", ""), DEMO_CLIENT_SECRET)):
            return Response(401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client "
                                                                                   "secret provided."})
        if not form.get("scope", "").endswith("/.default"):
            return Response(400, {"error": "invalid_scope", "error_description": "AADSTS1002012: The provided value "
                                                                                  "for scope is not valid."})
        token = tenant.tokens.issue(Grant(DEMO_CLIENT_ID, None))
        return Response(200, {"token_type": "Bearer", "expires_in": TOKEN_SECONDS, "ext_expires_in": TOKEN_SECONDS,
                              "access_token": token})

