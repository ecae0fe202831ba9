"""`make demo` / `concord demo`: Concord's main job on the local stack, shown step by step.

1. Quote-to-cash against real Tryton: a deal won in the CRM becomes an ERP customer and a
   PSA project with its tasks; then a saga meets an ERP outage, is compensated and
   reported, and completes when redriven (demo_saga.py).
   Billing: the first deal's approved time is billed on its ERP invoice, which finance posts
   and the customer pays; the CRM and PSA show invoiced, then paid (demo_billing.py).
2. A CRM account change travels as a signed webhook ingest → bus → queue → audit trail;
   its path is printed with timings.
3. The same delivery replayed, and forged, unsigned, malformed and oversized deliveries:
   each answered correctly, and nothing extra reaches the bus.
4. An event that no consumer can process is retried and parked in the DLQ with its reason.
Exit code 0 only when every check held (and the three systems agree).
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid

import httpx
from rich.console import Console
from rich.table import Table

from ...catalog import AUDIT_TRAIL
from ..demo_secrets import demo_signing_secret
from ..inspect import LocalView
from ..sender import canonical_delivery, post
from ..stack import STACK_NAME, LocalStack, LocalStackError
from .checks import Checks
from .tryton_billing import run_billing
from .tryton_saga import run_quote_to_cash

AUDIT_QUEUE = AUDIT_TRAIL.physical_name(STACK_NAME)


def _ms(later: dt.datetime | None, earlier: dt.datetime | None) -> float | None:
    if not (later and earlier):
        return None
    return (later - earlier).total_seconds() * 1000


def _fmt(ms: float | None) -> str:
    return "n/a" if ms is None else f"{ms:8.1f} ms"


def show_event_path(console: Console, view: LocalView, client: httpx.Client, checks: Checks) -> None:
    url = f"{view.state.webhook_url}/crm"
    account_id = f"ACME-{uuid.uuid4().hex[:6].upper()}"
    delivery = canonical_delivery(
        demo_signing_secret("crm"),
        "AccountChanged",
        {
            "account_id": account_id,
            "name": "Acme Consulting Group",
            "billing_address": {"street": "1 Main St", "city": "Springfield", "postal_code": "01101", "country": "US"},
            "currency": "USD",
            "changed_fields": ["billing_address"],
        },
    )
    sent_at = dt.datetime.now(dt.UTC)
    response = post(client, url, delivery)
    answered_ms = (dt.datetime.now(dt.UTC) - sent_at).total_seconds() * 1000
    if not checks.expect(response.status_code == 202, f"signed webhook answered {response.status_code}"):
        console.print(response.text)
        return
    event_id = response.json()["event_id"]
    record = view.wait_for(lambda: view.audit.event(event_id), timeout=30)
    if not checks.expect(record is not None, "event never reached the audit trail"):
        return

    table = Table(title=f"AccountChanged {account_id} (event {event_id[:8]}…): its path")
    table.add_column("step")
    table.add_column("component")
    table.add_column("took", justify="right")
    table.add_column("since webhook sent", justify="right")
    table.add_row("verify, normalize, publish once", "webhook_ingest λ (HTTP 202)", _fmt(answered_ms), _fmt(answered_ms))
    table.add_row("route by rule to queue", "EventBridge → SQS", _fmt(_ms(record.enqueued_at, record.ingested_at)), _fmt(_ms(record.enqueued_at, sent_at)))
    table.add_row("poll and hand over a batch", "event source mapping", _fmt(_ms(record.first_received_at, record.enqueued_at)), _fmt(_ms(record.first_received_at, sent_at)))
    table.add_row("record once in the audit trail", "audit_trail λ → DynamoDB", _fmt(_ms(record.recorded_at, record.first_received_at)), _fmt(_ms(record.recorded_at, sent_at)))
    console.print(table)
    checks.expect(record.data["account_id"] == account_id, "audit trail holds another account")

    # The vendor retries the same delivery: same answer, nothing new on the bus.
    view.wait_for(lambda: view.drain_tap(), timeout=5)
    again = post(client, url, delivery)
    checks.expect(again.status_code == 202 and again.json()["event_id"] == event_id, "replayed delivery not answered like the first")
    time.sleep(1.0)
    checks.expect(view.drain_tap() == [], "replayed delivery reached the bus a second time")
    console.print(f"replayed delivery {delivery.delivery_id}: HTTP {again.status_code}, same event id, nothing new on the bus")


def show_refusals(console: Console, view: LocalView, client: httpx.Client, checks: Checks) -> None:
    secret = demo_signing_secret("crm")
    base = f"{view.state.webhook_url}"
    account = {"account_id": "X-1", "name": "Forged Ltd"}
    forged = canonical_delivery(demo_signing_secret("erp"), "AccountChanged", account)
    unsigned = canonical_delivery(secret, "AccountChanged", account)
    stale = canonical_delivery(secret, "AccountChanged", account, timestamp=int(time.time()) - 3600)
    wrong_producer = canonical_delivery(demo_signing_secret("psa"), "InvoicePosted", {"invoice_id": "1"})
    cases = [
        ("signed with another source's secret", f"{base}/crm", forged.body, forged.headers, 401),
        ("no signature", f"{base}/crm", unsigned.body, {"content-type": "application/json"}, 401),
        ("timestamp an hour old (replay)", f"{base}/crm", stale.body, stale.headers, 401),
        ("unknown source", f"{base}/nosuch", unsigned.body, unsigned.headers, 404),
        ("PSA announcing an invoice", f"{base}/psa", wrong_producer.body, wrong_producer.headers, 403),
        ("body over 256 KiB", f"{base}/crm", b"{" + b" " * 300_000 + b"}", {"content-type": "application/json"}, 413),
        ("not JSON", f"{base}/crm", b"hello", {"content-type": "text/plain"}, 415),
    ]
    table = Table(title="Deliveries Concord refuses")
    table.add_column("delivery")
    table.add_column("expected", justify="right")
    table.add_column("got", justify="right")
    table.add_column("error")
    view.drain_tap()
    for what, url, body, headers, expected in cases:
        response = client.post(url, content=body, headers=headers)
        ok = checks.expect(response.status_code == expected, f"{what}: expected {expected}, got {response.status_code}")
        error = response.json().get("error", "") if response.headers.get("content-type", "").startswith("application/json") else ""
        table.add_row(what, str(expected), f"[{'green' if ok else 'red'}]{response.status_code}[/]", error)
    console.print(table)
    time.sleep(0.5)
    checks.expect(view.drain_tap() == [], "a refused delivery reached the bus")
    console.print("nothing from these deliveries reached the bus")


def show_dead_letter(console: Console, view: LocalView, checks: Checks) -> None:
    """A producer bug: an event on the bus that no consumer can parse."""
    event_id = str(uuid.uuid4())
    broken = {"id": event_id, "type": "AccountChanged", "version": 1, "source_system": "crm", "data": {"name": ""}}
    view.events.put_events(
        Entries=[{
            "EventBusName": view.topology.setting("EVENT_BUS_NAME"),
            "Source": "concord.crm",
            "DetailType": "AccountChanged",
            "Detail": json.dumps(broken),
        }]
    )
    started = time.monotonic()
    with console.status("a malformed event on the bus: waiting for retries to park it in the DLQ"):
        parked = view.wait_for(
            lambda: [m for m in view.dlq_messages(f"{AUDIT_QUEUE}-dlq") if event_id in m["Body"]], timeout=60, interval=0.5
        )
    if not checks.expect(bool(parked), "malformed event was not parked in the DLQ"):
        return
    attempts = view.audit.failures_of(parked[0]["MessageId"])
    checks.expect(len(attempts) >= 1, "parked message has no recorded reason")
    console.print(
        f"malformed event {event_id[:8]}… parked in {AUDIT_QUEUE}-dlq after {len(attempts)} attempts "
        f"({time.monotonic() - started:.1f} s, exponential back-off)"
    )
    if attempts:
        console.print(f"  reason: [yellow]{attempts[-1].reason[:200]}[/]")


def run_demo(stack: LocalStack, console: Console) -> int:
    try:
        with console.status("starting the local stack (the first start installs and seeds Tryton, ~2 min)..."):
            started = time.monotonic()
            stack.up()
        console.print(f"local stack ready in {time.monotonic() - started:.1f} s")
    except LocalStackError as error:
        console.print(f"[red]the local stack did not start:[/] {error}")
        return 1
    view = LocalView(stack)
    console.print(f"webhooks: {view.state.webhook_url}/{{source}}   emulated AWS: {view.state.aws_endpoint}")
    view.drain_tap()
    checks = Checks()
    systems = stack.systems()
    if checks.expect(systems is not None, "the stack runs without business systems (--no-systems)") and systems:
        opportunity = run_quote_to_cash(console, view, systems, checks)
        run_billing(console, view, systems, checks, opportunity)
    with httpx.Client(timeout=30) as client:
        show_event_path(console, view, client, checks)
        show_refusals(console, view, client, checks)
    show_dead_letter(console, view, checks)

    if checks.failures:
        console.print("[red]demo failed:[/]")
        for failure in checks.failures:
            console.print(f"  - {failure}")
        return 1
    console.print("[green]all checks held.[/] The stack keeps running: `concord local status`, `make down` to stop.")
    return 0
