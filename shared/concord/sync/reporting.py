"""Sync exceptions: what a flow publishes when a person has to look (conflict, approval)."""

from __future__ import annotations

import datetime as dt

from ..events import Envelope, new_event
from ..events.envelope import SyncExceptionRaisedEvent
from ..events.types import ErrorClass, RecordRef, Severity
from .ids import derived_event_id


def sync_exception(
    cause: Envelope,
    *,
    flow: str,
    step: str,
    error_class: ErrorClass,
    severity: Severity,
    reason: str,
    records: list[RecordRef],
    now: dt.datetime,
    once_per_cause: bool = True,
) -> SyncExceptionRaisedEvent:
    """The exception raised because of `cause`. With once_per_cause its id is derived from the
    cause and step, so a redelivered cause reports once; without, each call is a new report."""
    return new_event(
        SyncExceptionRaisedEvent,
        {
            "flow": flow,
            "step": step,
            "severity": severity,
            "error_class": error_class,
            "reason": reason[:4000],
            "caused_by_event_id": cause.id,
            "records": [record.model_dump() for record in records[:50]],
        },
        legal_entity=cause.legal_entity,
        occurred_at=now,
        event_id=derived_event_id(cause.id, flow, step) if once_per_cause else None,
        correlation_id=cause.correlation_id,
        causation_id=cause.id,
    )
