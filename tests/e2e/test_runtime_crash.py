"""The local Lambda runtime killed with SIGKILL mid-stream: after a restart, nothing is lost."""

from __future__ import annotations

import json
import os
import signal
import uuid

import pytest

from concord.local.inspect import LocalView
from concord.local.stack import LocalStack
from concord.local.state import StackState

pytestmark = pytest.mark.e2e

EVENTS = 40


def test_runtime_killed_mid_batch_then_restarted_records_every_event(local_stack: LocalStack, view: LocalView) -> None:
    bus = view.topology.setting("EVENT_BUS_NAME")
    ids = [str(uuid.uuid4()) for _ in range(EVENTS)]
    entries = [
        {
            "EventBusName": bus,
            "Source": "concord.crm",
            "DetailType": "AccountChanged",
            "Detail": json.dumps(
                {
                    "id": event_id,
                    "type": "AccountChanged",
                    "version": 1,
                    "source_system": "crm",
                    "occurred_at": "2026-11-26T00:00:00Z",
                    "correlation_id": event_id,
                    "legal_entity": "us-01",
                    "data": {"account_id": f"A-{n}", "name": "Crash Test Ltd"},
                }
            ),
        }
        for n, event_id in enumerate(ids)
    ]
    recorded = lambda: sum(view.audit.event(i) is not None for i in ids)

    # Given a stream of events being consumed
    for start in range(0, EVENTS, 10):
        view.events.put_events(Entries=entries[start : start + 10])
    assert view.wait_for(lambda: recorded() > 0, timeout=30), "consumption never started"

    # When the runtime (pollers, handlers, worker processes) is killed without warning
    runtime_pid = StackState.load(local_stack.state_dir).runtime_pid
    os.killpg(runtime_pid, signal.SIGKILL)
    seen_at_crash = recorded()

    # and started again
    local_stack.up()
    assert StackState.load(local_stack.state_dir).runtime_pid != runtime_pid

    # Then every event is recorded, once, and none was parked
    assert view.wait_for(lambda: recorded() == EVENTS, timeout=60), f"{recorded()} of {EVENTS} recorded"
    assert seen_at_crash <= EVENTS
    parked = [m for m in view.dlq_messages("concord-local-audit-trail-dlq") if any(i in m["Body"] for i in ids)]
    assert parked == []
