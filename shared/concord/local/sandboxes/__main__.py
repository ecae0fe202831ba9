"""python -m concord.local.sandboxes --host 127.0.0.1 --port N --tenant crm=hubspot --tenant psa=kantata

Each `--tenant role=vendor` names a tenant (first path segment) and the vendor that plays it, so
one process serves any mix of vendors. The older form names one vendor for every tenant:
`python -m concord.local.sandboxes salesforce --tenant crm --tenant psa`.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
from collections.abc import Callable

from .business_central import BusinessCentralSandbox
from .dynamics_finance import FinanceSandbox
from .hubspot import HubSpotSandbox
from .kantata import KantataSandbox
from .kit import SandboxServer, Vendor
from .netsuite import NetSuiteSandbox
from .quickbooks import QuickBooksSandbox
from .salesforce import SalesforceSandbox
from .workday import WorkdaySandbox
from .xero import XeroSandbox

VENDORS: dict[str, Callable[[], Vendor]] = {
    "salesforce": SalesforceSandbox,
    "kantata": KantataSandbox,
    "hubspot": HubSpotSandbox,
    "business_central": BusinessCentralSandbox,
    "netsuite": NetSuiteSandbox,
    "dynamics_finance": FinanceSandbox,
    "quickbooks": QuickBooksSandbox,
    "xero": XeroSandbox,
    "workday": WorkdaySandbox,
}
DEFAULT_TENANTS = ("crm", "psa")


def tenant_vendors(default_vendor: str | None, tenants: list[str] | None) -> dict[str, str]:
    """Tenant -> vendor name from the arguments: `crm=hubspot` names its own vendor, a bare
    `crm` takes the positional vendor. Raises ValueError on an unknown vendor or a tenant
    without one."""
    chosen: dict[str, str] = {}
    for item in tenants or list(DEFAULT_TENANTS):
        tenant, _, vendor = item.partition("=")
        vendor = vendor or default_vendor or ""
        if not tenant or vendor not in VENDORS:
            raise ValueError(
                f"tenant {item!r}: name a vendor ({', '.join(sorted(VENDORS))}), "
                "as tenant=vendor or as the first argument"
            )
        if tenant in chosen:
            raise ValueError(f"tenant {tenant!r} is named twice")
        chosen[tenant] = vendor
    return chosen


def build_server(chosen: dict[str, str], host: str, port: int) -> SandboxServer:
    """One vendor object per vendor name, shared by the tenants it plays."""
    players = {name: VENDORS[name]() for name in set(chosen.values())}
    return SandboxServer.mixed({tenant: players[name] for tenant, name in chosen.items()}, host=host, port=port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m concord.local.sandboxes", description="Serve stateful vendor sandboxes, a vendor per tenant."
    )
    parser.add_argument("vendor", nargs="?", choices=sorted(VENDORS), help="the vendor of tenants named without one")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8780)
    parser.add_argument(
        "--tenant",
        action="append",
        dest="tenants",
        help="a tenant (first path segment) to serve, as NAME=VENDOR or NAME; repeat (default: crm, psa)",
    )
    args = parser.parse_args(argv)
    try:
        chosen = tenant_vendors(args.vendor, args.tenants)
    except ValueError as exc:
        parser.error(str(exc))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    server = build_server(chosen, args.host, args.port)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    plays = ", ".join(f"/{tenant}: {vendor}" for tenant, vendor in sorted(chosen.items()))
    print(f"sandbox on {server.url} ({plays}; control API: {server.url}/_sandbox)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
