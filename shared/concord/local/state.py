"""Where the local stack keeps its state, and the record of a running stack."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from .template import REPO_ROOT

DEFAULT_STATE_DIR = REPO_ROOT / ".local-stack"
DEFAULT_PORTS = {
    "aws_port": 4566,
    "webhook_port": 8787,
    "lambda_port": 8788,
    "tryton_port": 8765,
    "faults_port": 8766,
    "sandbox_port": 8767,
    "vendor_faults_port": 8768,
}


def state_dir_from_env() -> Path:
    return Path(os.environ.get("CONCORD_LOCAL_DIR", DEFAULT_STATE_DIR))


@dataclass(frozen=True)
class StackState:
    host: str
    aws_port: int
    webhook_port: int
    lambda_port: int
    tryton_port: int | None = None  # None: a stack without business systems
    faults_port: int | None = None
    emulator_pid: int | None = None
    runtime_pid: int | None = None
    # Which vendor plays each role (concord.local.roles); None: Tryton plays all three.
    systems: dict[str, str] | None = None
    sandbox_port: int | None = None  # None: no SaaS role, so no vendor sandbox
    vendor_faults_port: int | None = None

    @property
    def aws_endpoint(self) -> str:
        return f"http://{self.host}:{self.aws_port}"

    @property
    def webhook_url(self) -> str:
        return f"http://{self.host}:{self.webhook_port}/webhooks"

    @property
    def lambda_endpoint(self) -> str:
        return f"http://{self.host}:{self.lambda_port}"

    def save(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        tmp = state_dir / "state.json.tmp"
        tmp.write_text(json.dumps(asdict(self), indent=2))
        tmp.replace(state_dir / "state.json")

    @classmethod
    def load(cls, state_dir: Path) -> StackState:
        return cls(**json.loads((state_dir / "state.json").read_text()))

    @classmethod
    def exists(cls, state_dir: Path) -> bool:
        return (state_dir / "state.json").exists()
