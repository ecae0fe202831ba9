"""`concord local up | status | down`: start, inspect and stop the local stack.

Two background processes, each restartable on its own:
  - the emulator (moto server), holding all AWS state in memory;
  - the runtime (Lambda service, API front, SQS pollers), which may crash or be killed
    at any moment, like a Lambda sandbox.
`up` starts whichever is not running, provisions the emulator from the synthesized CDK
template (idempotently), and returns when both answer.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import boto3
import httpx

from .demo_secrets import demo_secret_value
from .processes import is_alive, port_is_free, start_detached, stop
from .provision import provision
from .roles import ALL_TRYTON, describe, poll_watches, saas_roles
from .state import StackState
from .systems import LocalSystems, cache_home
from .template import LOCAL_NAMES, REGION, REPO_ROOT, Topology, read_topology, synthesize
from .tryton import TrytonLocalError
from .vendors import VendorSandboxes

STACK_NAME = LOCAL_NAMES.prefix
READY_TIMEOUT_SECONDS = 60


class LocalStackError(RuntimeError):
    """The local stack cannot start or is not running; the message says why."""


def ensure_port_free(host: str, port: int, option: str) -> None:
    free, reason = port_is_free(host, port)
    if not free:
        raise LocalStackError(
            f"port {port} on {host} is already in use ({reason}); "
            f"stop what uses it or choose another port with {option}"
        )


def _wait_until(check: Any, what: str, log: Path, pid: int | None) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if not is_alive(pid):
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise LocalStackError(f"{what} exited during start-up; last log lines:\n{tail}")
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise LocalStackError(f"{what} did not become ready within {READY_TIMEOUT_SECONDS} s; see {log}")


def _spawn(args: list[str], log: Path) -> int:
    return start_detached(args, log, {**os.environ, "PYTHONPATH": str(REPO_ROOT / "shared")}, cwd=REPO_ROOT)


def aws_client(state: StackState, service: str, resource: bool = False) -> Any:
    """A boto3 client (or resource) bound to the local stack's emulated AWS."""
    # The service is named at run time, so none of the stubs' per-service overloads applies.
    factory: Callable[..., Any] = boto3.resource if resource else boto3.client
    return factory(
        service,
        endpoint_url=state.aws_endpoint,
        region_name=REGION,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


@dataclass(frozen=True)
class LocalStack:
    state_dir: Path
    host: str = "127.0.0.1"
    aws_port: int = 4566
    webhook_port: int = 8787
    lambda_port: int = 8788
    # Caps queue visibility timeouts so a crashed runtime's messages return within seconds.
    visibility_timeout_cap: int | None = 20
    # Tryton as CRM, PSA and ERP behind the fault proxy; off for stacks that only need AWS.
    with_systems: bool = True
    tryton_port: int = 8765
    faults_port: int = 8766
    # Which vendor plays each role (concord.local.roles.parse_systems); None: what the running
    # stack has, or Tryton for all three on a fresh start.
    systems_choice: Mapping[str, str] | None = None
    # The SaaS vendors' sandbox, and the fault proxy Concord reaches it through.
    sandbox_port: int = 8767
    vendor_faults_port: int = 8768

    @property
    def logs(self) -> Path:
        return self.state_dir / "logs"

    def current_state(self) -> StackState:
        if StackState.exists(self.state_dir):
            return StackState.load(self.state_dir)
        return self._fresh_state()

    def systems(self, state: StackState | None = None) -> LocalSystems | None:
        state = state or self.current_state()
        if state.tryton_port is None or state.faults_port is None:
            return None
        return LocalSystems(self.state_dir / "systems", state.host, state.tryton_port, state.faults_port, cache_home())

    def vendors(self, state: StackState | None = None) -> VendorSandboxes | None:
        """The SaaS roles' sandbox and fault proxy; None when Tryton plays every role."""
        state = state or self.current_state()
        saas = saas_roles(state.systems or ALL_TRYTON)
        if not saas or state.sandbox_port is None or state.vendor_faults_port is None:
            return None
        return VendorSandboxes(
            self.state_dir / "vendors", state.host, state.sandbox_port, state.vendor_faults_port, saas
        )

    def _fresh_state(self) -> StackState:
        systems = self.with_systems
        choice = dict(self.systems_choice or ALL_TRYTON) if systems else None
        saas = bool(choice and saas_roles(choice))
        return StackState(
            self.host,
            self.aws_port,
            self.webhook_port,
            self.lambda_port,
            tryton_port=self.tryton_port if systems else None,
            faults_port=self.faults_port if systems else None,
            systems=choice,
            sandbox_port=self.sandbox_port if saas else None,
            vendor_faults_port=self.vendor_faults_port if saas else None,
        )

    def _check_choice(self, state: StackState) -> None:
        """A running stack keeps its vendors: asking for others needs `down` first."""
        if self.systems_choice is None or not state.systems or dict(self.systems_choice) == state.systems:
            return
        raise LocalStackError(
            f"the running stack has --systems {describe(state.systems)}; to run "
            f"{describe(self.systems_choice)} stop it first (concord local down)"
        )

    def topology(self) -> Topology:
        return Topology.from_json((self.state_dir / "topology.json").read_text())

    def up(self) -> StackState:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        template = synthesize(self.state_dir / "cache")

        state = self.current_state()
        if is_alive(state.emulator_pid):
            self._check_choice(state)
        topology = with_poll_watches(read_topology(template, STACK_NAME), state.systems or ALL_TRYTON)
        (self.state_dir / "topology.json").write_text(topology.to_json())
        fresh = not is_alive(state.emulator_pid)
        if fresh:
            # A fresh emulator: the ports asked for now apply.
            state = self._fresh_state()
            ensure_port_free(state.host, state.aws_port, "--aws-port")
            log = self.logs / "emulator.log"
            pid = _spawn(
                [
                    sys.executable,
                    "-m",
                    "concord.local.emulator",
                    "--host",
                    state.host,
                    "--port",
                    str(state.aws_port),
                    "--runtime-url",
                    state.lambda_endpoint,
                ],
                log,
            )
            state = replace(
                state, emulator_pid=pid, runtime_pid=None if not is_alive(state.runtime_pid) else state.runtime_pid
            )
            state.save(self.state_dir)
            _wait_until(
                lambda: httpx.get(f"{state.aws_endpoint}/moto-api/", timeout=1).status_code == 200,
                "the AWS emulator",
                log,
                pid,
            )
        systems = self.systems(state)
        if systems:
            systems.prepare()
            if fresh and not systems.running():
                # Emulated AWS (the registry among it) and the vendor sandboxes start empty: so do
                # the business systems, or a sandbox's ids, which start over, would meet records
                # of an earlier run in Tryton that the registry no longer knows.
                systems.reset()
        secrets = {
            name: demo_secret_value(name.rsplit("/", 1)[-1]) for name in topology.secrets if "/webhooks/" in name
        }
        vendors = self.vendors(state)
        if systems:
            # Tryton serves every role; a SaaS role's connection points at its sandbox instead.
            connections = systems.connections() | (vendors.connections() if vendors else {})
            secrets |= {name: connections[name.rsplit("/", 1)[-1]] for name in topology.secrets if "/systems/" in name}
        provision(topology, lambda service: aws_client(state, service), secrets, self.visibility_timeout_cap)

        # Systems first: the runtime's scheduled rules (change capture) run as it starts.
        if systems:
            self._start_systems(systems, state)
        if vendors:
            self._start_vendors(vendors)
        if not is_alive(state.runtime_pid):
            for port, option in ((state.webhook_port, "--webhook-port"), (state.lambda_port, "--lambda-port")):
                ensure_port_free(state.host, port, option)
            log = self.logs / "runtime.log"
            pid = _spawn([sys.executable, "-m", "concord.local.runtime", "--state-dir", str(self.state_dir)], log)
            state = replace(state, runtime_pid=pid)
            state.save(self.state_dir)
            _wait_until(
                lambda: httpx.get(f"{state.lambda_endpoint}/health", timeout=1).status_code == 200,
                "the local Lambda runtime",
                log,
                pid,
            )
        state.save(self.state_dir)
        return state

    def _start_systems(self, systems: LocalSystems, state: StackState) -> None:
        if not systems.ready():
            ensure_port_free(state.host, systems.faults_port, "--faults-port")
        try:
            systems.start(state.webhook_url, self.logs)
        except TrytonLocalError as error:
            raise LocalStackError(f"Tryton did not start: {error} (choose another port with --tryton-port)") from error
        _wait_until(systems.ready, "the fault proxy in front of Tryton", self.logs / "faults.log", systems.faults_pid())

    def _start_vendors(self, vendors: VendorSandboxes) -> None:
        # By our own pids: another stack's sandbox answering on the port is not ours.
        if not is_alive(vendors.sandbox_pid()):
            ensure_port_free(vendors.host, vendors.sandbox_port, "--sandbox-port")
        if not is_alive(vendors.faults_pid()):
            ensure_port_free(vendors.host, vendors.faults_port, "--vendor-faults-port")
        vendors.start(self.logs)
        _wait_until(
            vendors.sandbox_ready,
            f"the {vendors.vendor} sandbox",
            self.logs / "vendor-sandbox.log",
            vendors.sandbox_pid(),
        )
        _wait_until(
            vendors.ready,
            "the fault proxy in front of the vendor sandbox",
            self.logs / "vendor-faults.log",
            vendors.faults_pid(),
        )

    def status(self) -> dict[str, Any]:
        if not StackState.exists(self.state_dir):
            return {"running": False, "state_dir": str(self.state_dir)}
        state = StackState.load(self.state_dir)
        runtime: dict[str, Any] = {}
        if is_alive(state.runtime_pid):
            try:
                runtime = httpx.get(f"{state.lambda_endpoint}/health", timeout=2).json()
            except httpx.HTTPError:
                runtime = {}
        emulator_up = is_alive(state.emulator_pid)
        systems = self.systems(state)
        return {
            "running": emulator_up and bool(runtime),
            "state_dir": str(self.state_dir),
            "emulator": {"pid": state.emulator_pid, "alive": emulator_up},
            "runtime": {"pid": state.runtime_pid, "alive": bool(runtime), **runtime},
            "endpoints": {
                "webhooks": state.webhook_url,
                "aws": state.aws_endpoint,
                "lambda": state.lambda_endpoint,
            },
            "region": REGION,
            "logs": str(self.logs),
            "systems": systems.status() if systems else None,
            "roles": state.systems,
            "vendors": vendors.status() if (vendors := self.vendors(state)) else None,
        }

    def down(self) -> list[str]:
        if not StackState.exists(self.state_dir):
            return []
        state = StackState.load(self.state_dir)
        stopped = []
        systems = self.systems(state)
        if systems:
            systems.stop()
            stopped.append("systems")
        vendors = self.vendors(state)
        if vendors:
            vendors.stop()
            stopped.append("vendor sandboxes")
        for what, pid in (("runtime", state.runtime_pid), ("emulator", state.emulator_pid)):
            if is_alive(pid):
                stop(pid)
                stopped.append(what)
        (self.state_dir / "state.json").unlink(missing_ok=True)
        return stopped


def with_poll_watches(topology: Topology, choice: Mapping[str, str]) -> Topology:
    """The topology with the poller's POLL_WATCHES for the vendors playing each role."""
    functions = []
    for function in topology.functions:
        if "POLL_WATCHES" in function.environment:
            watches = poll_watches(json.loads(function.environment["POLL_WATCHES"]), choice)
            function = replace(
                function, environment={**function.environment, "POLL_WATCHES": json.dumps(watches, sort_keys=True)}
            )
        functions.append(function)
    return replace(topology, functions=functions)
