"""Dynamics 365 Finance over OData v4 (`https://<env>.operations.dynamics.com/data/`): Entra ID
client credentials, the OData error shape, paging by `@odata.nextLink`, writes with ETags, and
`$batch`. The only module of the connector that speaks HTTP.
https://learn.microsoft.com/en-us/dynamics365/fin-ops-core/dev-itpro/data-entities/odata
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import httpx

from concord.errors import ConcordError, PermanentError, TransientError

from ..kit.auth import ClientSecret, OAuth2ClientCredentials
from ..kit.budget import RateBudget
from ..kit.errors import Conflict, ErrorMapper
from ..kit.http import VendorClient
from ..kit.paging import Page, follow
from .batch import BatchAnswer, BatchRequest, answers, change_set_body
from .entities import NEXT_LINK

Row = dict[str, Any]
ODATA_HEADERS = {"OData-Version": "4.0", "OData-MaxVersion": "4.0", "Accept": "application/json"}


def odata_error(body: Any) -> tuple[str, str]:
    """(code, message) of an OData error body {"error": {"code", "message", "innererror": {...}}}."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", ""
    inner = error.get("innererror")
    inner_message = inner.get("message") if isinstance(inner, dict) else None
    message = str(inner_message or error.get("message") or "")
    return str(error.get("code") or ""), message


class FinanceErrors(ErrorMapper):
    """The kit's status mapping (429 with Retry-After is a throttle, 412 a Conflict), with OData's
    error body as the detail.
    https://learn.microsoft.com/en-us/dynamics365/fin-ops-core/dev-itpro/data-entities/service-protection-retry-operations
    """

    def __init__(self) -> None:
        super().__init__("dynamics_finance")

    def vendor_detail(self, response: httpx.Response) -> str:
        try:
            code, message = odata_error(response.json())
        except ValueError:
            return ""
        return ": ".join(part for part in (code, message) if part) or super().vendor_detail(response)


def entra_client_credentials(token_url: str, environment_url: str,
                             load_credentials: Callable[[], ClientSecret]) -> OAuth2ClientCredentials:
    """Service-to-service auth: a client credentials token for `<environment URL>/.default` from
    Entra ID (v2.0 endpoint); the app must be registered in the environment (Microsoft Entra
    applications page) with its user and roles.
    https://learn.microsoft.com/en-us/dynamics365/fin-ops-core/dev-itpro/data-entities/services-home-page
    https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow
    """
    return OAuth2ClientCredentials(vendor="dynamics_finance", token_url=token_url, load_credentials=load_credentials,
                                   scope=f"{environment_url.rstrip('/')}/.default", default_lifetime=3600,
                                   errors=FinanceErrors())


