"""Calls of one Workday tenant's Revenue_Management service through the kit's VendorClient
(rate budget, error mapping, telemetry), and page-numbered Gets.

Errors: a Validation_Fault is the request's fault (ValidationFailed; "Invalid ID value" is a
NotFound), an authentication fault or HTTP 401 is the credentials' (AuthFailed: the ISU's secret
is re-read once, it may have been rotated), a `SOAP-ENV:Server` fault, HTTP 5xx or a timeout is
Transient, and 429/503 (Workday publishes no limits) is a throttle the budget backs off on.
Paging: Response_Filter Page/Count (Count at most 999), Response_Results Total_Pages.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx

from concord.errors import ConcordError, PermanentError, TransientError, ValidationFailed

from ..kit.budget import RateBudget
from ..kit.errors import AuthFailed, ErrorMapper, NotFound, Throttled, parse_retry_after
from ..kit.http import VendorClient
from . import soap

MAX_COUNT = 999


class WorkdayErrors(ErrorMapper):
    def __init__(self) -> None:
        super().__init__("workday")

    def vendor_error(self, operation: str, response: httpx.Response) -> ConcordError | None:
        if response.status_code in (429, 503):
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return Throttled(f"workday {operation}: HTTP {response.status_code}", retry_after)
        fault = soap.fault_of(response.content)
        if fault is None:
            return None
        message = f"workday {operation}: {fault.code} {fault.message}"[:400]
        if "authentication" in fault.code.lower() or "invalid username or password" in fault.message.lower():
            return AuthFailed(f"workday {operation}: the integration user's credentials were refused")
        if fault.validation:
            return NotFound(message) if "Invalid ID value" in fault.message else ValidationFailed(message)
        if fault.code.startswith("SOAP-ENV:Server"):
            return TransientError(message)
        return PermanentError(message)


@dataclass(frozen=True)
class Page:
    items: list[ET.Element]
    total_pages: int


class WorkdayClient:
    """`call(operation, request)` -> the operation's response element."""

    def __init__(
        self,
        *,
        service_url: str,
        version: str,
        budget: RateBudget,
        credentials: Callable[[bool], tuple[str, str]] | None,
        auth: httpx.Auth | None = None,
        account: str = "",
        max_wait: float = 0.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """`credentials(reload)`: the ISU's (username, password) for WS-Security, re-read from the
        secret when `reload` (None with OAuth `auth`: a bearer token signs the calls in)."""
        self.version = version
        self._credentials = credentials
        self.vendor = VendorClient(
            base_url=service_url,
            errors=WorkdayErrors(),
            budget=budget,
            auth=auth,
            account=account,
            max_wait=max_wait,
            transport=transport,
        )

    def request(self, operation: str, *, add_only: bool = False) -> ET.Element:
        return soap.request(operation, self.version, add_only=add_only)

    def call(self, operation: str, body: ET.Element) -> ET.Element:
        try:
            return self._send(operation, body, reload=False)
        except AuthFailed:
            if self._credentials is None:
                raise
            return self._send(operation, body, reload=True)  # the secret may have been rotated

    def page(self, operation: str, body: ET.Element, item: str, page: int, count: int) -> Page:
        """One page of a Get: `count` (at most 999) `item` elements of Response_Data."""
        wanted = soap.child(body, "Response_Filter")
        soap.child(wanted, "Page", page)
        soap.child(wanted, "Count", min(max(count, 1), MAX_COUNT))
        answer = self.call(operation, body)
        body.remove(wanted)
        total = soap.text(answer, "wd:Response_Results/wd:Total_Pages")
        return Page(answer.findall(f"wd:Response_Data/wd:{item}", soap.NS), int(total or 1))

    def every(self, operation: str, body: ET.Element, item: str) -> Iterator[ET.Element]:
        """Every `item` of every page, MAX_COUNT a page."""
        number = 1
        while True:
            page = self.page(operation, body, item, number, MAX_COUNT)
            yield from page.items
            if number >= page.total_pages:
                return
            number += 1

    def close(self) -> None:
        self.vendor.close()

    def _send(self, operation: str, body: ET.Element, *, reload: bool) -> ET.Element:
        security = self._credentials(reload) if self._credentials is not None else None
        # https://community.workday.com/sites/default/files/file-hosting/productionapi/Revenue_Management/v45.0/Revenue_Management.html
        response = self.vendor.request(
            operation,
            "POST",
            "",
            content=soap.envelope(body, security),
            headers={"Content-Type": soap.CONTENT_TYPE},
        )
        return soap.answer(response.content, operation)
