"""The chaos campaign's webhook facts: AccountChanged deliveries from the CRM, as a vendor
sends them (retried on 5xx and on no answer), each fact delivered three times (the same
delivery twice, then once more with a fresh webhook-timestamp), some as out-of-order pairs
(a newer change of an account, then an older one)."""

from __future__ import annotations

import datetime as dt
import random
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from concord.local.demo_secrets import demo_signing_secret
from concord.local.sender import canonical_delivery, post

from .chaos_ledger import Injected, WebhookFact


class WebhookSender:
    def __init__(self, webhook_url: str, run_id: str, rng: random.Random, injected: Injected) -> None:
        self.webhook_url, self.run_id, self.rng, self.injected = webhook_url, run_id, rng, injected
        self.secret = demo_signing_secret("crm")

    def send(self, facts: int, out_of_order_pairs: int, workers: int) -> None:
        """Send `facts` facts and `out_of_order_pairs` pairs, shuffled, from `workers` threads."""
        now = dt.datetime.now(dt.UTC)
        jobs: list[Any] = []
        for n in range(facts):
            jobs.append(("single", self._new_fact(n, f"Chaos Client {self.run_id} {n}", now)))
        for p in range(out_of_order_pairs):
            account = f"CHAOS-{self.run_id}-pair-{p}"
            newer = self._new_fact(10_000 + 2 * p, f"Chaos Pair {p} v2", now, "newer", account)
            older = self._new_fact(
                10_001 + 2 * p, f"Chaos Pair {p} v1", now - dt.timedelta(minutes=2), "older", account
            )
            jobs.append(("pair", newer, older))
        self.rng.shuffle(jobs)
        with httpx.Client(timeout=15) as client, ThreadPoolExecutor(workers) as pool:
            futures = []
            for job in jobs:
                if job[0] == "single":
                    futures.append(pool.submit(self._send_fact, client, job[1]))
                else:
                    futures.append(pool.submit(self._send_pair, client, job[1], job[2]))
                time.sleep(0.15)
            for future in futures:
                future.result()

    def _deliver(self, client: httpx.Client, fact: WebhookFact, fresh_timestamp: bool, first_timestamp: int) -> None:
        """One delivery as a vendor sends it: retried on no answer and on 5xx until a verdict."""
        deadline = time.monotonic() + 180
        pause = 0.5
        while True:
            delivery = canonical_delivery(
                self.secret,
                "AccountChanged",
                {"account_id": fact.account_id, "name": fact.name},
                occurred_at=fact.occurred_at,
                delivery_id=fact.delivery_id,
                timestamp=int(time.time()) if fresh_timestamp else first_timestamp,
                legal_entity="us-01",
            )
            try:
                response = post(client, self.webhook_url, delivery)
            except httpx.HTTPError as error:
                status: int | str = type(error).__name__
            else:
                status = response.status_code
                if status < 500:
                    fact.statuses.append(status)
                    if status == 202:
                        fact.event_ids.append(response.json()["event_id"])
                    return
            if time.monotonic() > deadline:
                fact.statuses.append(status)
                return
            fact.retried.append(str(status))
            time.sleep(pause)
            pause = min(pause * 2, 5)

    def _send_fact(self, client: httpx.Client, fact: WebhookFact) -> None:
        first_timestamp = int(time.time())
        self._deliver(client, fact, False, first_timestamp)
        self._deliver(client, fact, False, first_timestamp)  # the same delivery again
        time.sleep(self.rng.uniform(0.0, 1.2))
        self._deliver(client, fact, True, first_timestamp)  # a retry with a fresh timestamp

    def _send_pair(self, client: httpx.Client, newer: WebhookFact, older: WebhookFact) -> None:
        self._send_fact(client, newer)
        self._send_fact(client, older)

    def _new_fact(
        self, n: int, name: str, occurred_at: dt.datetime, pair: str | None = None, account_id: str | None = None
    ) -> WebhookFact:
        account_id = account_id or f"CHAOS-{self.run_id}-{n}"
        fact = WebhookFact(
            f"{account_id}|{name}",
            account_id,
            name,
            occurred_at,
            f"msg_chaos_{self.run_id}_{n}_{uuid.uuid4().hex[:8]}",
            pair=pair,
        )
        self.injected.facts.append(fact)
        return fact
