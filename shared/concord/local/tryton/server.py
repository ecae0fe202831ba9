"""Run the local trytond server as a detached background process, controlled by a pid file."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from ...ingress.standard_webhooks import is_valid_secret
from ..processes import is_alive, port_is_free, start_detached, stop
from .errors import PortInUseError, TrytonLocalError
from .layout import (
    DATABASES,
    DEFAULT_PORT,
    TrytonHome,
    WebhookPush,
    configured_port,
    configured_push,
    write_config,
)

logger = logging.getLogger(__name__)

SERVE_SCRIPT = Path(__file__).with_name("serve_script.py")
# The longest wait for a live server to answer (it loads three databases: ~3 s on two cores).
# A server process that exits ends the wait at once, with the end of its log as the reason.
START_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class TrytonServer:
    """A running trytond serving the crm, psa and erp databases of one home."""

    home: Path
    port: int
    pid: int

    @property
    def url(self) -> str:
        """Base URL; a database's JSON-RPC endpoint is `{url}/{database}/rpc/`."""
        return f"http://127.0.0.1:{self.port}"

    def stop(self, timeout: float = 10.0) -> None:
        stop_server(self.home, timeout)


def running_server(home: Path) -> TrytonServer | None:
    """The server recorded in home's pid file, if that process is still our trytond."""
    pid = _live_server_pid(TrytonHome(home))
    return TrytonServer(home, configured_port(home), pid) if pid else None


def start_server(
    home: Path,
    port: int = DEFAULT_PORT,
    timeout: float = START_TIMEOUT_SECONDS,
    *,
    webhook_url: str | None = None,
    webhook_secrets: Mapping[str, str] | None = None,
) -> TrytonServer:
    """Start trytond in the background (or return the one already running on `port`).

    The process runs in its own session with TZ=UTC (Tryton stamps write_date in server-local
    time), logs to home/logs/trytond.log and outlives the caller until `stop_server`.
    Returns once the JSON-RPC endpoint answers; raises PortInUseError if `port` is taken, and
    TrytonLocalError (with the end of the log) as soon as the process exits during start-up.

    `webhook_url` (e.g. http://127.0.0.1:8787/webhooks) turns on concord_sync's push: each
    database POSTs its events to `<webhook_url>/<database>`, signed with its secret from
    `webhook_secrets` ({"crm": "whsec_...", ...}; a database without one does not push).
    None: push disabled. A server already running on `port` with other push settings is
    restarted with these (the settings live in the configuration, read at start).
    """
    layout = TrytonHome(home)
    push = webhook_push(webhook_url, webhook_secrets)
    existing = running_server(home)
    if existing:
        if existing.port != port:
            raise TrytonLocalError(
                f"Tryton server of {home} already runs on port {existing.port} (pid "
                f"{existing.pid}); stop it before starting it on port {port}"
            )
        if configured_push(home) == push:
            return existing
        logger.info("tryton step=restart_for_push_settings port=%d", port)
        stop_server(home)
    _check_port_free(port)
    if not layout.db_stamp.exists():
        raise TrytonLocalError(f"no databases in {layout.db_dir}: run ensure_databases first")

    started = time.monotonic()
    write_config(home, port, push)
    layout.server_log.unlink(missing_ok=True)
    pid = start_detached(
        [str(layout.python), str(SERVE_SCRIPT), str(layout.config), str(port), *DATABASES],
        layout.server_log,
        env={**os.environ, "TZ": "UTC"},
    )
    layout.pid_file.write_text(f"{pid}\n")
    server = TrytonServer(home, port, pid)
    try:
        _wait_until_ready(server, timeout)
    except BaseException:
        stop_server(home)
        raise
    logger.info("tryton step=start_server seconds=%.2f port=%d pid=%d", time.monotonic() - started, port, pid)
    return server


def webhook_push(
    webhook_url: str | None,
    webhook_secrets: Mapping[str, str] | None,
) -> WebhookPush | None:
    """Checked push settings (None: push disabled)."""
    if not webhook_url:
        if webhook_secrets:
            raise TrytonLocalError("webhook_secrets given without a webhook_url")
        return None
    parts = urlsplit(webhook_url)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in webhook_url):
        raise TrytonLocalError(f"webhook_url must be an http(s) URL, not {webhook_url!r}")
    secrets = dict(webhook_secrets or {})
    unknown = set(secrets) - set(DATABASES)
    if unknown:
        raise TrytonLocalError(f"webhook_secrets for unknown databases {sorted(unknown)}; known: {list(DATABASES)}")
    invalid = sorted(db for db, secret in secrets.items() if not is_valid_secret(secret))
    if invalid:
        raise TrytonLocalError(f"webhook secret of {invalid} is not whsec_ + base64 of at least 16 bytes")
    return WebhookPush(url=webhook_url.rstrip("/"), secrets=secrets)


def stop_server(home: Path, timeout: float = 10.0) -> bool:
    """Stop the server named by home's pid file (SIGTERM, then SIGKILL). False if none ran."""
    layout = TrytonHome(home)
    pid = _live_server_pid(layout)
    if pid is None:
        return False
    stop(pid, timeout, whole_group=False)
    layout.pid_file.unlink(missing_ok=True)
    logger.info("tryton step=stop_server pid=%d", pid)
    return True


def _check_port_free(port: int) -> None:
    free, reason = port_is_free("127.0.0.1", port)
    if not free:
        raise PortInUseError(
            f"cannot start Tryton on 127.0.0.1:{port}: the port is already in use "
            f"({reason}); pick another port or stop the process holding it"
        )


def _wait_until_ready(server: TrytonServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    probe = {"id": 0, "method": "common.server.version", "params": []}
    while time.monotonic() < deadline:
        if not is_alive(server.pid):
            raise TrytonLocalError(
                f"Tryton server exited during start-up; end of {TrytonHome(server.home).server_log}:\n{_tail(server)}"
            )
        try:
            answer = httpx.post(f"{server.url}/rpc/", json=probe, timeout=2.0, trust_env=False)
            if answer.status_code == 200:
                return
        except httpx.TransportError:
            pass  # not listening yet: it loads the three databases first
        time.sleep(0.1)
    raise TrytonLocalError(
        f"Tryton server did not answer on {server.url} within {timeout:.0f}s; end of its log:\n{_tail(server)}"
    )


def _tail(server: TrytonServer, lines: int = 20) -> str:
    text = TrytonHome(server.home).server_log.read_text(errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def _live_server_pid(layout: TrytonHome) -> int | None:
    """The pid in the pid file if it is alive and really is this home's trytond; else None
    (and a stale pid file is removed, so a reused pid is never signalled)."""
    try:
        pid = int(layout.pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    if is_alive(pid) and _runs_our_server(pid, layout):
        return pid
    layout.pid_file.unlink(missing_ok=True)
    return None


def _runs_our_server(pid: int, layout: TrytonHome) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True  # no /proc (not Linux): trust the pid file
    return str(SERVE_SCRIPT).encode() in cmdline and str(layout.config).encode() in cmdline
