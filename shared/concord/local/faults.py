"""A fault-injecting HTTP reverse proxy, to put between Concord and a system (Tryton locally).

    python -m concord.local.faults --host 127.0.0.1 --port 8766 --upstream http://127.0.0.1:8765

Every request is forwarded to the upstream (method, path, query, body, headers minus the
hop-by-hop ones) and its answer streamed back, unless a fault is set for the request's target:
the first path segment, which for Tryton is the database (`/erp/rpc/` -> "erp"). Off by
default: with no fault set it is a plain pass-through.

Faults are set through a control API on the same port (JSON in, JSON out):

    PUT    /_faults/<target>  {"mode": "error", "probability": 0.5, "status": 503, "remaining": 3}
    DELETE /_faults/<target>  clear one target      DELETE /_faults  clear all
    GET    /_faults           active faults, and counters of injected faults per target

Modes (what a client sees):
    outage    the connection is closed without an answer (httpx: RemoteProtocolError)
    reset     the connection is reset (TCP RST; httpx: ReadError / ConnectError)
    error     HTTP `status` (default 503), nothing forwarded
    throttle  HTTP 429 with `Retry-After: <retry_after>`, nothing forwarded
    latency   waits `latency_ms`, then forwards (a client timeout shorter than that times out)
A fault applies to each request with `probability` (default 1) and, with `remaining` set,
clears itself after injecting that many times. TrytonRpcClient classifies all five as
TrytonTransientError (tests/integration/connectors/test_faults.py).

`FaultController(base_url)` is the typed client of the control API (tests, demo, chaos runs);
`FaultProxy` runs the proxy in a background thread of the current process.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import signal
import socket
import struct
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

logger = logging.getLogger(__name__)

CONTROL_PREFIX = "/_faults"
# RFC 9110 section 7.6.1: connection-specific headers a proxy must not forward. Host and
# Content-Length are recomputed for the other side.
HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
    "te", "trailer", "trailers", "transfer-encoding", "upgrade",
})
_RECOMPUTED = frozenset({"host", "content-length"})
_CHUNK = 64 * 1024
DEFAULT_UPSTREAM_TIMEOUT = httpx.Timeout(60.0, connect=5.0)


class FaultMode(StrEnum):
    OUTAGE = "outage"
    ERROR = "error"
    THROTTLE = "throttle"
    LATENCY = "latency"
    RESET = "reset"


class FaultSpec(BaseModel):
    """One target's fault, as PUT on /_faults/<target>."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: FaultMode
    probability: float = Field(default=1.0, ge=0.0, le=1.0)
    status: int = Field(default=503, ge=400, le=599)  # error
    retry_after: int = Field(default=1, ge=0)  # throttle: seconds in Retry-After
    latency_ms: int = Field(default=0, ge=0, le=600_000)  # latency
    remaining: int | None = Field(default=None, ge=1)  # clears after this many injections


class ActiveFault(FaultSpec):
    """A fault as GET /_faults shows it: `remaining` counts down as it is injected."""

    remaining: int | None = Field(default=None, ge=0)


