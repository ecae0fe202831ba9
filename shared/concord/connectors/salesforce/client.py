"""Salesforce REST transport for one org: auth, error mapping, limits, paging, collections.

No port mapping here: the CRM connector and Certinia PSA (objects `pse__*` in a Salesforce org)
both build on `SalesforceClient`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import AliasChoices, BaseModel, Field

from concord.errors import ConcordError, PermanentError, ValidationFailed

from ..kit.auth import ClientSecret, JwtBearer, JwtSigningKey, OAuth2ClientCredentials
from ..kit.budget import RateBudget
from ..kit.errors import Conflict, ErrorMapper, Throttled
from ..kit.http import VendorClient
from ..kit.paging import Page, follow
from ..kit.telemetry import vendor_metric

DEFAULT_API_VERSION = "v67.0"
COLLECTION_LIMIT = 200  # records per sObject Collections request
_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")

# SOQL string literal escapes: https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_quotedstringescapes.htm
_SOQL_ESCAPES = {"\\": "\\\\", "'": "\\'", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def soql_quote(value: str) -> str:
    """`value` as a quoted SOQL string literal: no quote or backslash in it can end the literal."""
    return "'" + "".join(_SOQL_ESCAPES.get(char, char) for char in value) + "'"


class SalesforceError(BaseModel):
    """One Salesforce error: `{"message", "errorCode", "fields"}` in an error body, with
    `statusCode` instead of `errorCode` in the per-record results of sObject Collections."""

    code: str = Field(default="", validation_alias=AliasChoices("errorCode", "statusCode"))
    message: str = ""
    fields: list[str] = Field(default_factory=list)


class RecordResult(BaseModel):
    """The outcome of one record of a collection call, aligned with the input record at `index`."""

    index: int
    id: str | None = None
    success: bool
    created: bool | None = None
    errors: list[SalesforceError] = Field(default_factory=list)


def salesforce_errors(response: httpx.Response) -> list[SalesforceError]:
    try:
        body = response.json()
    except ValueError:
        return []
    if not isinstance(body, list):
        return []
    return [SalesforceError.model_validate(entry) for entry in body if isinstance(entry, dict)]


def api_usage(response: httpx.Response) -> tuple[int, int] | None:
    """(used, allocation) of the org's 24-hour API requests from `Sforce-Limit-Info`.

    https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_api_usage.htm
    """
    match = _LIMIT_INFO.search(response.headers.get("Sforce-Limit-Info", ""))
    return (int(match[1]), int(match[2])) if match else None


class SalesforceErrors(ErrorMapper):
    """Salesforce's meanings, per "Status Codes and Error Responses":
    https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm
    """

    def __init__(self) -> None:
        super().__init__("salesforce")

    def vendor_error(self, operation: str, response: httpx.Response) -> ConcordError | None:
        codes = {error.code for error in salesforce_errors(response)}
        if response.status_code == 403 and "REQUEST_LIMIT_EXCEEDED" in codes:
            # The 24 h allocation or the long-running-request concurrency limit: a throttle, not a refusal.
            return Throttled(self.message(operation, response))
        if response.status_code == 300:
            return Conflict(f"salesforce {operation}: HTTP 300 the external id matches more than one record")
        return None

    def vendor_detail(self, response: httpx.Response) -> str:
        errors = salesforce_errors(response)
        if not errors:
            return super().vendor_detail(response)
        return "; ".join(
            f"{error.code}: {error.message}" + (f" ({', '.join(error.fields)})" if error.fields else "")
            for error in errors
        )


TOKEN_PATH = "/services/oauth2/token"


def jwt_bearer_auth(
    login_url: str, load_credentials: Callable[[], JwtSigningKey], audience: str | None = None, **kwargs: Any
) -> JwtBearer:
    """JWT bearer flow: `login_url` is https://login.salesforce.com, https://test.salesforce.com or My Domain;
    the assertion's `aud` is `audience` (default: the login URL).

    https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_jwt_flow.htm&type=5
    """
    return JwtBearer(
        vendor="salesforce",
        token_url=login_url.rstrip("/") + TOKEN_PATH,
        audience=(audience or login_url).rstrip("/"),
        load_credentials=load_credentials,
        instance_url_field="instance_url",
        errors=SalesforceErrors(),
        **kwargs,
    )


def client_credentials_auth(
    my_domain_url: str, load_credentials: Callable[[], ClientSecret], **kwargs: Any
) -> OAuth2ClientCredentials:
    """Client credentials flow (External Client App with a run-as user); only My Domain URLs accept it.

    https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_client_credentials_flow.htm&type=5
    """
    return OAuth2ClientCredentials(
        vendor="salesforce",
        token_url=my_domain_url.rstrip("/") + TOKEN_PATH,
        load_credentials=load_credentials,
        instance_url_field="instance_url",
        errors=SalesforceErrors(),
        **kwargs,
    )


class SalesforceClient:
    """The REST API of one Salesforce org (base: the token's `instance_url`, API `api_version`)."""

    def __init__(
        self,
        *,
        instance_url: str,
        auth: httpx.Auth,
        budget: RateBudget,
        org_id: str = "",
        api_version: str = DEFAULT_API_VERSION,
        max_wait: float | Callable[[], float] = 0.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """`max_wait`: seconds a call may wait for the rate budget (or a callable giving them per call,
        e.g. from the Lambda context's remaining time); beyond it the call raises `Throttled`."""
        self.api = f"/services/data/{api_version}"
        self.http = VendorClient(
            base_url=instance_url,
            errors=SalesforceErrors(),
            budget=budget,
            auth=auth,
            account=org_id,
            max_wait=max_wait,
            observe=self._observe_usage,
            transport=transport,
        )

    # ---------------------------------------------------------------- reads

    def query(self, soql: str) -> Iterator[dict[str, Any]]:
        """Every record the SOQL query selects, following `nextRecordsUrl` page by page.

        https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_query.htm
        https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_query.htm
        """

        def fetch(next_url: str | None) -> Page[dict[str, Any], str]:
            if next_url is None:
                body = self.http.json("query", "GET", f"{self.api}/query", params={"q": soql})
            else:
                body = self.http.json("query_more", "GET", next_url)
            return Page(body["records"], None if body.get("done", True) else body.get("nextRecordsUrl"))

        return follow(fetch)

    def with_all_children(self, record: dict[str, Any], relationship: str) -> dict[str, Any]:
        """The record with every row of one child subquery: a large child result comes back in
        pages (`done` false, `nextRecordsUrl`), which are followed.

        https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_relationships_query_limits.htm
        """
        children = record.get(relationship)
        if not isinstance(children, dict) or children.get("done", True):
            return record

        def fetch(next_url: str | None) -> Page[dict[str, Any], str]:
            body = children if next_url is None else self.http.json("query_more", "GET", next_url)
            return Page(body["records"], None if body.get("done", True) else body.get("nextRecordsUrl"))

        rows = list(follow(fetch))
        return {**record, relationship: {**children, "records": rows, "done": True, "nextRecordsUrl": None}}

    def get(self, sobject: str, record_id: str, fields: Sequence[str]) -> dict[str, Any]:
        """One record's `fields`.

        https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_retrieve.htm
        """
        record: dict[str, Any] = self.http.json(
            "get", "GET", self._record_path(sobject, record_id), params={"fields": ",".join(fields)}
        )
        return record

    # ---------------------------------------------------------------- single-record writes

    def create(self, sobject: str, fields: Mapping[str, Any]) -> str:
        """Create a record; its new id.

        https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_sobject_create.htm
        """
        body = self.http.json("create", "POST", f"{self.api}/sobjects/{_segment(sobject)}", json=dict(fields))
        return str(body["id"])

    def update(self, sobject: str, record_id: str, fields: Mapping[str, Any]) -> None:
        """Change some fields of a record (204 No Content).

        https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_update_fields.htm
        """
        self.http.request("update", "PATCH", self._record_path(sobject, record_id), json=dict(fields))

    def upsert(
        self, sobject: str, ext_id_field: str, ext_id_value: str, fields: Mapping[str, Any]
    ) -> tuple[str | None, bool]:
        """Create or update the record whose external id is `ext_id_value`: (its id, whether created).

        201 = created (body {id, success, created}); 200/204 = updated (the id only when a body comes);
        300 = the value matches several records → Conflict.
        https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_upsert.htm
        """
        path = f"{self.api}/sobjects/{_segment(sobject)}/{_segment(ext_id_field)}/{_segment(ext_id_value)}"
        # The external-id field must not be in the body: it is in the URL.
        body = {name: value for name, value in fields.items() if name != ext_id_field}
        response = self.http.request("upsert", "PATCH", path, json=body)
        answer = response.json() if response.content else {}
        return answer.get("id"), response.status_code == 201

    # ---------------------------------------------------------------- collections (≤ 200 per call)

    def upsert_collection(
        self, sobject: str, ext_id_field: str, records: Sequence[Mapping[str, Any]], all_or_none: bool = False
    ) -> list[RecordResult]:
        """Upsert records of one type by external id, 200 per call; one result per input record, in order.

        https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_upsert.htm
        """
        for index, record in enumerate(records):
            if not record.get(ext_id_field):
                raise ValidationFailed(f"salesforce upsert_collection: record {index} has no {ext_id_field}")
        path = f"{self.api}/composite/sobjects/{_segment(sobject)}/{_segment(ext_id_field)}"
        typed = [{"attributes": {"type": sobject}, **record} for record in records]
        return self._collection("upsert_collection", path, typed, all_or_none)

    def update_collection(self, records: Sequence[Mapping[str, Any]], all_or_none: bool = False) -> list[RecordResult]:
        """Update records by id, 200 per call; each record carries `attributes.type` and `id`.

        https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_update.htm
        """
        for index, record in enumerate(records):
            if not record.get("id") or not record.get("attributes", {}).get("type"):
                raise ValidationFailed(f"salesforce update_collection: record {index} needs attributes.type and id")
        return self._collection("update_collection", f"{self.api}/composite/sobjects", records, all_or_none)

    def close(self) -> None:
        self.http.close()

    # ---------------------------------------------------------------- helpers

    def _collection(
        self, operation: str, path: str, records: Sequence[Mapping[str, Any]], all_or_none: bool
    ) -> list[RecordResult]:
        results: list[RecordResult] = []
        for start in range(0, len(records), COLLECTION_LIMIT):
            chunk = [dict(record) for record in records[start : start + COLLECTION_LIMIT]]
            answers = self.http.json(operation, "PATCH", path, json={"allOrNone": all_or_none, "records": chunk})
            if not isinstance(answers, list) or len(answers) != len(chunk):
                raise PermanentError(f"salesforce {operation}: {len(chunk)} records sent, answers do not match")
            # Salesforce answers in the order the records were sent.
            results.extend(RecordResult(index=start + offset, **answer) for offset, answer in enumerate(answers))
        return results

    def _record_path(self, sobject: str, record_id: str) -> str:
        return f"{self.api}/sobjects/{_segment(sobject)}/{_segment(record_id)}"

    def _observe_usage(self, response: httpx.Response) -> Mapping[str, Any]:
        usage = api_usage(response)
        if usage is None:
            return {}
        used, allocation = usage
        vendor_metric("VendorApiUsagePercent", MetricUnit.Percent, 100 * used / allocation, vendor="salesforce")
        return {"api_usage": used, "api_allocation": allocation}


def _segment(value: str) -> str:
    """One URL path segment: an id or external-id value cannot add path segments or a query."""
    return quote(value, safe="")
