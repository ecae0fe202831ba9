"""The local stack's business systems: Tryton playing CRM, PSA and ERP, behind a fault proxy.

The Tryton installation and its seeded snapshot are built once in a shared cache home
(`.local-stack/tryton`, or CONCORD_TRYTON_HOME) and reused by every stack: a stack's own
instance links the cache's venv and snapshot and restores its databases from it in
seconds. Concord reaches the systems through the fault proxy (pass-through until a fault
is set), and Tryton pushes its events to the stack's webhook front.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

from . import tryton
from .demo_secrets import demo_signing_secret
from .processes import is_alive, start_detached, stop
from .template import REPO_ROOT
from .tryton.layout import TrytonHome

SYSTEMS = ("crm", "psa", "erp")
DEFAULT_CACHE = REPO_ROOT / ".local-stack" / "tryton"
# Shared with the cache: what is installed and what was seeded (the seed's admin password
# is part of the snapshot's key). Databases, configuration, logs and pid are the instance's.
_SHARED = ("venv", "snapshot", "admin-password")


def cache_home() -> Path:
    return Path(os.environ.get("CONCORD_TRYTON_HOME", DEFAULT_CACHE))


@dataclass(frozen=True)
class LocalSystems:
    instance: Path
    host: str
    tryton_port: int
    faults_port: int
    cache: Path = DEFAULT_CACHE

    @property
    def tryton_url(self) -> str:
        return f"http://{self.host}:{self.tryton_port}"

    @property
    def faults_url(self) -> str:
        """Where Concord's connectors send their requests (the fault proxy)."""
        return f"http://{self.host}:{self.faults_port}"

    @property
    def faults_pid_file(self) -> Path:
        return self.instance / "faults.pid"

    def prepare(self) -> None:
        """Install and seed once (in the cache), then give this instance fresh databases."""
        tryton.ensure_installed(self.cache)
        tryton.ensure_databases(self.cache)
        self.instance.mkdir(parents=True, exist_ok=True)
        for name in _SHARED:
            link, target = self.instance / name, (self.cache / name).resolve()
            if link.is_symlink() and link.resolve() == target:
                continue
            link.unlink(missing_ok=True)
            link.symlink_to(target, target_is_directory=target.is_dir())
        tryton.ensure_databases(self.instance)

    def start(self, webhook_url: str, log_dir: Path) -> None:
        tryton.start_server(
            self.instance,
            self.tryton_port,
            webhook_url=webhook_url,
            webhook_secrets={system: demo_signing_secret(system) for system in SYSTEMS},
        )
        if not is_alive(self.faults_pid()):
            pid = start_detached(
                [
                    sys.executable,
                    "-m",
                    "concord.local.faults",
                    "--host",
                    self.host,
                    "--port",
                    str(self.faults_port),
                    "--upstream",
                    self.tryton_url,
                ],
                log_dir / "faults.log",
                {**os.environ, "PYTHONPATH": str(REPO_ROOT / "shared")},
                cwd=REPO_ROOT,
            )
            self.faults_pid_file.write_text(str(pid))

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.faults_url}/_faults", timeout=1, trust_env=False).status_code == 200
        except httpx.HTTPError:
            return False

    def connections(self) -> dict[str, str]:
        """The Secrets Manager value of each system's connection (concord.connectors.registry)."""
        password = tryton.admin_password(self.cache)
        return {
            system: json.dumps(
                {
                    "kind": "tryton",
                    "url": self.faults_url,
                    "database": system,
                    "login": tryton.ADMIN_LOGIN,
                    "password": password,
                }
            )
            for system in SYSTEMS
        }

    def running(self) -> bool:
        return tryton.running_server(self.instance) is not None

    def reset(self) -> None:
        """Back to the seeded databases (tests, demos)."""
        tryton.restore_snapshot(self.instance)

    def stop(self) -> None:
        pid = self.faults_pid()
        if is_alive(pid):
            stop(pid)
        self.faults_pid_file.unlink(missing_ok=True)
        tryton.stop_server(self.instance)

    def faults_pid(self) -> int | None:
        try:
            return int(self.faults_pid_file.read_text())
        except (FileNotFoundError, ValueError):
            return None

    def status(self) -> dict[str, object]:
        server = tryton.running_server(self.instance)
        return {
            "tryton": {
                "url": self.tryton_url,
                "alive": server is not None,
                "databases": list(SYSTEMS),
                "log": str(TrytonHome(self.instance).server_log),
            },
            "fault_proxy": {"url": self.faults_url, "alive": is_alive(self.faults_pid())},
        }
