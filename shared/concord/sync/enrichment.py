"""Enrichment: a system's notice "these records changed" becomes the business events polling
would announce for them, with the same event ids.

A push that names records without their content (a Salesforce outbound message without the
fields a canonical event needs, a change data capture event) arrives as ChangeNotified. The
records' current change stamps are read in one call (ChangeSource.changes_of) and each change
goes through the announcer polling uses for that (system, record type), so push, CDC and
polling announce a fact under one event id and consumers apply it once.

A notice without ids (more changed than the system would name: a Business Central
"collection") is a delta read: the watch of that (system, record type) runs from change
capture's checkpoint, as a scheduled poll would, and moves it on. Both may run at once: each
saves a checkpoint only after announcing everything before it, so whichever lands last, no
change behind it goes unannounced (a re-read announces the same event ids).

Announced events carry the stage's default legal entity, as polled ones do: the two must be
the same event.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from pydantic import BaseModel

from ..clock import Clock, utc_now
from ..errors import ConfigurationError
from ..events.payloads import ChangeNotified
from ..ports import CrmPort, ErpPort, EventPublisher, PsaPort
from .change_capture import CheckpointStore, Watch, capture, watch_for


class EnrichmentReport(BaseModel):
    """What one message's notices came to: records named, found in their system, events announced."""

    notices: int = 0
    records: int = 0
    found: int = 0
    events: int = 0


def enrich(
    notices: Sequence[ChangeNotified],
    connectors: tuple[CrmPort, PsaPort, ErpPort],
    bus: EventPublisher,
    legal_entity: str,
    clock: Clock = utc_now,
    checkpoints: CheckpointStore | None = None,
) -> EnrichmentReport:
    """Announce what the noticed records' current state amounts to. Records no longer there
    (deleted) or not in an announceable state are left out by changes_of or the announcer.
    `checkpoints`: change capture's, for notices without ids (a delta read)."""
    report = EnrichmentReport()
    for notice in notices:
        watch = watch_for(notice.system, notice.record_type, notice.vendor_source, connectors, legal_entity, clock)
        found, announced = (_named(watch, notice, bus) if notice.record_ids
                            else _delta_read(watch, checkpoints, bus, clock))
        report = EnrichmentReport(
            notices=report.notices + 1,
            records=report.records + len(notice.record_ids),
            found=report.found + found,
            events=report.events + announced,
        )
    return report


def _named(watch: Watch, notice: ChangeNotified, bus: EventPublisher) -> tuple[int, int]:
    """The named records read in one call and announced: (changes found, events)."""
    changes = watch.source.changes_of(notice.record_type, notice.record_ids)
    announce = watch.announcer_for(changes)
    events = [event for change in changes for event in announce(change)]
    if events:
        bus.publish(events)
    return len(changes), len(events)


def _delta_read(watch: Watch, checkpoints: CheckpointStore | None, bus: EventPublisher,
                clock: Clock) -> tuple[int, int]:
    """The watch's changes since its checkpoint, announced: (changes found, events)."""
    if checkpoints is None:
        raise ConfigurationError(f"enrichment: a notice of {watch.key} names no records and no "
                                 "checkpoint store is configured for a delta read")
    read = capture(watch, checkpoints, bus, clock())
    return read.changes, read.events + read.refused


def enrich_each(
    messages: Sequence[tuple[Hashable, Sequence[ChangeNotified]]],
    connectors: tuple[CrmPort, PsaPort, ErpPort],
    bus: EventPublisher,
    legal_entity: str,
    clock: Clock = utc_now,
    checkpoints: CheckpointStore | None = None,
) -> dict[Hashable, BaseModel | Exception]:
    """enrich() per message; a message that fails (its system down, an unknown record type)
    is reported alone, so the others of the batch are not retried with it."""
    outcomes: dict[Hashable, BaseModel | Exception] = {}
    for key, notices in messages:
        try:
            outcomes[key] = enrich(notices, connectors, bus, legal_entity, clock, checkpoints)
        except Exception as error:  # noqa: BLE001 - reported for this message by the consumer
            outcomes[key] = error
    return outcomes
