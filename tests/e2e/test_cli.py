"""The `concord` command as an operator runs it: a subprocess against the local stack."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from concord.local.demo_secrets import demo_secret_value, demo_signing_secret
from concord.local.inspect import LocalView
from concord.local.sender import canonical_delivery, post
from concord.local.stack import LocalStack

from ..conftest import free_port, sharing_synth_cache

pytestmark = pytest.mark.e2e


def concord(*args: str, state_dir: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "concord.cli", *args],
        input=stdin, capture_output=True, text=True, timeout=120,
        env={**os.environ, "CONCORD_LOCAL_DIR": str(state_dir), "COLUMNS": "200"},
    )


def test_status_json_lists_the_endpoints(local_stack: LocalStack) -> None:
    result = concord("local", "status", "--json", state_dir=local_stack.state_dir)

    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["running"] is True
    assert status["endpoints"]["webhooks"] == f"http://127.0.0.1:{local_stack.webhook_port}/webhooks"
    assert status["endpoints"]["aws"] == f"http://127.0.0.1:{local_stack.aws_port}"
    assert status["runtime"]["pollers"]["concord-local-audit-trail"]["alive"] is True


def test_status_of_a_stack_that_is_not_running_exits_1(tmp_path: Path) -> None:
    result = concord("local", "status", "--json", state_dir=tmp_path)

    assert result.returncode == 1
    assert json.loads(result.stdout)["running"] is False


def test_up_on_a_taken_port_fails_with_a_clear_error(tmp_path: Path, local_synth_cache: Path) -> None:
    sharing_synth_cache(tmp_path, local_synth_cache)  # `up` synthesizes before it binds a port
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        result = concord(
            "local", "up", "--aws-port", str(taken), "--webhook-port", str(free_port()),
            "--lambda-port", str(free_port()), state_dir=tmp_path,
        )

    assert result.returncode == 1
    assert f"port {taken}" in result.stderr and "already in use" in result.stderr
    assert "--aws-port" in result.stderr


@pytest.fixture()
def psa_secret_restored(local_stack: LocalStack) -> Iterator[None]:
    """The session stack's PSA secret back to the demo's afterwards: Tryton's PSA pushes with it."""
    yield
    restored = concord("secrets", "set", "psa", "--local", state_dir=local_stack.state_dir,
                       stdin=demo_signing_secret("psa") + "\n")
    assert restored.returncode == 0, restored.stderr


@pytest.mark.usefixtures("psa_secret_restored")
def test_secrets_set_rotates_with_old_and_new_secret_active(local_stack: LocalStack, view: LocalView) -> None:
    old = concord("secrets", "set", "psa", "--local", "--generate", state_dir=local_stack.state_dir)
    assert old.returncode == 0, old.stderr
    old_secret = old.stdout.strip().rsplit(" ", 1)[-1]
    new = concord("secrets", "set", "psa", "--local", "--generate", "--rotate", state_dir=local_stack.state_dir)
    assert new.returncode == 0, new.stderr
    new_secret = new.stdout.strip().rsplit(" ", 1)[-1]
    assert "2 active secrets" in new.stdout and old_secret != new_secret

    # Both verify once the ingest function's secret cache (1 s on the local stage) expires.
    url = f"{view.state.webhook_url}/psa"
    data = {"project_id": "P-1", "assignments": []}
    with httpx.Client(timeout=30) as http:
        for secret in (old_secret, new_secret):
            accepted = view.wait_for(
                lambda: post(http, url, canonical_delivery(secret, "StaffingChanged", data)).status_code == 202,
                timeout=10, interval=0.5,
            )
            assert accepted, "a delivery signed with an active secret was refused"


def test_secrets_set_takes_a_vendor_sources_json_and_refuses_the_wrong_shape(local_stack: LocalStack) -> None:
    demo_key = json.loads(demo_secret_value("xero"))["webhook_keys"][0]
    # the new key plus the demo one, as during a rotation (other tests sign with the demo key)
    good = concord("secrets", "set", "xero", "--local", state_dir=local_stack.state_dir,
                   stdin=json.dumps({"webhook_keys": ["a-new-xero-webhook-key-0123456789", demo_key]}))
    assert good.returncode == 0, good.stderr
    assert "concord/local/webhooks/xero (xero)" in good.stdout

    wrong = concord("secrets", "set", "xero", "--local", state_dir=local_stack.state_dir,
                    stdin=json.dumps({"signing_secrets": ["whsec_abc"]}))
    assert wrong.returncode == 2
    assert "not a valid xero secret" in wrong.stderr

    generated = concord("secrets", "set", "xero", "--local", "--generate", state_dir=local_stack.state_dir)
    assert generated.returncode == 2 and "its vendor issues the secret" in generated.stderr


def test_secrets_set_refuses_a_malformed_secret(local_stack: LocalStack) -> None:
    result = concord("secrets", "set", "erp", "--local", state_dir=local_stack.state_dir, stdin="not-a-secret\n")

    assert result.returncode == 2
    assert "not a valid signing secret" in result.stderr
