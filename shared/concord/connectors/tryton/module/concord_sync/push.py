"""Push Concord's canonical events out of Tryton, after the transaction that caused them commits.

Configuration, section [concord] of the trytond configuration file:

    webhook_url = http://127.0.0.1:8787/webhooks   # base URL; empty or absent: push disabled
    secret_crm = whsec_...                          # Standard Webhooks secret, per database
    system_crm = crm        # optional: which system the database plays (default: its name)
    legal_entity = us-01    # optional
    timeout = 3             # optional: seconds per delivery

A database without a secret does not push. Each delivery goes to `<webhook_url>/<database>`
with Concord's canonical body {"type", "timestamp", "data", "legal_entity"} and the three
Standard Webhooks headers. A database only announces the event types of the system it plays
(CRM: AccountChanged, ContactChanged, OpportunityClosedWon; PSA: TimeApproved; ERP: InvoicePosted,
PaymentReceived), as Concord only accepts those from it. A caller can opt out for one call
with the context key `concord_push: false` (Concord writing its own changes back).

How it hooks into the transaction: model code calls `enqueue()`; the first call joins an
`Outbox` data manager to the transaction. At commit, before the database commit, the outbox
reads the records and builds the payloads (events.py); after a successful commit it hands them
to `Transaction.atexit`, which runs once the transaction has ended, and POSTs them. A rollback
drops them (atexit alone would not do: trytond runs atexit callbacks after a rollback too).
Nothing here raises into Tryton, and nothing is retried: a failed delivery is logged and
Concord's polling closes the gap.
"""

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field

from trytond import config
from trytond.transaction import Transaction, without_check_access

logger = logging.getLogger(__name__)

SECTION = "concord"
DEFAULT_LEGAL_ENTITY = "us-01"
DEFAULT_TIMEOUT = 3.0
SECRET_PREFIX = "whsec_"
USER_AGENT = "concord-sync-tryton/8.2"

# Which system may announce which event (Concord refuses the others from a source).
PRODUCER = {
    "AccountChanged": "crm",
    "ContactChanged": "crm",
    "OpportunityClosedWon": "crm",
    "TimeApproved": "psa",
    "InvoicePosted": "erp",
    "PaymentReceived": "erp",
}

_warned = set()


@dataclass(frozen=True)
class Settings:
    url: str
    secret: str
    system: str
    legal_entity: str
    timeout: float


def settings(database):
    "The push settings of `database`, or None when it does not push."
    url = (config.get(SECTION, "webhook_url", default="") or "").strip()
    if not url:
        return None
    secret = (config.get(SECTION, f"secret_{database}", default="") or "").strip()
    if not secret:
        _warn_once(
            ("no-secret", database),
            "concord push disabled for database %s: no secret_%s in [%s]",
            database,
            database,
            SECTION,
        )
        return None
    try:
        timeout = float(config.get(SECTION, "timeout", default=DEFAULT_TIMEOUT))
    except ValueError:
        timeout = DEFAULT_TIMEOUT
    return Settings(
        url=url.rstrip("/") + "/" + urllib.parse.quote(database, safe=""),
        secret=secret,
        system=config.get(SECTION, f"system_{database}", default=database) or database,
        legal_entity=(config.get(SECTION, "legal_entity", default="") or DEFAULT_LEGAL_ENTITY),
        timeout=timeout,
    )


def enabled(event_type):
    "Whether the current transaction would push `event_type` (cheap; call it first)."
    try:
        transaction = Transaction()
        if transaction.database is None:
            return False
        if transaction.context.get("concord_push", True) is False:
            return False
        current = settings(transaction.database.name)
        return current is not None and PRODUCER[event_type] == current.system
    except Exception:
        logger.exception("concord push: could not read the push settings")
        return False


def safely(func, *args):
    "Run the detection code `func`: a failure is logged, never raised into Tryton."
    try:
        func(*args)
    except Exception:
        logger.exception("concord push: %s failed; nothing queued", func.__name__)


def enqueue(event_type, key, changed_fields=(), occurred_at=None, **extra):
    """Announce `event_type` for the record(s) named by `key` once this transaction commits.

    Calls for the same (event_type, key) in one transaction merge into one event.
    """
    try:
        if not enabled(event_type):
            return
        outbox = Transaction().join(Outbox())
        outbox.add(event_type, key, changed_fields, occurred_at, extra)
    except Exception:
        logger.exception("concord push: could not queue %s %r", event_type, key)


