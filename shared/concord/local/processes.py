"""Background processes of the local stack: start detached, check, stop. One way for all."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TypeGuard

# Popen objects of processes this process started, so that checking or stopping one reaps
# it (no zombie left behind, no ResourceWarning).
_children: dict[int, subprocess.Popen[bytes]] = {}


def port_is_free(host: str, port: int) -> tuple[bool, str]:
    """Whether a server could bind host:port now, and the OS's reason if not."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # The option servers use themselves, so a port in TIME_WAIT counts as free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            return False, error.strerror or str(error)
    return True, ""


def start_detached(args: Sequence[str], log: Path, env: dict[str, str], cwd: Path | None = None) -> int:
    """Start a process in its own session (it outlives the caller), output appended to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(
            list(args), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            env=env, cwd=cwd, start_new_session=True,
        )
    _children[process.pid] = process
    return process.pid


def is_alive(pid: int | None) -> TypeGuard[int]:
    """Whether `pid` names a running process (so, when true, it is a pid)."""
    if not pid:
        return False
    child = _children.get(pid)
    if child is not None:
        if child.poll() is None:
            return True
        del _children[pid]  # exited, and now reaped
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def wait_for_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_alive(pid):
            return True
        time.sleep(0.05)
    return not is_alive(pid)


def stop(pid: int, grace_seconds: float = 5.0, *, whole_group: bool = True) -> None:
    """SIGTERM, then SIGKILL after the grace period; `whole_group` includes its children."""
    send = (lambda s: os.killpg(pid, s)) if whole_group else (lambda s: os.kill(pid, s))
    try:
        send(signal.SIGTERM)
    except ProcessLookupError:
        return
    if not wait_for_exit(pid, grace_seconds):
        try:
            send(signal.SIGKILL)
        except ProcessLookupError:
            return
        wait_for_exit(pid, grace_seconds)
