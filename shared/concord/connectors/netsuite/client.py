"""NetSuite REST transport for one account: M2M auth, error mapping, the record service and
SuiteQL. The only module of the connector that speaks HTTP.

Base: https://<account>.suitetalk.api.netsuite.com/services/rest, then `record/v1/...` (the
record service) and `query/v1/suiteql` (SuiteQL).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from concord.errors import ConcordError, PermanentError

from ..kit.auth import CertificateKey, JwtClientAssertion
from ..kit.budget import RateBudget
from ..kit.errors import ErrorMapper, Throttled
from ..kit.http import VendorClient
from ..kit.paging import Page, follow

TOKEN_PATH = "/auth/oauth2/v1/token"
RECORD = "/record/v1"
SUITEQL = "/query/v1/suiteql"
SUITEQL_PAGE = 1000  # the most rows one SuiteQL page returns
# The concurrency-limit answer NetSuite documents for RESTlets (HTTP 400); REST answers 429.
THROTTLE_CODES = frozenset({"SSS_REQUEST_LIMIT_EXCEEDED"})

Row = dict[str, Any]


def error_details(response: httpx.Response) -> list[tuple[str, str]]:
    """(o:errorCode, detail) of each entry of an error body's `o:errorDetails`."""
    try:
        body = response.json()
    except ValueError:
        return []
    details = body.get("o:errorDetails") if isinstance(body, dict) else None
    if not isinstance(details, list):
        return []
    return [(str(d.get("o:errorCode", "")), str(d.get("detail", ""))) for d in details if isinstance(d, dict)]


class NetSuiteErrors(ErrorMapper):
    """NetSuite's error body: {"type", "title", "status", "o:errorDetails": [{"detail",
    "o:errorCode", "o:errorPath"?...}]}.
    https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_156570709583.html
    A request over the account's concurrency limit is a throttle whether it comes as 429 (REST)
    or as 400 SSS_REQUEST_LIMIT_EXCEEDED (RESTlet style):
    https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/bridgehead_1525252812.html
    """

    def __init__(self) -> None:
        super().__init__("netsuite")

    def vendor_error(self, operation: str, response: httpx.Response) -> ConcordError | None:
        if any(code in THROTTLE_CODES for code, _ in error_details(response)):
            return Throttled(self.message(operation, response))
        return None

    def vendor_detail(self, response: httpx.Response) -> str:
        details = error_details(response)
        if not details:
            return super().vendor_detail(response)
        return "; ".join(f"{code}: {detail}" for code, detail in details)


def m2m_auth(
    rest_url: str, load_credentials: Callable[[], CertificateKey], *, algorithm: str, scope: str
) -> JwtClientAssertion:
    """OAuth 2.0 client credentials (M2M) with a certificate-signed JWT; tokens last an hour.
    https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_162755359851.html
    https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_162790605110.html
    """
    return JwtClientAssertion(
        vendor="netsuite",
        token_url=rest_url.rstrip("/") + TOKEN_PATH,
        load_credentials=load_credentials,
        algorithm=algorithm,
        scope=scope,
        default_lifetime=3600,
        errors=NetSuiteErrors(),
    )


def eid(external_id: str) -> str:
    """The path segment addressing a record by its external id."""
    return "eid:" + external_id


