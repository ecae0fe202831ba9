"""`python -m concord.local.runtime --state-dir DIR`: the runtime's HTTP fronts, pollers and
schedules over the stack the state directory describes, until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import signal
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

from boto3.session import Session
from botocore.config import Config

from ..state import StackState
from ..template import REGION, Topology
from .api_gateway import make_front
from .invoke_api import make_lambda_api
from .pool import Runtime
from .queues import QueuePoller
from .schedules import Scheduler


def serve(state_dir: Path) -> None:
    state = StackState.load(state_dir)
    topology = Topology.from_json((state_dir / "topology.json").read_text())
    runtime = Runtime(topology, state)
    stopped = threading.Event()

    emulator = Session(region_name=REGION, aws_access_key_id="local", aws_secret_access_key="local")
    retrying = Config(retries={"mode": "standard", "max_attempts": 5})
    sqs = emulator.client("sqs", endpoint_url=state.aws_endpoint, config=retrying)
    events = emulator.client("events", endpoint_url=state.aws_endpoint, config=retrying)
    pollers = [QueuePoller(runtime, mapping, sqs, stopped) for mapping in topology.event_sources]
    schedulers = [Scheduler(runtime, schedule, events, stopped) for schedule in topology.schedules]

    servers = [
        ThreadingHTTPServer((state.host, state.lambda_port), make_lambda_api(runtime, pollers, schedulers)),
        ThreadingHTTPServer((state.host, state.webhook_port), make_front(runtime)),
    ]
    for server in servers:
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
    for thread in [*pollers, *schedulers]:
        thread.start()
    print(f"runtime ready: {len(runtime.pools)} functions, {len(pollers)} pollers, {len(schedulers)} schedules", flush=True)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    stopped.wait()
    for server in servers:
        server.shutdown()
    runtime.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="Concord's local Lambda runtime")
    parser.add_argument("--state-dir", type=Path, required=True)
    serve(parser.parse_args().state_dir)


if __name__ == "__main__":
    main()