def now():
    return dt.datetime.now(dt.UTC)


@dataclass
class Pending:
    event_type: str
    key: object
    occurred_at: dt.datetime
    changed_fields: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)


class Outbox:
    """A trytond data manager: builds payloads at commit, sends them after it."""

    def __init__(self):
        self.pending = {}
        self.ready = []

    # One outbox per transaction: Transaction.join() returns the one already joined.
    def __eq__(self, other):
        return isinstance(other, Outbox)

    def __hash__(self):
        return hash(Outbox)

    def add(self, event_type, key, changed_fields, occurred_at, extra):
        pending = self.pending.get((event_type, key))
        if pending is None:
            pending = self.pending[(event_type, key)] = Pending(event_type, key, occurred_at or now())
        for name in changed_fields:
            if name not in pending.changed_fields:
                pending.changed_fields.append(name)
        for name, value in extra.items():
            if isinstance(value, set):
                pending.extra.setdefault(name, set()).update(value)
            else:
                pending.extra[name] = value

    def tpc_begin(self, transaction):
        # Still inside the transaction: the records can be read. Never raise here, that
        # would roll the business transaction back.
        pending, self.pending = list(self.pending.values()), {}
        if not pending:
            return
        try:
            current = settings(transaction.database.name)
            if current is None:
                return
            from . import events

            with without_check_access():
                self.ready.extend(
                    (current, delivery_id, body) for delivery_id, body in events.build_all(pending, current)
                )
        except Exception:
            logger.exception("concord push: could not build the events of a transaction")

    def commit(self, transaction):
        pass

    def tpc_vote(self, transaction):
        pass

    def tpc_finish(self, transaction):
        ready, self.ready = self.ready, []
        if ready:
            transaction.atexit(deliver_all, ready)

    def tpc_abort(self, transaction):
        self.pending = {}
        self.ready = []


def deliver_all(ready):
    # Runs from Transaction.stop(): an exception here would fail the (committed) call.
    for current, delivery_id, body in ready:
        try:
            deliver(current, body, delivery_id)
        except Exception:
            logger.exception("concord push: %s not sent", body.get("type"))


def deliver(current, body, delivery_id=None):
    "POST one delivery; log, never raise (the event is not retried)."
    payload = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
    delivery_id = delivery_id or f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time())
    try:
        headers = sign_headers(current.secret, delivery_id, timestamp, payload)
    except (binascii.Error, ValueError):
        _warn_once(
            ("bad-secret", current.url),
            "concord push: the secret for %s is not whsec_<base64>; nothing sent",
            current.url,
        )
        return False
    request = urllib.request.Request(
        current.url,
        data=payload,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            **headers,
        },
    )
    started = time.monotonic()
    try:
        with _opener(current.url).open(request, timeout=current.timeout) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        detail = error.read(500).decode("utf-8", "replace")
        logger.warning(
            "concord push: %s %s refused with HTTP %s: %s (not retried)", body["type"], delivery_id, error.code, detail
        )
        return False
    except Exception as error:  # noqa: BLE001 - log, never raise: polling closes the gap
        logger.warning(
            "concord push: %s %s to %s failed: %r (not retried)", body["type"], delivery_id, current.url, error
        )
        return False
    logger.info(
        "concord push: %s %s -> %s HTTP %s in %.0f ms",
        body["type"],
        delivery_id,
        current.url,
        status,
        (time.monotonic() - started) * 1000,
    )
    return True


def sign_headers(secret, delivery_id, timestamp, payload):
    "The Standard Webhooks headers (https://www.standardwebhooks.com/)."
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    signed = f"{delivery_id}.{timestamp}.".encode() + payload
    signature = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return {
        "webhook-id": delivery_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": f"v1,{signature}",
    }


def _opener(url):
    # A proxy from the environment must not swallow deliveries to a local receiver.
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if loopback:
        return urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener()


def _warn_once(key, message, *args):
    if key not in _warned:
        _warned.add(key)
        logger.warning(message, *args)
