"""The sandbox HTTP server: `/_sandbox/...` goes to the control API, `/<tenant>/...` to the
vendor that plays that tenant, with the tenant's state. Each tenant has its own vendor, so one
process can play a HubSpot CRM portal and a Kantata PSA account side by side. Runs in the
foreground (CLI) or in a background thread (tests), like the fault proxy."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

from .control import CONTROL_PREFIX, control_router
from .http import Request, Response
from .tenant import Call, Tenant, Vendor

logger = logging.getLogger(__name__)


class Sandbox:
    """Dispatches requests to the control API or to a tenant, answered by the tenant's vendor."""

    def __init__(self, vendors: Mapping[str, Vendor]) -> None:
        """`vendors` maps each tenant (first path segment) to the vendor that plays it."""
        if not vendors:
            raise ValueError("a sandbox serves at least one tenant")
        self.vendors: dict[str, Vendor] = dict(vendors)
        self.tenants: dict[str, Tenant] = {name: vendor.new_tenant(name) for name, vendor in vendors.items()}
        self._control = control_router(self.vendors, self.tenants)

    @property
    def name(self) -> str:
        """The vendors served, e.g. `hubspot+kantata`."""
        return "+".join(sorted({vendor.name for vendor in self.vendors.values()}))

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes, base_url: str) -> Response:
        parts = urlsplit(target)
        first, _, rest = parts.path.lstrip("/").partition("/")
        request = Request(
            method=method,
            tenant=first,
            path="/" + rest,
            query_string=parts.query,
            headers=headers,
            body=body,
            base_url=base_url,
        )
        if first == CONTROL_PREFIX:
            return self._control_answer(request)
        tenant = self.tenants.get(first)
        if tenant is None:
            return Response(404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}])
        vendor = self.vendors[first]
        try:
            response = vendor.handle(tenant, request)
        except Exception:  # a sandbox bug must show as a 500, not a dropped connection
            logger.exception("sandbox %s failed on %s %s", vendor.name, method, target)
            response = Response(500, [{"errorCode": "UNKNOWN_EXCEPTION", "message": "sandbox error"}])
        tenant.calls.record(Call(method, request.path, response.status))
        return response

    def _control_answer(self, request: Request) -> Response:
        found = self._control.match(request.method, request.path)
        if found is None:
            return Response(404, {"error": "no such control route"})
        handler, params = found
        return handler(request, **params)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY a keep-alive client's
    # delayed ACK holds every answer ~40 ms (Nagle's algorithm).
    disable_nagle_algorithm = True

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        # Behind a proxy (the fault proxy), the URLs the sandbox names must be the proxy's.
        host = (
            self.headers.get("X-Forwarded-Host")
            or self.headers.get("Host")
            or "{}:{}".format(*self.server.server_address[:2])
        )
        response = self.server.sandbox.handle(
            self.command, self.path, dict(self.headers.items()), body, f"http://{host}"
        )
        payload = response.encoded()
        self.send_response(response.status)
        if response.body is not None and "Content-Type" not in response.headers:
            self.send_header("Content-Type", "application/json;charset=UTF-8")
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("%s " + format, self.address_string(), *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], sandbox: Sandbox) -> None:
        super().__init__(address, _Handler)
        self.sandbox = sandbox


class SandboxServer:
    """A sandbox serving on a loopback port (0: any free port), in this thread or another.

    with SandboxServer(SalesforceSandbox(), tenants=["crm", "psa"]) as server:
        httpx.post(f"{server.url}/crm/services/oauth2/token", data=...)

    with SandboxServer.mixed({"crm": HubSpotSandbox(), "psa": KantataSandbox()}) as server:
        ...
    """

    def __init__(self, vendor: Vendor, tenants: Iterable[str], host: str = "127.0.0.1", port: int = 0) -> None:
        """One vendor playing every tenant."""
        self._init({name: vendor for name in tenants}, host, port)

    @classmethod
    def mixed(cls, vendors: Mapping[str, Vendor], host: str = "127.0.0.1", port: int = 0) -> SandboxServer:
        """A vendor per tenant: `vendors` maps tenant -> the vendor that plays it."""
        server = cls.__new__(cls)
        server._init(vendors, host, port)
        return server

    def _init(self, vendors: Mapping[str, Vendor], host: str, port: int) -> None:
        self.sandbox = Sandbox(vendors)
        self._server = _Server((host, port), self.sandbox)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def tenant(self, name: str) -> Tenant:
        return self.sandbox.tenants[name]

    def serve_forever(self) -> None:
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name=f"concord-sandbox-{self.sandbox.name}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
