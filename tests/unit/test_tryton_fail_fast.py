"""A Tryton server that cannot come up fails its caller at once, with the reason, instead of
leaving it to wait out the start-up timeout (integration tests and `concord local up` alike)."""

from __future__ import annotations

from pathlib import Path

import pytest

from concord.local.tryton import TrytonLocalError, running_server, start_server
from concord.local.tryton.layout import TrytonHome

from ..conftest import free_port
from .loopback import loopback_only  # noqa: F401 - the fixture: the readiness probe is on 127.0.0.1

# Long enough that only the server's exit, not the timeout, can end the wait in time for a test run.
START_TIMEOUT = 600.0


def _home_whose_server_exits(tmp_path: Path, last_words: str) -> Path:
    """A seeded-looking Tryton home whose venv "python" prints `last_words` and exits 3."""
    layout = TrytonHome(tmp_path / "tryton")
    layout.python.parent.mkdir(parents=True)
    layout.python.write_text(f"#!/bin/sh\necho '{last_words}' >&2\nexit 3\n")
    layout.python.chmod(0o755)
    layout.db_dir.mkdir(parents=True)
    layout.db_stamp.write_text("seeded\n")
    return layout.root


def test_a_server_that_exits_during_start_up_is_reported_with_its_log(tmp_path: Path) -> None:
    home = _home_whose_server_exits(tmp_path, "ModuleNotFoundError: No module named trytond")

    with pytest.raises(TrytonLocalError, match="exited during start-up") as raised:
        start_server(home, free_port(), timeout=START_TIMEOUT)

    assert "ModuleNotFoundError: No module named trytond" in str(raised.value)
    assert running_server(home) is None
