"""The Lambda service's part: warm worker processes per function, started on demand.

A worker is forked from a server process that has imported the libraries every function
loads (boto3, pydantic, Powertools, httpx) and nothing of Concord's: a cold start then costs
the function's own imports only (measured: a handler imported by a fresh interpreter takes 0.8 s
of CPU, 0.45 s of it these libraries; a stack has tens of cold starts). The server reads no
function's environment: each worker sets its own before it imports its handler (worker.serve),
so its settings and module state are its own, as on AWS.
"""

from __future__ import annotations

import json
import multiprocessing
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

from .. import worker
from ..state import StackState
from ..template import REGION, REPO_ROOT, FunctionSpec, Topology

MAX_WORKERS_PER_FUNCTION = 4
# What every handler imports before any of Concord's code runs (handlers import them at module level).
SHARED_LIBRARIES = ["boto3", "botocore.session", "pydantic", "httpx", "aws_lambda_powertools"]
_spawn = multiprocessing.get_context("forkserver")
_spawn.set_forkserver_preload(SHARED_LIBRARIES)


@dataclass(frozen=True)
class Invocation:
    payload: str
    errored: bool
    duration_ms: float
    cold_start: bool


class FunctionPool:
    """Warm worker processes of one function, started on demand (a cold start each)."""

    def __init__(self, spec: FunctionSpec, environment: dict[str, str]) -> None:
        self.spec = spec
        self._environment = {
            **environment,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
        }
        self._idle: list[tuple[Any, Any]] = []
        self._lock = threading.Lock()
        self._slots = threading.Semaphore(MAX_WORKERS_PER_FUNCTION)
        self.invocations = 0
        self.cold_starts = 0

    def _start_worker(self) -> tuple[Any, Any, str | None]:
        parent, child = _spawn.Pipe()
        process = _spawn.Process(
            target=worker.serve,
            args=(child, asdict(self.spec), self._environment, str(REPO_ROOT)),
            name=f"lambda:{self.spec.name}",
            daemon=True,
        )
        process.start()
        child.close()
        timed_out = {"ready": False, "payload": '{"errorType":"Runtime.InitTimeout"}'}
        ready: dict[str, Any] = parent.recv() if parent.poll(60) else timed_out
        if not ready["ready"]:
            process.kill()
            return process, parent, ready["payload"]
        return process, parent, None

    def invoke(self, event: Any) -> Invocation:
        with self._slots:
            with self._lock:
                worker_ = self._idle.pop() if self._idle else None
            cold = worker_ is None
            started = time.perf_counter()
            if worker_ is None:
                process, conn, init_error = self._start_worker()
                self.cold_starts += 1
                if init_error:
                    return Invocation(init_error, True, (time.perf_counter() - started) * 1000, True)
                worker_ = (process, conn)
            process, conn = worker_
            self.invocations += 1
            try:
                conn.send(event)
                if conn.poll(self.spec.timeout_seconds):
                    reply = conn.recv()
                else:
                    process.kill()  # as Lambda does: the sandbox is discarded after a timeout
                    message = f"Task timed out after {self.spec.timeout_seconds:.2f} seconds"
                    return Invocation(
                        json.dumps({"errorType": "Sandbox.Timedout", "errorMessage": message}),
                        True,
                        (time.perf_counter() - started) * 1000,
                        cold,
                    )
            except (EOFError, OSError, BrokenPipeError) as error:
                process.kill()
                return Invocation(
                    json.dumps({"errorType": "Runtime.ExitError", "errorMessage": str(error)}),
                    True,
                    (time.perf_counter() - started) * 1000,
                    cold,
                )
            with self._lock:
                self._idle.append(worker_)
            return Invocation(reply["payload"], not reply["ok"], (time.perf_counter() - started) * 1000, cold)

    def stop(self) -> None:
        with self._lock:
            for process, conn in self._idle:
                conn.close()
                process.join(timeout=2)
                if process.is_alive():
                    process.kill()
            self._idle.clear()


class Runtime:
    """Every function of the topology, each with its pool, invoked by name."""

    def __init__(self, topology: Topology, state: StackState) -> None:
        self.topology = topology
        self.state = state
        environment = {
            "AWS_ENDPOINT_URL": state.aws_endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            # No X-Ray daemon locally; Tracer becomes a no-op.
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
        self.pools = {spec.name: FunctionPool(spec, environment) for spec in topology.functions}

    def invoke(self, function_name: str, event: Any) -> Invocation:
        return self.pools[function_name].invoke(event)

    def stop(self) -> None:
        for pool in self.pools.values():
            pool.stop()
