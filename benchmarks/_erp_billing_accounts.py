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
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

from concord.connectors import business_central, dynamics_finance, netsuite
from concord.connectors.dynamics_finance.billing import INVOICE_LINE_BATCH_LIMIT, REFS_PER_QUERY
from concord.connectors.kit.http import VendorClient
from concord.connectors.registry import ConnectorContext, Role
from concord.local.sandboxes.business_central import DEFAULT_COMPANY_ID, BusinessCentralSandbox
from concord.local.sandboxes.business_central.company import Company
from concord.local.sandboxes.dynamics_finance import FinanceSandbox
from concord.local.sandboxes.kit import RequestBudget, SandboxServer
from concord.local.sandboxes.kit.tenant import Call, Tenant
from concord.local.sandboxes.netsuite import NetSuiteSandbox
from concord.local.vendors import connection_for, dynamics_finance_connection, netsuite_connection
from concord.ports import ErpPort

TENANT = "erp"
Clock = Callable[[], float]
# How billing describes a time entry's line (sync.billing.invoice_line): Business Central keeps
# Concord's line ref nowhere else, so the benchmark reads it back from the description.
_BC_TIME_ENTRY = re.compile(r"\(time entry (?P<entry>[^)]+)\)$")


@dataclass(frozen=True)
class DeclaredCalls:
    """The calls a connector makes beside its batched line writes: reads per write and per run,
    and writes per run (a draft header that is a record of its own)."""

    reads_per_write: int
    reads_per_run: int
    writes_per_run: int = 0


@dataclass
class ErpUnderTest:
    """One ERP account in its sandbox, with what the benchmark reads of it without a request."""

    erp: ErpPort
    vendor: VendorClient  # the connector's HTTP client, whose rate budget paces its calls
    calls: Callable[[], list[Call]]
    clear_calls: Callable[[], None]
    throttle: Callable[[int, float, Clock], None]  # allocation, window seconds, the window's clock
    line_refs: Callable[[], list[str]]  # the concord_ref of every line on the ERP's documents
    declared: DeclaredCalls
    throttle_status: int


def allocate(tenant: Tenant, allocation: int, window: float, clock: Clock) -> None:
    """The account's request allocation from now on: `allocation` requests per rolling `window`
    seconds of `clock`."""
    tenant.budget = RequestBudget(allocation, window, clock)


@contextmanager
def netsuite_account() -> Iterator[ErpUnderTest]:
    with SandboxServer(NetSuiteSandbox(), [TENANT]) as server:
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
                tenant.calls.calls,
                tenant.calls.clear,
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
    with SandboxServer(sandbox, [TENANT]) as server:
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
                tenant.calls.calls,
                tenant.calls.clear,
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
    with SandboxServer(FinanceSandbox(), [TENANT]) as server:
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
                tenant.calls.calls,
                tenant.calls.clear,
                lambda allocation, window, clock: allocate(tenant, allocation, window, clock),
                line_refs,
                DeclaredCalls(reads_per_write=2 + ref_queries, reads_per_run=1, writes_per_run=1),
                throttle_status=429,
            )
        finally:
            erp.client.close()


ERPS: dict[str, Callable[[], AbstractContextManager[ErpUnderTest]]] = {
    "netsuite": netsuite_account,
    "business_central": business_central_account,
    "dynamics_finance": dynamics_finance_account,
}