class FinanceClient:
    """The OData service of one environment, through the kit's VendorClient."""

    def __init__(self, *, data_url: str, auth: httpx.Auth, budget: RateBudget, account: str = "",
                 max_wait: float | Callable[[], float] = 0.0, transport: httpx.BaseTransport | None = None) -> None:
        self.data_url = data_url.rstrip("/")
        self.http = VendorClient(base_url=self.data_url, errors=FinanceErrors(), budget=budget, auth=auth,
                                 account=account, max_wait=max_wait, transport=transport)

    def get(self, path: str) -> Row:
        """One entity by its key segment, e.g. `CustomersV3(dataAreaId='usmf',CustomerAccount='C1')`
        (cross-company: the key names the company)."""
        operation = f"get {path.split('(', 1)[0]}"
        return dict(self.http.json(operation, "GET", f"/{path}", params={"cross-company": "true"},
                                   headers=ODATA_HEADERS))

    def query(self, entity: str, *, filter: str | None = None, orderby: str | None = None,
              top: int | None = None, select: Sequence[str] = ()) -> Iterator[Row]:
        """Every row of an entity set across companies, following `@odata.nextLink`."""
        def fetch(link: str | None) -> Page[Row, str]:
            rows, next_link = self.query_page(entity, filter=filter, orderby=orderby, top=top, select=select,
                                              link=link)
            return Page(rows, next_link)

        return follow(fetch)

    def query_page(self, entity: str, *, filter: str | None = None, orderby: str | None = None,
                   top: int | None = None, select: Sequence[str] = (), link: str | None = None
                   ) -> tuple[list[Row], str | None]:
        """One page: its rows and the next page's link (None on the last).
        https://learn.microsoft.com/en-us/dynamics365/fin-ops-core/dev-itpro/data-entities/odata
        """
        if link is not None:
            body = self.http.json(f"query {entity}", "GET", self._relative(link), headers=ODATA_HEADERS)
        else:
            params: dict[str, Any] = {"cross-company": "true"}
            if filter:
                params["$filter"] = filter
            if orderby:
                params["$orderby"] = orderby
            if top is not None:
                params["$top"] = top
            if select:
                params["$select"] = ",".join(select)
            body = self.http.json(f"query {entity}", "GET", f"/{entity}", params=params, headers=ODATA_HEADERS)
        return [dict(row) for row in body.get("value", [])], body.get(NEXT_LINK)

    def create(self, entity: str, body: Mapping[str, Any]) -> Row:
        """Insert one entity (201 with the entity as stored)."""
        return dict(self.http.json(f"create {entity}", "POST", f"/{entity}", json=dict(body),
                                   headers={**ODATA_HEADERS, "Prefer": "return=representation"}))

    def update(self, path: str, body: Mapping[str, Any], *, etag: str) -> None:
        """Change the fields sent (204) if the entity is still at `etag` (If-Match); a change made
        since answers 412, a Conflict: read it again and decide."""
        self.http.request(f"update {path.split('(', 1)[0]}", "PATCH", f"/{path}", json=dict(body),
                          params={"cross-company": "true"}, headers={**ODATA_HEADERS, "If-Match": etag})

    def action(self, path: str, name: str, body: Mapping[str, Any] | None = None) -> Any:
        """A bound OData action on an entity, e.g. `<key segment>/Microsoft.Dynamics.DataEntities.<name>`."""
        return self.http.json(f"action {name}", "POST", f"/{path}/Microsoft.Dynamics.DataEntities.{name}",
                              json=dict(body or {}), headers=ODATA_HEADERS)

    def change_set(self, operation: str, requests: Sequence[BatchRequest]) -> list[BatchAnswer]:
        """Send `requests` as one change set of a `$batch` (atomic: all applied, or none) and return
        their answers; a refused change set raises the error of its first failed answer."""
        content_type, body = change_set_body(requests)
        response = self.http.request(operation, "POST", "/$batch", content=body,
                                     headers={**ODATA_HEADERS, "Content-Type": content_type})
        found = answers(response.headers.get("Content-Type", ""), response.content)
        failed = next((answer for answer in found if not answer.ok), None)
        if failed is not None:
            raise self._batch_error(operation, failed)
        if len(found) != len(requests):
            raise PermanentError(f"dynamics_finance {operation}: {len(requests)} requests, {len(found)} answers")
        return found

    def close(self) -> None:
        self.http.close()

    def _relative(self, link: str) -> str:
        """A next link below the data URL, as a path the client's base URL takes."""
        url = httpx.URL(link)
        base = httpx.URL(self.data_url)
        if (url.host, url.port) != (base.host, base.port) or not url.path.startswith(base.path):
            raise PermanentError("dynamics_finance: a next link points outside the environment")
        query = f"?{url.query.decode()}" if url.query else ""
        return url.path[len(base.path.rstrip('/')):] + query

    def _batch_error(self, operation: str, answer: BatchAnswer) -> ConcordError:
        response = httpx.Response(answer.status, json=answer.body if answer.body is not None else {})
        error = self.http.errors.error_for_response(f"{operation} (change set)", response)
        if isinstance(error, TransientError | Conflict):
            return error
        return error or PermanentError(f"dynamics_finance {operation}: change set refused")
