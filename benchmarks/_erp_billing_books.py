"""The billing benchmark's accounts of the small firms' books and of Workday: each connector over
its own sandbox in this process (see _erp_billing_accounts.py for the others).

What each connector does for one billing run (one project's lines, one open draft):
  xero        per run: the draft look-up (GET Invoices where Reference) and the empty DRAFT's
              creation (PUT); per write of up to 50 lines: the draft read (its lines and status),
              then one POST that re-sends every line the draft has plus the new ones (Xero deletes
              the lines an update omits): requests grow linearly, lines sent quadratically.
  quickbooks  per write of up to 100 lines: the estimate look-up, the estimate read (SyncToken)
              and one write re-sending its lines (a sparse update's Line replaces them all); per
              run: the draft look-up and the item's id, less the SyncToken read of the first
              write, which creates the estimate.
  workday     per run: the customer's invoices (Get_Customer_Invoices) and the draft's Submit
              (Submit=false); per write of up to 100 lines: the draft read, then one Submit that
              re-sends every line (Customer_Invoice_Line_Replacement_Data replaces them).

Xero's limits are its own (60 calls a minute, 5 in progress, 5,000 a day) and are put on the run's
simulated clock; throttled, Concord's app has already spent the minute but for `allocation`
calls, at most half of it (another of its functions, whose calls this budget never saw), so the
sandbox's own minute limit answers 429 with Retry-After and X-Rate-Limit-Problem: minute.
https://developer.xero.com/faq/limits
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast

from concord.connectors import quickbooks, workday, xero
from concord.connectors.registry import ConnectorContext, Role
from concord.local.sandboxes.kit import Request, RequestBudget, SandboxServer
from concord.local.sandboxes.quickbooks import QuickBooksSandbox
from concord.local.sandboxes.quickbooks.app import QboTenant
from concord.local.sandboxes.workday import WorkdaySandbox
from concord.local.sandboxes.xero import DEFAULT_CLIENT, XeroSandbox
from concord.local.sandboxes.xero.app import AppLimits, XeroTenant
from concord.local.vendors import connection_for

from ._erp_billing_wire import Clock, DeclaredCalls, ErpUnderTest, RecordingVendor, allocate, json_body, kind_of

TENANT = "erp"
DAY = 86_400.0
WORKDAY_PER_MINUTE = 600  # the sandbox's allocation (Workday publishes none)
# Billing describes a time entry's line as "... (time entry <id>)" (sync.billing.invoice_line);
# QuickBooks appends the line's concord_ref in parentheses.
_TIME_ENTRY = re.compile(r"\(time entry (?P<entry>[^)]+)\)$")
_QBO_REF = re.compile(r"\((?P<ref>time:[^)]+)\)$")
_WORKDAY_GET = re.compile(rb"<(?:\w+:)?Get_\w+_Request[\s>]")
_WORKDAY_LINE = re.compile(rb"<(?:\w+:)?Customer_Invoice_Line_Replacement_Data[\s>]")


def time_entry_ref(description: object) -> str:
    match = _TIME_ENTRY.search(str(description or ""))
    return f"time:{match['entry']}" if match else ""


# -- Xero -------------------------------------------------------------------------------------


def xero_lines(request: Request) -> int:
    """The line items an invoice write carries (all of the draft's, on an update)."""
    body = json_body(request) if request.method in ("PUT", "POST") and "Invoices" in request.path else None
    invoices = body.get("Invoices") or [] if isinstance(body, dict) else []
    return sum(len(invoice.get("LineItems") or []) for invoice in invoices)


@contextmanager
def xero_account() -> Iterator[ErpUnderTest]:
    sandbox = XeroSandbox()
    recorder = RecordingVendor(sandbox, lines_of=xero_lines)
    with SandboxServer(recorder, [TENANT]) as server:
        secret = connection_for("xero", f"{server.url}/{TENANT}")
        erp = xero.connect(Role.ERP, secret, ConnectorContext("us-01", lambda: dict(secret)))
        tenant = server.tenant(TENANT)
        assert isinstance(tenant, XeroTenant)

        def on_clock(clock: Clock) -> None:
            """Concord's app's minute and day allocations, counted on the run's clock."""
            limits = AppLimits(
                RequestBudget(sandbox.per_minute, 60.0, clock), RequestBudget(sandbox.per_day, DAY, clock)
            )
            tenant.budget = limits.minute
            tenant.limits[DEFAULT_CLIENT.client_id] = limits

        def throttle(allocation: int, window: float, clock: Clock) -> None:
            minute = tenant.limits_of(DEFAULT_CLIENT.client_id).minute
            left = min(allocation, sandbox.per_minute // 2)
            for _ in range(sandbox.per_minute - left):
                minute.take()

        def line_refs() -> list[str]:
            return [
                time_entry_ref(line.get("Description"))
                for invoice in tenant.store.rows("Invoices")
                for line in invoice.get("LineItems") or []
            ]

        try:
            yield ErpUnderTest(
                erp,
                erp.client.vendor,
                recorder,
                throttle,
                line_refs,
                DeclaredCalls(reads_per_write=1, reads_per_run=1, writes_per_run=1),
                throttle_status=429,
                on_clock=on_clock,
            )
        finally:
            erp.client.close()


# -- QuickBooks Online ----------------------------------------------------------------------------


def quickbooks_lines(request: Request) -> int:
    """The item lines an estimate write carries (all of the estimate's, on an update)."""
    body = json_body(request) if request.method == "POST" and request.path.endswith("/estimate") else None
    lines = body.get("Line") or [] if isinstance(body, dict) else []
    return sum(1 for line in lines if line.get("DetailType") == "SalesItemLineDetail")


@contextmanager
def quickbooks_account() -> Iterator[ErpUnderTest]:
    """Throttled, the realm's minute allocation runs out (429 with Retry-After, as its 10 a
    second does)."""
    sandbox = QuickBooksSandbox()
    recorder = RecordingVendor(sandbox, lines_of=quickbooks_lines)
    with SandboxServer(recorder, [TENANT]) as server:
        secret = connection_for("quickbooks", f"{server.url}/{TENANT}")
        erp = quickbooks.connect(Role.ERP, secret, ConnectorContext("us-01", lambda: dict(secret)))
        tenant = cast(QboTenant, server.tenant(TENANT))

        def on_clock(clock: Clock) -> None:
            """500 a minute and 10 a second per realm, counted on the run's clock."""
            allocate(tenant, sandbox.per_minute, 60.0, clock)
            tenant.clock = clock  # each app's second too
            tenant.app_seconds.clear()

        def line_refs() -> list[str]:
            return [
                match["ref"] if (match := _QBO_REF.search(str(line.get("Description") or ""))) else ""
                for estimate in tenant.store.rows("Estimate")
                for line in estimate.get("Line") or []
                if line.get("DetailType") == "SalesItemLineDetail"
            ]

        try:
            yield ErpUnderTest(
                erp,
                erp.client.vendor,
                recorder,
                lambda allocation, window, clock: allocate(tenant, allocation, window, clock),
                line_refs,
                DeclaredCalls(reads_per_write=2, reads_per_run=1),
                throttle_status=429,
                on_clock=on_clock,
            )
        finally:
            erp.client.close()


# -- Workday ---------------------------------------------------------------------------------------


def workday_kind(request: Request) -> str:
    """Every WWS call is a POST: a Get_* operation reads, the others write."""
    if request.path.endswith("/token"):
        return "token"
    return "read" if _WORKDAY_GET.search(request.body) else kind_of(request.method, request.path)


def workday_lines(request: Request) -> int:
    return len(_WORKDAY_LINE.findall(request.body))


@contextmanager
def workday_account() -> Iterator[ErpUnderTest]:
    """Workday publishes no limit; the sandbox's allocation (600 a minute), spent, answers 503 with
    Retry-After, which the connector takes as a throttle."""
    sandbox = WorkdaySandbox(allocation=WORKDAY_PER_MINUTE, window_seconds=60.0)
    recorder = RecordingVendor(sandbox, classify=workday_kind, lines_of=workday_lines)
    with SandboxServer(recorder, [TENANT]) as server:
        secret = connection_for("workday", f"{server.url}/{TENANT}")
        erp = workday.connect(Role.ERP, secret, ConnectorContext("us-01", lambda: dict(secret)))
        tenant = server.tenant(TENANT)

        def throttle(allocation: int, window: float, clock: Clock) -> None:
            # Concord paces Workday at 2 calls a second: a window of a few seconds would never run
            # out. Retry-After says when the allocation frees (as Business Central's does).
            allocate(tenant, allocation, max(window, 60.0), clock)
            sandbox.retry_after_seconds = math.ceil(max(window, 60.0))

        def line_refs() -> list[str]:
            return [str(line.get("memo")) for invoice in tenant.store.rows("invoices") for line in invoice["lines"]]

        try:
            yield ErpUnderTest(
                erp,
                erp.client.vendor,
                recorder,
                throttle,
                line_refs,
                DeclaredCalls(reads_per_write=1, reads_per_run=1, writes_per_run=1),
                throttle_status=503,
                on_clock=lambda clock: allocate(tenant, WORKDAY_PER_MINUTE, 60.0, clock),
            )
        finally:
            erp.client.close()
