"""`concord mappings diff`: for the audit trail's events of a window, what the current mappings
render against the rendering the audit trail kept when each event was recorded; sends nothing.

The audit trail keeps, with each event, the text `concord.mappings.render.rendering` made of it
at record time (by the mappings then deployed). The current rendering uses this checkout's
mappers and the stage's configuration in cdk.json (its legal entities' rules, system of
record and rendered connectors). Reads are Queries on the audit trail's by_kind index
(AuditTrail.events_published).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from ..events import parse_event
from ..mappings.inputs import MappingConfig
from ..mappings.render import rendering
from ..mappings.requests import unified_diff
from ..mappings.vendors import CONNECTORS, connectors_named
from ..ownership import load_system_of_record
from ..stores.audit_items import RecordedEvent
from ..sync.rules import parse_rules
from .stores import StageStores

DEFAULT_SYSTEM_OF_RECORD = "config/system_of_record.json"


def stage_mapping_config(stage: str, repo_root: Path) -> MappingConfig:
    """The mapping configuration cdk.json gives `stage` (what a deploy of this checkout would use)."""
    stages = json.loads((repo_root / "cdk.json").read_text())["context"]["concord:stages"]
    if stage not in stages:
        raise KeyError(f"no stage {stage!r} in cdk.json (stages: {', '.join(sorted(stages))})")
    settings = stages[stage]
    ownership_file = repo_root / settings.get("system_of_record_file", DEFAULT_SYSTEM_OF_RECORD)
    named = settings.get("rendered_connectors")
    connectors = CONNECTORS if named is None else connectors_named(named)
    return MappingConfig(parse_rules(settings["legal_entities"]), load_system_of_record(ownership_file), connectors)


class Outcome(StrEnum):
    UNCHANGED = "unchanged"
    CHANGED = "changed"
    NOT_RECORDED = "not recorded"  # recorded before the audit trail kept renderings


@dataclass(frozen=True)
class MappingDiff:
    event_id: str
    event_type: str
    published_at: dt.datetime | None
    outcome: Outcome
    diff: str = ""


def diff_event(recorded: RecordedEvent, config: MappingConfig) -> MappingDiff:
    """The current rendering of one recorded event against the one kept with it."""
    if recorded.rendered_requests is None:
        return MappingDiff(recorded.event_id, recorded.event_type, recorded.published_at, Outcome.NOT_RECORDED)
    current = rendering(parse_event(recorded.detail), config)
    label = f"{recorded.event_type} {recorded.event_id}"
    diff = unified_diff(recorded.rendered_requests, current, f"{label} (sent)", f"{label} (current mappings)")
    outcome = Outcome.CHANGED if diff else Outcome.UNCHANGED
    return MappingDiff(recorded.event_id, recorded.event_type, recorded.published_at, outcome, diff)


def mapping_diffs(
    stores: StageStores, start: dt.datetime, end: dt.datetime, config: MappingConfig
) -> list[MappingDiff]:
    """Each event published in [start, end], in publication order, with what would change."""
    with stores.audit_call("dynamodb:Query"):
        events = stores.audit.events_published(start, end)
    return [diff_event(event, config) for event in events]
