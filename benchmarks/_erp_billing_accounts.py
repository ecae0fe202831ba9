"""The ERP accounts the billing benchmark (erp_billing) runs against: each connector over its own
sandbox in this process, with what the benchmark reads of the sandbox without a request (its call
log, its lines' Concord refs), how its throttle is made to bite, and the calls the connector
declares beside its batched line writes.

What each connector does for one billing run (one project's lines, one open draft):
  netsuite          per write of up to 200 lines: the lines already billed (SuiteQL by ref), the
                    order's status, the new lines' ids; per run: the open draft, the items' ids.
  business_central  per run: the draft look-up (no external ids: look-up before create) and the
                    draft's creation; per write: one `$batch` of up to 100 line POSTs, nothing read
                    (billed-line dedupe is the registry's).
  dynamics_finance  per run: the open free text invoice look-up and the header's creation; per write
                    of up to 100 lines: the header (still unposted?), the lines already billed by
                    their stored ref (REFS_PER_QUERY refs a query: URL length), the last line number,
                    then one `$batch` change set.
Xero, QuickBooks Online and Workday: _erp_billing_books.py. Every account's sandbox vendor is
wrapped in a RecordingVendor (_erp_billing_wire.py): its record is what the benchmark counts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from contextlib import contextmanager

from concord.connectors import business_central, dynamics_finance, netsuite
from concord.connectors.dynamics_finance.billing import INVOICE_LINE_BATCH_LIMIT, REFS_PER_QUERY
from concord.connectors.registry import ConnectorContext, Role
from concord.local.sandboxes.business_central import DEFAULT_COMPANY_ID, BusinessCentralSandbox
from concord.local.sandboxes.business_central.company import Company
from concord.local.sandboxes.dynamics_finance import FinanceSandbox
from concord.local.sandboxes.kit import Request, SandboxServer
from concord.local.sandboxes.netsuite import NetSuiteSandbox
from concord.local.vendors import connection_for, dynamics_finance_connection, netsuite_connection

from ._erp_billing_books import quickbooks_account, workday_account, xero_account
from ._erp_billing_wire import Clock, DeclaredCalls, ErpAccount, ErpUnderTest, RecordingVendor, allocate, json_body

TENANT = "erp"
# How billing describes a time entry's line (sync.billing.invoice_line): Business Central keeps
# Concord's line ref nowhere else, so the benchmark reads it back from the description.
_BC_TIME_ENTRY = re.compile(r"\(time entry (?P<entry>[^)]+)\)$")
_FINANCE_LINE_POST = re.compile(rb"^POST \S*FreeTextInvoiceLines", re.MULTILINE)


def netsuite_lines(request: Request) -> int:
    """The sales order lines a record write carries (`item.items`)."""
    body = json_body(request) if request.method in ("PUT", "PATCH", "POST") else None
    items = ((body.get("item") or {}).get("items") or []) if isinstance(body, dict) else []
    return len(items)


def business_central_lines(request: Request) -> int:
    """The line POSTs of a `$batch`."""
    body = json_body(request) if request.path.endswith("$batch") else None
    operations = body.get("requests") or [] if isinstance(body, dict) else []
    return sum(1 for op in operations if op.get("method") == "POST" and "salesInvoiceLines" in op.get("url", ""))


def finance_lines(request: Request) -> int:
    """The line POSTs of a `$batch` change set (multipart)."""
    return len(_FINANCE_LINE_POST.findall(request.body)) if request.path.endswith("$batch") else 0


@contextmanager
def netsuite_account() -> Iterator[ErpUnderTest]:
    recorder = RecordingVendor(NetSuiteSandbox(), lines_of=netsuite_lines)
    with SandboxServer(recorder, [TENANT]) as server:
        secret = netsuite_connection(f"{server.url}/{TENANT}")
        erp = netsuite.connect(Role.ERP, secret, ConnectorContext("us-01", lambda: dict(secret)))
        tenant = server.tenant(TENANT)

        def line_refs() -> list[str]:
            return [
                str(line.get("custcol_concord_ref"))
                for order in tenant.store.rows("salesOrder")
                for line in (order.get("item") or {}).get("items") or []
            ]

        try:
            yield ErpUnderTest(
                erp,
                erp.client.http,
                recorder,
                lambda allocation, window, clock: allocate(tenant, allocation, window, clock),
                line_refs,
                DeclaredCalls(reads_per_write=3, reads_per_run=2),
                throttle_status=429,
            )
        finally:
            erp.client.close()


@contextmanager
def business_central_account() -> Iterator[ErpUnderTest]:
    """The sandbox company over 6,000 requests per 5 minutes by default; throttled, it answers 429
    with Retry-After (the window, rounded up to whole seconds)."""
    sandbox = BusinessCentralSandbox()
    recorder = RecordingVendor(sandbox, lines_of=business_central_lines)
    with SandboxServer(recorder, [TENANT]) as server:
        secret = connection_for("business_central", f"{server.url}/{TENANT}")
        erp = business_central.connect(Role.ERP, secret, ConnectorContext("us-01", lambda: dict(secret)))
        tenant = server.tenant(TENANT)
        company = Company(tenant.store, DEFAULT_COMPANY_ID)

        def throttle(allocation: int, window: float, clock: Clock) -> None:
            allocate(tenant, allocation, window, clock)
            sandbox.retry_after_seconds = max(1, math.ceil(window))

        def line_refs() -> list[str]:
            found = (_BC_TIME_ENTRY.search(str(line.get("description"))) for line in company.rows("salesInvoiceLines"))
            return [f"time:{match['entry']}" if match else "" for match in found]

        try:
            yield ErpUnderTest(
                erp,
                erp.client.vendor,
                recorder,
                throttle,
                line_refs,
                DeclaredCalls(reads_per_write=0, reads_per_run=1, writes_per_run=1),
                throttle_status=429,
            )
        finally:
            erp.client.close()


@contextmanager
def dynamics_finance_account() -> Iterator[ErpUnderTest]:
    """The sandbox environment with the line extension field (stored refs); throttled, its service
    protection answers 429 with Retry-After."""
    recorder = RecordingVendor(FinanceSandbox(), lines_of=finance_lines)
    with SandboxServer(recorder, [TENANT]) as server:
        secret = dynamics_finance_connection(f"{server.url}/{TENANT}")
        erp = dynamics_finance.connect(Role.ERP, secret, ConnectorContext("us-01", lambda: dict(secret)))
        tenant = server.tenant(TENANT)

        def line_refs() -> list[str]:
            return [str(line.get("ConcordLineRef")) for line in tenant.store.rows("FreeTextInvoiceLines")]

        ref_queries = math.ceil(INVOICE_LINE_BATCH_LIMIT / REFS_PER_QUERY)
        try:
            yield ErpUnderTest(
                erp,
                erp.client.http,
                recorder,
                lambda allocation, window, clock: allocate(tenant, allocation, window, clock),
                line_refs,
                DeclaredCalls(reads_per_write=2 + ref_queries, reads_per_run=1, writes_per_run=1),
                throttle_status=429,
            )
        finally:
            erp.client.close()


ERPS: dict[str, ErpAccount] = {
    "netsuite": netsuite_account,
    "business_central": business_central_account,
    "dynamics_finance": dynamics_finance_account,
    "xero": xero_account,
    "quickbooks": quickbooks_account,
    "workday": workday_account,
}