class FaultsReport(BaseModel):
    """GET /_faults: active faults by target, injected faults by target and mode, and how
    many requests each target forwarded to the upstream."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    faults: dict[str, ActiveFault] = Field(default_factory=dict)
    injected: dict[str, dict[FaultMode, int]] = Field(default_factory=dict)
    forwarded: dict[str, int] = Field(default_factory=dict)


def target_of(path: str) -> str:
    """The fault target of a request path: its first segment ("/erp/rpc/" -> "erp")."""
    return urlsplit(path).path.lstrip("/").split("/", 1)[0]


def forwardable_headers(headers: Mapping[str, str] | Any) -> list[tuple[str, str]]:
    """Headers minus hop-by-hop ones (also those the Connection header names), Host and
    Content-Length; `headers` is anything with .items() (email.message.Message, httpx.Headers)."""
    items = list(headers.items())
    named = {token.strip().lower() for k, v in items if k.lower() == "connection"
             for token in v.split(",")}
    return [(k, v) for k, v in items
            if k.lower() not in HOP_BY_HOP and k.lower() not in _RECOMPUTED
            and k.lower() not in named]


def forwarded_headers(headers: Mapping[str, str] | Any) -> list[tuple[str, str]]:
    """What the upstream is sent: the forwardable headers plus `X-Forwarded-Host`, the host the
    client called, so an upstream that names its own URL in answers (a token's instance_url)
    names the proxy's and later calls stay behind the proxy."""
    kept = [(k, v) for k, v in forwardable_headers(headers) if k.lower() != "x-forwarded-host"]
    host = headers.get("Host")
    return [*kept, ("X-Forwarded-Host", host)] if host else kept


@dataclass
class _Entry:
    spec: FaultSpec
    remaining: int | None


@dataclass
class FaultTable:
    """Active faults per target and counters; every method is thread-safe."""

    rng: random.Random = field(default_factory=random.Random)
    _faults: dict[str, _Entry] = field(default_factory=dict)
    _injected: defaultdict[str, Counter[FaultMode]] = field(
        default_factory=lambda: defaultdict(Counter))
    _forwarded: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def set(self, target: str, spec: FaultSpec) -> None:
        with self._lock:
            self._faults[target] = _Entry(spec, spec.remaining)

    def clear(self, target: str | None = None) -> None:
        """Clear one target's fault, or every fault (counters are kept)."""
        with self._lock:
            if target is None:
                self._faults.clear()
            else:
                self._faults.pop(target, None)

    def decide(self, target: str) -> FaultSpec | None:
        """The fault to inject into this request to `target`, or None to forward it.

        Counts the injection, and clears the fault when its `remaining` count runs out.
        """
        with self._lock:
            entry = self._faults.get(target)
            if entry is None or self.rng.random() >= entry.spec.probability:
                return None
            self._injected[target][entry.spec.mode] += 1
            if entry.remaining is not None:
                entry.remaining -= 1
                if entry.remaining <= 0:
                    del self._faults[target]
            return entry.spec

    def forwarded(self, target: str) -> None:
        with self._lock:
            self._forwarded[target] += 1

    def report(self) -> FaultsReport:
        with self._lock:
            return FaultsReport(
                faults={t: ActiveFault(**{**e.spec.model_dump(), "remaining": e.remaining})
                        for t, e in self._faults.items()},
                injected={t: dict(c) for t, c in self._injected.items() if c},
                forwarded=dict(self._forwarded))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], upstream: str, table: FaultTable,
                 timeout: httpx.Timeout) -> None:
        self.upstream = upstream.rstrip("/")
        self.table = table
        # httpx.Client is safe to share between threads; its pool reuses upstream connections.
        self.http = httpx.Client(timeout=timeout, follow_redirects=False)
        super().__init__(address, _Handler)

    def server_close(self) -> None:
        super().server_close()
        self.http.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-request (its own timeout, or a test) is not an error of
        # the proxy: log it instead of printing a traceback to stderr.
        logger.debug("fault proxy: request from %s failed", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY a keep-alive client's
    # delayed ACK adds ~40 ms to every answer.
    disable_nagle_algorithm = True

    # -- dispatch --------------------------------------------------------------------------

    def _handle(self) -> None:
        path = urlsplit(self.path).path
        if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
            self._control(path[len(CONTROL_PREFIX):].strip("/"))
            return
        target = target_of(self.path)
        body = self._read_body()
        fault = self.server.table.decide(target)
        if fault is not None:
            logger.info("fault injected target=%s mode=%s method=%s path=%s", target,
                        fault.mode.value, self.command, self.path)
            if fault.mode is FaultMode.LATENCY:
                time.sleep(fault.latency_ms / 1000)
            else:
                self._inject(fault)
                return
        self._forward(target, body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle

    # -- faults ----------------------------------------------------------------------------

    def _inject(self, fault: FaultSpec) -> None:
        if fault.mode is FaultMode.ERROR:
            self._send_json(fault.status, {"error": "injected fault", "status": fault.status})
        elif fault.mode is FaultMode.THROTTLE:
            self._send_json(429, {"error": "injected throttle"},
                            {"Retry-After": str(fault.retry_after)})
        elif fault.mode is FaultMode.OUTAGE:
            # Close without a byte of answer, as a crashed or vanished server would.
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif fault.mode is FaultMode.RESET:
            # SO_LINGER with a zero timeout makes close() send a TCP RST.
            self.close_connection = True
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()

    # -- forwarding ------------------------------------------------------------------------

    def _forward(self, target: str, body: bytes) -> None:
        self.server.table.forwarded(target)
        request = self.server.http.build_request(
            self.command, self.server.upstream + self.path,
            headers=forwarded_headers(self.headers), content=body)
        try:
            response = self.server.http.send(request, stream=True)
        except httpx.TimeoutException as exc:
            self._send_json(504, {"error": f"upstream timed out: {exc!r}"})
            return
        except httpx.TransportError as exc:
            self._send_json(502, {"error": f"upstream unreachable: {exc!r}"})
            return
        try:
            self.send_response(response.status_code, response.reason_phrase)
            length = response.headers.get("content-length")
            for key, value in forwardable_headers(response.headers):
                self.send_header(key, value)
            if length is not None:
                self.send_header("Content-Length", length)
            else:  # unknown length: the end of the body is the end of the connection
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if self.command != "HEAD":
                for chunk in response.iter_raw(_CHUNK):
                    self.wfile.write(chunk)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away (e.g. its own timeout)
        except httpx.HTTPError as exc:  # upstream broke off mid-answer: so do we
            logger.warning("upstream failed mid-answer target=%s: %r", target, exc)
            self.close_connection = True
        finally:
            response.close()

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts = []
            while size := int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16):
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
                pass
            return b"".join(parts)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    # -- control API -----------------------------------------------------------------------

    def _control(self, target: str) -> None:
        body = self._read_body()
        table = self.server.table
        if self.command == "GET" and not target:
            self._send_json(200, table.report().model_dump(mode="json"))
        elif self.command == "PUT" and target:
            try:
                spec = FaultSpec.model_validate_json(body or b"{}")
            except ValidationError as exc:
                self._send_json(400, {"error": "invalid fault", "details": json.loads(exc.json())})
                return
            table.set(target, spec)
            logger.info("fault set target=%s %s", target, spec.model_dump_json())
            self._send_json(200, {"target": target, **spec.model_dump(mode="json")})
        elif self.command == "DELETE":
            table.clear(target or None)
            logger.info("fault cleared target=%s", target or "*")
            self._send_json(200, {"cleared": target or "*"})
        else:
            self._send_json(405, {"error": f"{self.command} {self.path} is not a fault control"})

    def _send_json(self, status: int, payload: object,
                   headers: Mapping[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
        logger.debug("fault proxy %s " + format, self.address_string(), *args)


class FaultProxy:
    """The proxy serving in a background thread of this process (port 0: any free port).

        with FaultProxy("http://127.0.0.1:8765") as proxy:
            client = TrytonRpcClient(proxy.url, "erp", ...)
            FaultController(proxy.url).set("erp", "outage")
    """

    def __init__(self, upstream: str, host: str = "127.0.0.1", port: int = 0, *,
                 seed: int | None = None,
                 upstream_timeout: httpx.Timeout = DEFAULT_UPSTREAM_TIMEOUT) -> None:
        self.table = FaultTable(rng=random.Random(seed))
        self._server = _Server((host, port), upstream, self.table, upstream_timeout)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        assert isinstance(host, str), "an AF_INET address"
        return f"http://{host}:{port}"

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted."""
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    def start(self) -> FaultProxy:
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="concord-fault-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


class FaultController:
    """Typed client of a fault proxy's control API."""

    def __init__(self, base_url: str, *, timeout: float = 5.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout,
                                  transport=transport)

    def set(self, target: str, mode: FaultMode | str, *, probability: float = 1.0,
            status: int = 503, retry_after: int = 1, latency_ms: int = 0,
            remaining: int | None = None) -> FaultSpec:
        spec = FaultSpec(mode=FaultMode(mode), probability=probability, status=status,
                         retry_after=retry_after, latency_ms=latency_ms, remaining=remaining)
        response = self._http.put(f"{CONTROL_PREFIX}/{target}",
                                  content=spec.model_dump_json(exclude_none=True),
                                  headers={"Content-Type": "application/json"})
        response.raise_for_status()
        return spec

    def clear(self, target: str | None = None) -> None:
        """Clear one target's fault, or all of them."""
        path = f"{CONTROL_PREFIX}/{target}" if target else CONTROL_PREFIX
        self._http.delete(path).raise_for_status()

    def list(self) -> FaultsReport:
        response = self._http.get(CONTROL_PREFIX)
        response.raise_for_status()
        return FaultsReport.model_validate(response.json())

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> FaultController:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m concord.local.faults",
        description="Fault-injecting reverse proxy (control API: /_faults).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="e.g. http://127.0.0.1:8765")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of the probability draws (reproducible chaos runs)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    proxy = FaultProxy(args.upstream, args.host, args.port, seed=args.seed)
    logger.info("fault proxy listening url=%s upstream=%s", proxy.url, args.upstream)
    # SIGTERM (how the local stack stops background processes) ends it like Ctrl-C.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    try:
        proxy.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
