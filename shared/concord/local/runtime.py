"""The local Lambda runtime: runs the project's handlers the way AWS would trigger them.

It plays three parts that moto does not execute:
  - the Lambda service: an Invoke API (`POST /2015-03-31/functions/{name}/invocations`) that
    the emulator forwards Step Functions Tasks to; each function runs in its own worker
    process (see worker.py) with its timeout enforced;
  - API Gateway: an HTTP front that turns requests on the template's routes into REST API
    proxy events and the function's answer back into an HTTP response;
  - SQS event source mappings: pollers with the mapping's batch size and batching window
    that delete what succeeded and honour ReportBatchItemFailures; the queue's visibility
    timeout and redrive policy (in the emulator) bring failures back or park them.

Run as `python -m concord.local.runtime --state-dir DIR`. It can be killed at any moment
(`kill -9` included) and started again: unacknowledged messages simply come back.
"""

from __future__ import annotations

import argparse
import base64
import json
import multiprocessing
import re
import signal
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import boto3
from botocore.config import Config

from . import worker
from .state import StackState
from .template import REGION, REPO_ROOT, FunctionSpec, Topology

API_GATEWAY_MAX_BODY = 10 * 1024 * 1024
BASE_PATH = "/concord"
MAX_WORKERS_PER_FUNCTION = 4
_spawn = multiprocessing.get_context("spawn")


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
        ready = parent.recv() if parent.poll(60) else {"ready": False, "payload": '{"errorType":"Runtime.InitTimeout"}'}
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
                        True, (time.perf_counter() - started) * 1000, cold,
                    )
            except (EOFError, OSError, BrokenPipeError) as error:
                process.kill()
                return Invocation(
                    json.dumps({"errorType": "Runtime.ExitError", "errorMessage": str(error)}),
                    True, (time.perf_counter() - started) * 1000, cold,
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


# --- SQS event source mappings ----------------------------------------------------------


def _sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """An SQS message as Lambda's event source mapping hands it to a function."""
    attributes = {
        "DataType": "dataType", "StringValue": "stringValue", "BinaryValue": "binaryValue",
    }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {
            name: {attributes[k]: v for k, v in value.items() if k in attributes}
            | {"stringListValues": [], "binaryListValues": []}
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


class QueuePoller(threading.Thread):
    def __init__(self, runtime: Runtime, mapping: Any, sqs: Any, stopped: threading.Event) -> None:
        super().__init__(name=f"poller:{mapping.queue_name}", daemon=True)
        self.runtime = runtime
        self.mapping = mapping
        self.sqs = sqs
        self.stopped = stopped
        self.queue_url = sqs.get_queue_url(QueueName=mapping.queue_name)["QueueUrl"]
        self.queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.batches = 0

    def _receive(self, limit: int, wait_seconds: int) -> list[dict[str, Any]]:
        return self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(10, limit),
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])

    def _collect_batch(self) -> list[dict[str, Any]]:
        batch = self._receive(self.mapping.batch_size, wait_seconds=1)
        if not batch:
            return batch
        deadline = time.monotonic() + self.mapping.batching_window_seconds
        while len(batch) < self.mapping.batch_size and time.monotonic() < deadline:
            more = self._receive(self.mapping.batch_size - len(batch), wait_seconds=0)
            if more:
                batch.extend(more)
            else:
                time.sleep(0.05)
        return batch

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                self._poll_once()
            except Exception as error:  # keep polling through emulator hiccups, as Lambda does
                print(f"poller {self.mapping.queue_name}: {error!r}", flush=True)
                time.sleep(1)

    def _poll_once(self) -> None:
        messages = self._collect_batch()
        if not messages:
            return
        event = {"Records": [_sqs_record(m, self.queue_arn) for m in messages]}
        result = self.runtime.invoke(self.mapping.function_name, event)
        self.batches += 1
        if result.errored:
            return  # nothing deleted: the whole batch comes back after its visibility timeout
        failed: set[str] = set()
        if self.mapping.report_batch_item_failures:
            response = json.loads(result.payload or "null") or {}
            failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(done[start : start + 10])
                ],
            )


