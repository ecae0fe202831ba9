"""Which canonical entities an event concerns: what the audit trail's entity index is built from.

An entity is named by its object type and either one system's record id (`crm:006A…`) or its
canonical id (`project-…`). An event names an entity when its payload carries the id of one of
the entity's records in a field that means that record (`MENTIONS`), when it is a sync exception
listing the record, or when it is a drift report about the canonical entity.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

# Which payload field names each system's record of an object, per event type.
MENTIONS: dict[str, dict[str, list[tuple[str, str]]]] = {
    "customer": {
        "crm": [("AccountChanged", "account_id"), ("OpportunityClosedWon", "account_id")],
        "erp": [("ProjectActivated", "erp_customer_id"), ("InvoicePosted", "customer_id")],
    },
    "project": {
        "crm": [("OpportunityClosedWon", "opportunity_id"), ("ProjectActivated", "opportunity_id")],
        "psa": [
            ("ProjectActivated", "project_id"), ("ContractChanged", "project_id"), ("StaffingChanged", "project_id"),
            ("TimeApproved", "project_id"), ("ExpenseApproved", "project_id"), ("InvoicePosted", "project_id"),
        ],
    },
}
# A sync exception's record types → the canonical object they are a record of.
EXCEPTION_RECORD_OBJECTS = {"customer": "customer", "party": "customer", "project": "project", "work": "project"}


@dataclass(frozen=True, order=True)
class EntityRef:
    """An entity as the index names it: `ref` is `<system>:<record id>` or a canonical id."""

    object_type: str
    ref: str

    @classmethod
    def record(cls, object_type: str, system: str, record_id: str) -> EntityRef:
        return cls(object_type, f"{system}:{record_id}")

    @classmethod
    def canonical(cls, object_type: str, canonical_id: str) -> EntityRef:
        return cls(object_type, canonical_id)


def entity_refs(event_type: str, data: Mapping[str, Any]) -> list[EntityRef]:
    """Every entity the payload of an event of this type names, each once, sorted."""
    return sorted(set(_named(event_type, data)))


def _named(event_type: str, data: Mapping[str, Any]) -> Iterator[EntityRef]:
    for object_type, by_system in MENTIONS.items():
        for system, fields in by_system.items():
            for mentioned_type, field_name in fields:
                if event_type == mentioned_type and data.get(field_name):
                    yield EntityRef.record(object_type, system, str(data[field_name]))
    if event_type == "SyncExceptionRaised":
        for record in data.get("records") or []:
            record_type = EXCEPTION_RECORD_OBJECTS.get(str(record.get("record_type")))
            if record_type and record.get("system") and record.get("record_id"):
                yield EntityRef.record(record_type, str(record["system"]), str(record["record_id"]))
    if event_type == "DriftDetected" and data.get("object_type") and data.get("canonical_id"):
        yield EntityRef.canonical(str(data["object_type"]), str(data["canonical_id"]))