class NetSuiteClient:
    """The record service and SuiteQL of one account, through the kit's VendorClient."""

    def __init__(
        self,
        *,
        rest_url: str,
        auth: httpx.Auth,
        budget: RateBudget,
        account: str = "",
        max_wait: float | Callable[[], float] = 0.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.http = VendorClient(
            base_url=rest_url.rstrip("/"),
            errors=NetSuiteErrors(),
            budget=budget,
            auth=auth,
            account=account,
            max_wait=max_wait,
            transport=transport,
        )

    # ---------------------------------------------------------------- record service

    def get(self, record_type: str, record_id: str, *, expand: bool = False, fields: Sequence[str] = ()) -> Row:
        """One record (by internal id, or `eid(...)`); `expand` inlines its sublists.
        https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1545141500.html
        https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1545141947.html
        """
        params: dict[str, str] = {}
        if expand:
            params["expandSubResources"] = "true"
        if fields:
            params["fields"] = ",".join(fields)
        return dict(self.http.json(f"get {record_type}", "GET", self._path(record_type, record_id), params=params))

    def create(self, record_type: str, body: Mapping[str, Any]) -> str:
        """Create a record: 204 with the new id only in `Location`.
        https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1545141395.html
        """
        response = self.http.request(f"create {record_type}", "POST", f"{RECORD}/{record_type}", json=dict(body))
        return located_id(response)

    def upsert(
        self, record_type: str, external_id: str, body: Mapping[str, Any], *, replace: Sequence[str] = ()
    ) -> str:
        """Create or update the record with this external id (PUT on `eid:`): its internal id.
        https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_156335203191.html
        """
        params = {"replace": ",".join(replace)} if replace else None
        response = self.http.request(
            f"upsert {record_type}", "PUT", self._path(record_type, eid(external_id)), json=dict(body), params=params
        )
        return located_id(response)

    def update(self, record_type: str, record_id: str, body: Mapping[str, Any], *, replace: Sequence[str] = ()) -> None:
        """Change the fields sent (204). Lines sent in a sublist are added to it, unless the
        sublist is named in `replace` (its lines are then replaced by those sent).
        https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1545295601.html
        https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1545297048.html
        """
        params = {"replace": ",".join(replace)} if replace else None
        self.http.request(
            f"update {record_type}", "PATCH", self._path(record_type, record_id), json=dict(body), params=params
        )

    # ---------------------------------------------------------------- SuiteQL

    def query(self, suiteql: str, *, page_size: int = SUITEQL_PAGE) -> Iterator[Row]:
        """Every row of a SuiteQL query, page by page (`limit`/`offset`, `hasMore`).
        https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_157909186990.html
        """

        def fetch(offset: int | None) -> Page[Row, int]:
            rows, more = self.query_page(suiteql, limit=page_size, offset=offset or 0)
            return Page(rows, (offset or 0) + len(rows) if more and rows else None)

        return follow(fetch)

    def query_page(self, suiteql: str, *, limit: int, offset: int = 0) -> tuple[list[Row], bool]:
        """One page of a SuiteQL query: its rows (without `links`) and whether more follow.
        https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_158394344595.html
        """
        body = self.http.json(
            "suiteql",
            "POST",
            SUITEQL,
            params={"limit": max(1, min(limit, SUITEQL_PAGE)), "offset": offset},
            json={"q": suiteql},
            headers={"Prefer": "transient"},
        )
        items = [{k: v for k, v in row.items() if k != "links"} for row in body.get("items", [])]
        return items, bool(body.get("hasMore"))

    def close(self) -> None:
        self.http.close()

    @staticmethod
    def _path(record_type: str, record_id: str) -> str:
        return f"{RECORD}/{record_type}/{quote(record_id, safe=':')}"


def located_id(response: httpx.Response) -> str:
    """The internal id at the end of a write's `Location` header."""
    location: str = response.headers.get("Location", "")
    record_id = location.rstrip("/").rsplit("/", 1)[-1]
    if not record_id.isdigit():
        raise PermanentError(f"netsuite: HTTP {response.status_code} without a record Location")
    return record_id


def suiteql_text(value: str) -> str:
    """`value` as a SuiteQL string literal (a quote is doubled, so none can end it)."""
    return "'" + value.replace("'", "''") + "'"


def suiteql_ids(ids: Sequence[str]) -> str:
    """A list of internal ids for `IN (...)`; only digits are ids (nothing else reaches the query)."""
    return ", ".join(sorted({i for i in ids if i.isdigit()}, key=int)) or "NULL"