# --- Scheduled rules ------------------------------------------------------------------------

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> int | None:
    """Seconds between runs of a `rate(...)` expression; None for cron (not run locally)."""
    match = _RATE.match(expression)
    return int(match[1]) * _SECONDS[match[2].rstrip("s")] if match else None


def scheduled_event(rule_name: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:123456789012:rule/{rule_name}"],
        "detail": {},
    }


class Scheduler(threading.Thread):
    """Plays EventBridge's scheduled rules: invokes the target function at the rule's rate,
    unless the rule is disabled in the emulator (`events disable-rule`, as on AWS)."""

    def __init__(self, runtime: Runtime, schedule: Any, events: Any, stopped: threading.Event) -> None:
        super().__init__(name=f"schedule:{schedule.name}", daemon=True)
        self.runtime, self.schedule, self.events, self.stopped = runtime, schedule, events, stopped
        self.runs = 0

    def _enabled(self) -> bool:
        try:
            return self.events.describe_rule(Name=self.schedule.name).get("State") != "DISABLED"
        except Exception:  # noqa: BLE001 - the emulator unreachable for a moment: run as scheduled
            return True

    def run(self) -> None:
        interval = rate_seconds(self.schedule.expression)
        if interval is None:
            print(f"schedule {self.schedule.name}: {self.schedule.expression} is not run locally", flush=True)
            return
        # A rule's first run comes when it is created; here, when the runtime (re)starts, so a
        # restarted runtime catches up at once (e.g. change capture after a crash).
        while True:
            if self._enabled():
                result = self.runtime.invoke(self.schedule.function_name, scheduled_event(self.schedule.name))
                self.runs += 1
                if result.errored:
                    print(f"schedule {self.schedule.name}: {result.payload[:500]}", flush=True)
            if self.stopped.wait(interval):
                return


# --- HTTP: API Gateway front and Lambda Invoke API -----------------------------------------


def _json_response(handler: BaseHTTPRequestHandler, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def _route_pattern(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path)) + "$")


def _as_sent(header_value: str) -> str:
    """A header value as the UTF-8 the client sent (http.server decodes headers as Latin-1);
    encoded lone surrogates stay lone surrogates, as they reach a function on AWS."""
    try:
        return header_value.encode("latin-1").decode("utf-8", "surrogatepass")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return header_value


def proxy_event(method: str, route_path: str, path: str, params: dict[str, str], headers: list[tuple[str, str]], query: str, body: bytes, stage: str, base_path: str = "") -> dict[str, Any]:
    """A REST API (v1) Lambda proxy integration event. Under a base path, shaped as API Gateway
    shapes a custom domain's: `path` and `requestContext.path` carry the base path, no stage."""
    multi_headers: dict[str, list[str]] = {"X-Forwarded-Proto": ["http"]}
    for name, value in headers:
        multi_headers.setdefault(name, []).append(_as_sent(value))
    multi_query: dict[str, list[str]] = {}
    for pair in filter(None, query.split("&")):
        name, _, value = pair.partition("=")
        # API Gateway hands the function decoded query parameters.
        multi_query.setdefault(unquote(name, errors="surrogatepass"), []).append(unquote(value, errors="surrogatepass"))
    try:
        text, is_base64 = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, is_base64 = base64.b64encode(body).decode(), True
    now = time.time()
    context_path = f"{base_path}{path}" if base_path else f"/{stage}{path}"
    custom_domain = {"domainName": multi_headers.get("Host", ["localhost"])[-1]} if base_path else {}
    return {
        "resource": route_path,
        "path": f"{base_path}{path}",
        "httpMethod": method,
        "headers": {name: values[-1] for name, values in multi_headers.items()},
        "multiValueHeaders": multi_headers,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": params or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": route_path,
            "httpMethod": method,
            "path": context_path,
            "stage": stage,
            **custom_domain,
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(now * 1000),
            "identity": {"sourceIp": "127.0.0.1", "userAgent": multi_headers.get("User-Agent", [""])[0]},
            "accountId": "123456789012",
            "apiId": "local",
            "protocol": "HTTP/1.1",
        },
        "body": text if body else None,
        "isBase64Encoded": is_base64,
    }


