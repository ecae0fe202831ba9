"""DynamoDB write units of one audit-trail record, per event type: the items
`concord.stores.audit.AuditTrail.record_event` writes for the mapping corpus' events (with the
rendering the stage's mapping configuration makes of each), sized by DynamoDB's rules.

A standard write costs one unit per KB of the item, rounded up; a transactional one twice that.
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
Item size: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html#ItemSizeCalculations
"""

from __future__ import annotations

import functools
import json
import math
import statistics
from decimal import Decimal
from pathlib import Path
from typing import Any

from concord.events import Envelope, parse_event
from concord.events.versions import as_current
from concord.mappings.inputs import MappingConfig
from concord.mappings.render import rendering_to_keep
from concord.operator.mappings import stage_mapping_config
from concord.stores.audit import AuditTrail
from concord.stores.audit_items import DeliveryTimings

from ._common import REPO_ROOT

CORPUS = REPO_ROOT / "tests" / "fixtures" / "mapping_corpus" / "events"


class _WrittenItems:
    """Stands in for DynamoDB's low-level client and keeps every item the audit trail writes."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.transactional: list[dict[str, Any]] = []

    def put_item(self, **request: Any) -> dict[str, Any]:
        self.items.append(request["Item"])
        return {}

    def batch_write_item(self, RequestItems: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
        self.items += [write["PutRequest"]["Item"] for writes in RequestItems.values() for write in writes]
        return {}

    def transact_write_items(self, TransactItems: list[dict[str, Any]]) -> dict[str, Any]:
        self.transactional += [write["Put"]["Item"] for write in TransactItems]
        return {}


def _value_bytes(value: dict[str, Any]) -> int:
    """Size of one typed attribute value (the attribute's name is counted by the caller)."""
    (kind, inner), *_ = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "B":
        return len(inner)
    if kind == "N":  # about one byte per two significant digits, plus one
        digits = Decimal(inner).as_tuple().digits
        return (len(digits) + 1) // 2 + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + _value_bytes(v) + 1 for k, v in inner.items())
    if kind == "L":
        return 3 + sum(_value_bytes(v) + 1 for v in inner)
    if kind in ("SS", "NS", "BS"):
        return sum(_value_bytes({kind[0]: member}) for member in inner)
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def item_bytes(item: dict[str, Any]) -> int:
    """Size of an item in DynamoDB's typed form: its attributes' names and values."""
    return sum(len(name.encode()) + _value_bytes(value) for name, value in item.items())


@functools.cache
def _mapping_config(stage: str) -> MappingConfig:
    """The stage's mapping configuration (cdk.json and its system-of-record file), read once."""
    return stage_mapping_config(stage, REPO_ROOT)


def record_write_units(event: Envelope, stage: str) -> int:
    """Write units of recording `event` in the audit trail, with the stage's rendering of it."""
    written = _WrittenItems()
    rendering = rendering_to_keep(as_current(event), _mapping_config(stage))
    AuditTrail(written, "audit").record_event(event, DeliveryTimings(None, None), rendering)
    plain = sum(math.ceil(item_bytes(item) / 1024) for item in written.items)
    return plain + sum(2 * math.ceil(item_bytes(item) / 1024) for item in written.transactional)


def corpus_events(corpus: Path = CORPUS) -> dict[str, list[Envelope]]:
    """The corpus' canonical events by type (each file holds events of one type)."""
    return {
        path.stem: [parse_event(event) for event in json.loads(path.read_text())]
        for path in sorted(corpus.glob("*.json"))
    }


def write_units_by_type(stage: str) -> dict[str, float]:
    """Mean write units of one audit record per event type, over the corpus' events of the type."""
    return {
        event_type: statistics.fmean(record_write_units(event, stage) for event in events)
        for event_type, events in corpus_events().items()
    }
