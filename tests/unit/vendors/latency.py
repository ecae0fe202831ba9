"""Ingest handler time per request on the local stack, per scheme (not a test; run by hand).

Starts its own local stack (no business systems) on free ports, then for each case sends
N warm requests one at a time and reports median and p95 of:
  - http:    the round trip at the local API front (what a vendor sees: front, worker IPC and
             handler; the front's small writes can add TCP delayed-ACK stalls of ~40 ms);
  - handler: the ingest handler itself, called in this process with the function's environment
             from the template and the stack's emulator as its AWS (what Lambda would bill).
Accepted deliveries do their real work (PutEvents / audit PutItem / idempotency record in the
emulator), so the numbers include moto's cost of those calls.

    .venv/bin/python -m tests.unit.vendors.latency --requests 100
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from concord.local.demo_secrets import DEMO_SALESFORCE_ORG_ID, demo_signing_secret, demo_vendor_secret
from concord.local.stack import LocalStack
from concord.local.template import REPO_ROOT

from . import senders
from .harness import api_event
from .senders import Sent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cases(url: Callable[[str], str]) -> dict[str, Callable[[], Sent]]:
    return {
        "standard-webhooks (crm → AccountChanged)": lambda: senders.standard_webhooks(
            "crm", demo_signing_secret("crm"), senders.canonical_body()
        ),
        "salesforce (Account → AccountChanged)": lambda: senders.salesforce(
            "salesforce",
            demo_vendor_secret("salesforce", "endpoint-token"),
            senders.salesforce_message(DEMO_SALESFORCE_ORG_ID),
        ),
        "hubspot (recorded)": lambda: senders.hubspot(
            "hubspot", demo_vendor_secret("hubspot", "client-secret"), senders.hubspot_events(), url("hubspot")
        ),
        "xero (recorded)": lambda: senders.xero(
            "xero", demo_vendor_secret("xero", "webhook-key"), senders.xero_payload(senders.xero_event())
        ),
        "quickbooks (recorded)": lambda: senders.quickbooks(
            "quickbooks", demo_vendor_secret("quickbooks", "verifier-token"), senders.quickbooks_legacy()
        ),
        "businesscentral (recorded)": lambda: senders.business_central(
            "businesscentral", senders.business_central_payload(demo_vendor_secret("businesscentral", "client-state"))
        ),
        "forged (401)": lambda: senders.xero(
            "xero", "an-attacker-guess-0000", senders.xero_payload(senders.xero_event())
        ),
    }


class _Context:
    function_name = "concord-local-webhook-ingest"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:concord-local-webhook-ingest"
    aws_request_id = "latency"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def _stats(values: list[float]) -> str:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return f"median {statistics.median(values):6.1f} ms  p95 {cuts[94]:6.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state_dir:
        stack = LocalStack(
            state_dir=Path(state_dir),
            aws_port=_free_port(),
            webhook_port=_free_port(),
            lambda_port=_free_port(),
            with_systems=False,
        )
        state = stack.up()
        try:
            base = state.webhook_url.removesuffix("/webhooks")
            spec = next(f for f in stack.topology().functions if "webhook-ingest" in f.name)
            os.environ.update(
                {
                    **spec.environment,
                    "AWS_ENDPOINT_URL": state.aws_endpoint,
                    "AWS_ACCESS_KEY_ID": "local",
                    "AWS_SECRET_ACCESS_KEY": "local",
                    "AWS_DEFAULT_REGION": "us-east-1",
                    "POWERTOOLS_TRACE_DISABLED": "true",
                    "POWERTOOLS_LOG_LEVEL": "WARNING",
                }
            )
            loader = importlib.util.spec_from_file_location(
                "ingest_handler", REPO_ROOT / "functions" / "webhook_ingest" / "handler.py"
            )
            handler = importlib.util.module_from_spec(loader)
            sys.modules["ingest_handler"] = handler  # pydantic resolves the settings' annotations through it
            loader.loader.exec_module(handler)
            all_http, all_handler = [], []
            with httpx.Client(timeout=30) as http:
                for name, make in cases(lambda source: f"{state.webhook_url}/{source}").items():
                    http_ms, handler_ms, statuses = [], [], set()
                    for n in range(args.warmup + args.requests):
                        sent = make()
                        started = time.perf_counter()
                        response = http.post(
                            f"{base}/webhooks/{sent.source}", content=sent.body, headers=sent.headers, params=sent.query
                        )
                        elapsed = (time.perf_counter() - started) * 1000
                        statuses.add(response.status_code)
                        sent = make()  # a fresh delivery, as the front would hand it to the function
                        event = api_event(sent.source, sent)
                        event["headers"]["Host"] = base.removeprefix("http://")
                        event["headers"]["X-Forwarded-Proto"] = "http"
                        event["requestContext"].pop("domainName")
                        started = time.perf_counter()
                        answer = handler.handler(event, _Context())
                        handler_elapsed = (time.perf_counter() - started) * 1000
                        statuses.add(answer["statusCode"])
                        if n >= args.warmup:
                            http_ms.append(elapsed)
                            handler_ms.append(handler_elapsed)
                    all_http += http_ms
                    all_handler += handler_ms
                    print(f"{name:42s} {sorted(statuses)!s:7s} http: {_stats(http_ms)} | handler: {_stats(handler_ms)}")
            print(f"{'all cases':42s} {'':7s} http: {_stats(all_http)} | handler: {_stats(all_handler)}")
        finally:
            stack.down()


if __name__ == "__main__":
    main()
