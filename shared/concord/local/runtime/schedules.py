"""EventBridge's scheduled rules: the target function invoked at the rule's rate."""

from __future__ import annotations

import re
import threading
import uuid
from typing import TYPE_CHECKING, Any

from ...clock import Clock, utc_now
from ..template import REGION
from .pool import Runtime

if TYPE_CHECKING:
    from types_boto3_events import EventBridgeClient

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> int | None:
    """Seconds between runs of a `rate(...)` expression; None for cron (not run locally)."""
    match = _RATE.match(expression)
    return int(match[1]) * _SECONDS[match[2].rstrip("s")] if match else None


def scheduled_event(rule_name: str, clock: Clock = utc_now) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": clock().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:123456789012:rule/{rule_name}"],
        "detail": {},
    }


class Scheduler(threading.Thread):
    """Plays EventBridge's scheduled rules: invokes the target function at the rule's rate,
    unless the rule is disabled in the emulator (`events disable-rule`, as on AWS)."""

    def __init__(self, runtime: Runtime, schedule: Any, events: EventBridgeClient, stopped: threading.Event) -> None:
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
