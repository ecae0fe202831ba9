"""Server control edge cases that need no Tryton install: busy port, stale pid file, push
settings."""

from __future__ import annotations

import socket
import stat
import subprocess
from pathlib import Path

import pytest

from concord.local.tryton import (
    PortInUseError,
    TrytonLocalError,
    WebhookPush,
    configured_push,
    running_server,
    start_server,
    stop_server,
)
from concord.local.tryton.layout import write_config


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


# -- concord_sync's push settings in the configuration ---------------------------------------

SECRET = "whsec_" + "A" * 32  # base64 of 24 bytes


def test_push_settings_are_written_to_a_private_config_and_read_back(tmp_path: Path) -> None:
    # Given push settings for two of the three databases
    push = WebhookPush("http://127.0.0.1:8787/webhooks", {"crm": SECRET, "erp": SECRET})

    # When the configuration is written with them
    config = write_config(tmp_path, 8765, push)

    # Then they are in its [concord] section, readable only by the owner, and round-trip
    text = config.read_text()
    assert "[concord]\nwebhook_url = http://127.0.0.1:8787/webhooks\n" in text
    assert f"secret_crm = {SECRET}\n" in text and "secret_psa" not in text
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert configured_push(tmp_path) == push
    # ...and without them push is off
    write_config(tmp_path, 8765)
    assert "[concord]" not in config.read_text()
    assert configured_push(tmp_path) is None


@pytest.mark.parametrize(
    ("url", "secrets", "problem"),
    [
        (None, {"crm": SECRET}, "without a webhook_url"),
        ("ftp://host/webhooks", {}, "http"),
        ("http://127.0.0.1:8787/webhooks", {"sales": SECRET}, "unknown databases"),
        ("http://127.0.0.1:8787/webhooks", {"crm": "not-a-secret"}, "whsec_"),
        ("http://127.0.0.1:8787/webhooks", {"crm": "whsec_c2hvcnQ="}, "at least 16 bytes"),
    ],
)
def test_bad_push_settings_are_refused_before_anything_starts(
    tmp_path: Path, unused_port: int, url: str | None, secrets: dict[str, str], problem: str
) -> None:
    with pytest.raises(TrytonLocalError, match=problem):
        start_server(tmp_path, unused_port, webhook_url=url, webhook_secrets=secrets)
