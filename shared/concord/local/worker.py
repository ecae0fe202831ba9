"""One Lambda execution environment: a process that imports a function's handler once and
runs invocations sent to it over a pipe, like a warm Lambda sandbox.

Each function gets its own process, so its environment variables, module state and
Powertools objects are its own, as on AWS. The process exits when its pipe closes, which
is also what happens when the runtime that owns it is killed.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
import uuid
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from .template import ACCOUNT, REGION


class LocalLambdaContext:
    """The attributes and method of AWS's LambdaContext that handlers and Powertools use."""

    def __init__(self, function_name: str, memory_mb: int, timeout_seconds: int) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name}"
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"local/{os.getpid()}"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _error(error: BaseException, error_type: str | None = None) -> str:
    return json.dumps(
        {
            "errorType": error_type or type(error).__name__,
            "errorMessage": str(error),
            "stackTrace": traceback.format_exception(error)[-8:],
        }
    )


def serve(conn: Connection, spec: dict[str, Any], environment: dict[str, str], repo_root: str) -> None:
    os.environ.update(environment)
    os.environ.update(spec["environment"])
    # As in Lambda: the function's folder is the task root; the layer's code is importable.
    sys.path[:0] = [str(Path(repo_root) / spec["source"]), str(Path(repo_root) / "shared")]
    module_name, function_name = spec["handler"].rsplit(".", 1)
    started = time.perf_counter()
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
    except Exception as error:  # noqa: BLE001 - reported like Lambda's Runtime.ImportModuleError
        conn.send({"ready": False, "payload": _error(error, "Runtime.ImportModuleError")})
        return
    conn.send({"ready": True, "init_ms": (time.perf_counter() - started) * 1000})

    while True:
        try:
            event = conn.recv()
        except (EOFError, OSError):
            return
        context = LocalLambdaContext(spec["name"], spec["memory_mb"], spec["timeout_seconds"])
        try:
            result = handler(event, context)
            conn.send({"ok": True, "payload": json.dumps(result, default=str)})
        except Exception as error:  # noqa: BLE001 - a handler's error is its invocation's result, as on Lambda
            conn.send({"ok": False, "payload": _error(error)})
        finally:
            sys.stdout.flush()
