"""Writing an entity's lineage: which event did what to which system's record."""

from __future__ import annotations

from ..clock import Clock, utc_now
from ..domain import LineageEntry
from ..events import Envelope
from ..events.types import System
from .systems import Systems


def lineage_entry(cause: Envelope, system: System, record_id: str, action: str, clock: Clock = utc_now) -> LineageEntry:
    return LineageEntry(
        at=clock(),
        system=system.value,
        record_id=record_id,
        event_id=cause.id,
        event_type=cause.type,
        action=action,
    )


def record_lineage(
    systems: Systems,
    object_type: str,
    canonical_id: str,
    cause: Envelope,
    system: System,
    record_id: str,
    action: str,
    clock: Clock = utc_now,
) -> None:
    systems.xref.record_change(object_type, canonical_id, lineage_entry(cause, system, record_id, action, clock))
