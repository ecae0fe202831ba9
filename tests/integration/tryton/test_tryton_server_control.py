"""Server control edge cases that need no Tryton install: busy port, stale pid file."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from concord.local.tryton import (
    PortInUseError,
    TrytonLocalError,
    running_server,
    start_server,
    stop_server,
)


def test_busy_port_gives_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]

        with pytest.raises(PortInUseError, match=f"127.0.0.1:{port}.*already in use"):
            start_server(tmp_path, port)


def test_start_without_databases_is_refused(tmp_path: Path, unused_port: int) -> None:
    with pytest.raises(TrytonLocalError, match="run ensure_databases first"):
        start_server(tmp_path, unused_port)


def test_pid_file_of_another_program_is_never_signalled(tmp_path: Path) -> None:
    # Given a pid file naming a live process that is not this home's trytond
    bystander = subprocess.Popen(["sleep", "30"])
    pid_file = tmp_path / "trytond.pid"
    pid_file.write_text(f"{bystander.pid}\n")
    try:
        # Then nothing counts as running, stopping signals nobody, the stale file goes
        assert running_server(tmp_path) is None
        assert stop_server(tmp_path) is False
        assert bystander.poll() is None
        assert not pid_file.exists()
    finally:
        bystander.kill()
        bystander.wait()
