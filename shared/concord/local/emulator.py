"""The emulated AWS process: moto in server mode, with Lambda invocations forwarded.

moto's own Lambda needs Docker to run code. Here every invocation moto receives (from a
Step Functions Task, or an `aws lambda invoke` against the local endpoint) is forwarded to
the local Lambda runtime, which runs the project's handler in a worker process.

Run as `python -m concord.local.emulator --port P --runtime-url URL`.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
from typing import Any

import httpx

RUNTIME_UNAVAILABLE = "Lambda.ServiceException"


def forward_lambda_invocations(runtime_url: str) -> None:
    from moto.awslambda.models import LambdaFunction

    def invoke_in_runtime(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
        url = f"{runtime_url}/2015-03-31/functions/{self.function_name}/invocations"
        try:
            response = httpx.post(url, content=json.dumps(event or {}), timeout=float(self.timeout) + 10)
        except httpx.HTTPError as error:
            # As on AWS when the Lambda service fails: a retryable error for the caller.
            body = {"errorType": RUNTIME_UNAVAILABLE, "errorMessage": f"local runtime unreachable: {error}"}
            return json.dumps(body), True, ""
        return response.text, "x-amz-function-error" in response.headers, ""

    LambdaFunction._invoke_lambda = invoke_in_runtime  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--runtime-url", required=True)
    args = parser.parse_args()

    # moto's Step Functions interpreter calls Lambda at localhost:$MOTO_PORT.
    os.environ["MOTO_PORT"] = str(args.port)
    forward_lambda_invocations(args.runtime_url)

    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    server.start()
    # Must precede the creation of any state machine.
    httpx.post(
        f"http://{args.host}:{args.port}/moto-api/config",
        json={"stepfunctions": {"execute_state_machine": True}},
    ).raise_for_status()
    print(f"emulator listening on http://{args.host}:{args.port}", flush=True)

    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    stopped.wait()
    server.stop()


if __name__ == "__main__":
    main()
