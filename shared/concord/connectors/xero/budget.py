"""The organisation's rate budget: Xero limits each connected organisation to 5 calls in
progress, 60 calls a minute and 5,000 a day (1,000 on the Starter tier), so Concord holds two
shared token buckets per organisation: a minute bucket with the concurrency leases, and a day
bucket. A call takes from both; the vendor's 429 shrinks the minute bucket (AIMD).
https://developer.xero.com/documentation/guides/oauth2/limits/
"""

from __future__ import annotations

from ..kit.budget import Grant, RateBudget


class OrganisationBudget(RateBudget):
    """A RateBudget made of a per-minute budget (with leases) and a per-day budget."""

    def __init__(self, minute: RateBudget, day: RateBudget) -> None:
        super().__init__(minute.store, minute.key, minute.policy)
        self.minute, self.day = minute, day

    def acquire(self, *, max_wait: float) -> Grant:
        # The day's token first: it is the scarcer one, and a wait for it is never worth taking.
        self.day.acquire(max_wait=0.0)
        return self.minute.acquire(max_wait=max_wait)

    def release(self, grant: Grant, *, throttled: bool) -> None:
        self.minute.release(grant, throttled=throttled)
