"""python -m concord.local.sandboxes <vendor> --host 127.0.0.1 --port N [--tenant crm ...]"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Callable

from .kit import SandboxServer, Vendor
from .hubspot import HubSpotSandbox
from .kantata import KantataSandbox
from .salesforce import SalesforceSandbox

VENDORS: dict[str, Callable[[], Vendor]] = {
    "salesforce": SalesforceSandbox, "kantata": KantataSandbox, "hubspot": HubSpotSandbox,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m concord.local.sandboxes",
                                     description="Serve a stateful vendor sandbox.")
    parser.add_argument("vendor", choices=sorted(VENDORS))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8780)
    parser.add_argument("--tenant", action="append", dest="tenants",
                        help="a tenant (first path segment) to serve; repeat (default: crm, psa)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    server = SandboxServer(VENDORS[args.vendor](), args.tenants or ["crm", "psa"],
                           host=args.host, port=args.port)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"{args.vendor} sandbox on {server.url} (control API: {server.url}/_sandbox)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
