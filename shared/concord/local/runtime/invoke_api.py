"""The Lambda service's HTTP face: the Invoke API (what the emulator's Step Functions Tasks
call) and a /health page with each function's, poller's and schedule's counters."""

from __future__ import annotations

import json
import re
from http.server import BaseHTTPRequestHandler
from typing import Any

from .pool import Runtime
from .queues import QueuePoller
from .replies import json_response
from .schedules import Scheduler

_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations$")


def make_lambda_api(
    runtime: Runtime, pollers: list[QueuePoller], schedulers: list[Scheduler]
) -> type[BaseHTTPRequestHandler]:
    class LambdaApi(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes: with Nagle's algorithm on, the body
        # waits for the client's delayed ACK (~40 ms on Linux) on every keep-alive request.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            if self.path != "/health":
                return json_response(self, 404, {"message": "Not Found"})
            json_response(
                self,
                200,
                {
                    "status": "ok",
                    "functions": {
                        name: {"invocations": p.invocations, "cold_starts": p.cold_starts}
                        for name, p in runtime.pools.items()
                    },
                    "pollers": {p.mapping.queue_name: {"batches": p.batches, "alive": p.is_alive()} for p in pollers},
                    "schedules": {
                        s.schedule.name: {"expression": s.schedule.expression, "runs": s.runs, "alive": s.is_alive()}
                        for s in schedulers
                    },
                },
            )

        def do_POST(self) -> None:
            match = _INVOKE_PATH.match(self.path.split("?")[0])
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if not match:
                return json_response(self, 404, {"message": "Not Found"})
            name = match["name"].rsplit(":function:", 1)[-1].split(":")[0]
            if name not in runtime.pools:
                return json_response(self, 404, {"Type": "User", "Message": f"Function not found: {name}"})
            result = runtime.invoke(name, json.loads(body or b"{}"))
            headers = {"X-Amz-Function-Error": "Unhandled"} if result.errored else {}
            json_response(self, 200, result.payload.encode(), headers)

    return LambdaApi