def make_front(runtime: Runtime) -> type[BaseHTTPRequestHandler]:
    routes = [(r.method, r.path, _route_pattern(r.path), r.function_name) for r in runtime.topology.routes]

    class ApiGatewayFront(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes: with Nagle's algorithm on, the body
        # waits for the client's delayed ACK (~40 ms on Linux) on every keep-alive request.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # the ingest function logs every request itself

        def _handle(self) -> None:
            path, _, query = self.path.partition("?")
            # The API is served at the root and, as a custom domain's base-path mapping, under BASE_PATH.
            base_path = BASE_PATH if path.startswith(f"{BASE_PATH}/") else ""
            path = path.removeprefix(base_path)
            match = next(
                ((route, m, fn) for method, route, pattern, fn in routes if method == self.command and (m := pattern.match(path))),
                None,
            )
            length = self.headers.get("Content-Length")
            if length is not None and int(length) > API_GATEWAY_MAX_BODY:
                self.close_connection = True
                return _json_response(self, 413, {"message": "Request Too Long"})
            body = self.rfile.read(int(length)) if length else b""
            if match is None:
                return _json_response(self, 404, {"message": "Not Found"})
            route, m, function_name = match
            event = proxy_event(self.command, route, path, m.groupdict(), list(self.headers.items()), query, body, "local", base_path)
            result = runtime.invoke(function_name, event)
            if result.errored:
                return _json_response(self, 502, {"message": "Internal server error"})
            response = json.loads(result.payload)
            headers = {k: v for k, v in (response.get("headers") or {}).items()}
            for name, values in (response.get("multiValueHeaders") or {}).items():
                headers[name] = ", ".join(values)
            data = response.get("body") or ""
            data = base64.b64decode(data) if response.get("isBase64Encoded") else data.encode()
            self.send_response(int(response.get("statusCode", 200)))
            for name, value in headers.items():
                if name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    return ApiGatewayFront


_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations$")


def make_lambda_api(runtime: Runtime, pollers: list[QueuePoller], schedulers: list[Scheduler]) -> type[BaseHTTPRequestHandler]:
    class LambdaApi(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes: with Nagle's algorithm on, the body
        # waits for the client's delayed ACK (~40 ms on Linux) on every keep-alive request.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def do_GET(self) -> None:
            if self.path != "/health":
                return _json_response(self, 404, {"message": "Not Found"})
            _json_response(
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
                return _json_response(self, 404, {"message": "Not Found"})
            name = match["name"].rsplit(":function:", 1)[-1].split(":")[0]
            if name not in runtime.pools:
                return _json_response(self, 404, {"Type": "User", "Message": f"Function not found: {name}"})
            result = runtime.invoke(name, json.loads(body or b"{}"))
            headers = {"X-Amz-Function-Error": "Unhandled"} if result.errored else {}
            _json_response(self, 200, result.payload.encode(), headers)

    return LambdaApi


def serve(state_dir: Path) -> None:
    state = StackState.load(state_dir)
    topology = Topology.from_json((state_dir / "topology.json").read_text())
    runtime = Runtime(topology, state)
    stopped = threading.Event()

    def emulator(service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=state.aws_endpoint,
            region_name=REGION,
            aws_access_key_id="local",
            aws_secret_access_key="local",
            config=Config(retries={"mode": "standard", "max_attempts": 5}),
        )

    sqs, events = emulator("sqs"), emulator("events")
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
