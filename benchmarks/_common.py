"""What the benchmarks share: free ports, percentiles, where results go."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def percentiles(values: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"median": statistics.median(values), "p95": cuts[94], "p99": cuts[98], "n": len(values)}


def provenance() -> dict[str, str]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    return {
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }


def write_results(name: str, results: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(results, indent=2))
    return path


# --- figures: what report.py tabulates and charts --------------------------------------

REPO_ROOT = RESULTS.parents[1]
FUNCTIONS_DIR = REPO_ROOT / "functions"


def figure(
    name: str, value: float, unit: str, floor: float | None = None, floor_name: str | None = None, note: str = ""
) -> dict[str, Any]:
    """One measured figure beside the floor it is read against (None when there is none)."""
    return {"name": name, "value": value, "unit": unit, "floor": floor, "floor_name": floor_name, "note": note}


def ratio(value: float, floor: float | None) -> float | None:
    return value / floor if floor else None


def function_names() -> list[str]:
    """The Lambda functions, by folder under functions/."""
    return sorted(p.parent.name for p in FUNCTIONS_DIR.glob("*/handler.py"))


def child_env() -> dict[str, str]:
    """Environment of a measuring subprocess: repo importable, fake AWS, tracing off."""
    inherited = {k: v for k, v in os.environ.items() if k not in ("AWS_ENDPOINT_URL", "AWS_PROFILE")}
    return {
        **inherited,
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "shared"), str(REPO_ROOT)]),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "concord-bench",
        "POWERTOOLS_METRICS_NAMESPACE": "Concord",
    }


def run_child(code: str, *args: str, python_flags: tuple[str, ...] = ()) -> dict[str, Any]:
    """Run `code` in a fresh interpreter; it prints one JSON object as its last line."""
    result = subprocess.run(
        [sys.executable, *python_flags, "-c", code, *args],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=REPO_ROOT,
    )
    if result.returncode != 0:
        raise RuntimeError(f"measuring subprocess failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])
