"""`concord trace`: everything Concord knows about one entity (customer or project).

Its records in each system (the registry's links), the canonical events that name any of them
(the audit trail's entity index), the exceptions raised for those (filed under their trigger),
and the lineage the flows wrote. Queries and batch reads only: nothing is scanned.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ..stores.audit import SYNC_EXCEPTION
from ..stores.audit_items import RecordedEvent
from ..stores.entities import EntityRef, entity_refs
from ..stores.registry import Link
from ..sync.ids import canonical_id
from .calls import OperationsError
from .stores import StageStores


def payload_entities(event: dict[str, Any] | None) -> list[tuple[str, str, str]]:
    """(object type, system, record id) of the CRM records a payload names (for the xref)."""
    data = (event or {}).get("data")
    if not isinstance(data, dict):
        return []
    found = []
    if data.get("opportunity_id"):
        found.append(("project", "crm", str(data["opportunity_id"])))
    if data.get("account_id"):
        found.append(("customer", "crm", str(data["account_id"])))
    if data.get("project_id"):
        found.append(("project", "psa", str(data["project_id"])))
    return found


# `system:type` as an operator writes it → (canonical object type, record type in the xref)
RECORD_KINDS: dict[tuple[str, str], str] = {
    ("crm", "opportunity"): "project",
    ("crm", "project"): "project",
    ("crm", "account"): "customer",
    ("crm", "customer"): "customer",
    ("crm", "party"): "customer",
    ("erp", "customer"): "customer",
    ("erp", "party"): "customer",
    ("psa", "project"): "project",
    ("psa", "work"): "project",
}
OBJECT_TYPES = ("customer", "project")
# The system of record of customers and projects (deals): canonical ids derive from its ids.
AUTHORITY = "crm"


@dataclass(frozen=True)
class EntityReference:
    object_type: str
    canonical_id: str | None = None
    system: str | None = None
    record_id: str | None = None


def parse_entity_reference(text: str) -> EntityReference:
    """`customer-<uuid>`, `project-<uuid>` or `system:type:record id` (ValueError otherwise)."""
    text = text.strip()
    if text.count(":") >= 2:
        system, kind, record_id = text.split(":", 2)
        object_type = RECORD_KINDS.get((system.lower(), kind.lower()))
        if object_type is None or not record_id:
            known = ", ".join(f"{s}:{k}:ID" for s, k in RECORD_KINDS)
            raise ValueError(f"unknown record {text!r}; known forms: {known}")
        return EntityReference(object_type, None, system.lower(), record_id)
    object_type = text.split("-", 1)[0]
    if object_type in OBJECT_TYPES and "-" in text:
        return EntityReference(object_type, text)
    raise ValueError(f"{text!r} is neither a canonical id (customer-…, project-…) nor system:type:record_id")


@dataclass
class Trace:
    reference: str
    object_type: str
    canonical_id: str | None
    links: list[Link]
    events: list[dict[str, Any]]
    related: list[str]
    name: str | None
    derived: bool = False  # canonical id computed from the CRM id; the registry has no link yet
    # what the flows did to the entity's records, from the registry: at, system, record_id,
    # event_id, event_type, action
    lineage: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "object_type": self.object_type,
            "canonical_id": self.canonical_id,
            "canonical_id_derived": self.derived,
            "name": self.name,
            "records": {link.system: link.model_dump(mode="json", exclude={"system"}) for link in self.links},
            "events": self.events,
            "related": self.related,
            "lineage": self.lineage,
        }


def _mentions(event: RecordedEvent, entity: set[EntityRef]) -> list[str]:
    """Which of the entity's records (`system:record id`, or its canonical id) an event names."""
    return sorted({ref.ref for ref in entity_refs(event.event_type, event.data) if ref in entity})


def _summary(detail: dict[str, Any]) -> str:
    data = detail.get("data") or {}
    event_type = detail.get("type")
    if event_type == "SyncExceptionRaised":
        return (
            f"{data.get('step')} {data.get('error_class')}/{data.get('severity')}: {str(data.get('reason', ''))[:160]}"
        )
    if event_type == "DriftDetected":
        return f"{data.get('field')} differs (authority {data.get('authority')})"
    amount = data.get("amount") or data.get("budget") or data.get("total")
    parts = [str(data[k]) for k in ("name", "number") if data.get(k)]
    if isinstance(amount, dict):
        parts.append(f"{amount.get('amount')} {amount.get('currency')}")
    if data.get("changed_fields"):
        parts.append("changed " + ", ".join(map(str, data["changed_fields"])))
    return " · ".join(parts)


def _names_and_relations(trace: Trace, detail: dict[str, Any]) -> None:
    """The entity's name and its related entity, from the CRM events that carry them."""
    data = detail.get("data") or {}
    if trace.object_type == "customer" and detail.get("type") == "AccountChanged":
        trace.name = data.get("name")
    if trace.object_type == "customer" and detail.get("type") == "OpportunityClosedWon" and data.get("opportunity_id"):
        trace.related.append(canonical_id("project", "crm", str(data["opportunity_id"])))
    if trace.object_type == "project" and detail.get("type") == "OpportunityClosedWon":
        trace.name = data.get("name") or trace.name
        if data.get("account_id"):
            trace.related.append(canonical_id("customer", "crm", str(data["account_id"])))


def _row(event: RecordedEvent, role: str, mentions: list[str]) -> dict[str, Any]:
    return {
        "occurred_at": event.occurred_at.isoformat() if event.occurred_at else None,
        "type": event.event_type,
        "source_system": event.source_system,
        "event_id": event.event_id,
        "role": role,
        "records": mentions,
        "summary": _summary(event.detail),
        "correlation_id": event.correlation_id,
    }


def _occurrence(event: RecordedEvent) -> tuple[dt.datetime, str]:
    return event.occurred_at or dt.datetime.min.replace(tzinfo=dt.UTC), event.event_id


def _entity_refs(object_type: str, canonical: str | None, ids: dict[str, str]) -> set[EntityRef]:
    refs = {EntityRef.record(object_type, system, record_id) for system, record_id in ids.items()}
    return refs | ({EntityRef.canonical(object_type, canonical)} if canonical else set())


def trace_entity(stores: StageStores, reference: EntityReference, text: str) -> Trace:
    canonical, derived = canonical_of_reference(stores, reference)
    with stores.registry_call("dynamodb:Query"):
        links = stores.registry.links_of(reference.object_type, canonical) if canonical else []
    ids = {link.system: link.record_id for link in links}
    if reference.system and reference.record_id:
        ids.setdefault(reference.system, reference.record_id)
    linked_by: dict[str, list[str]] = defaultdict(list)
    for link in links:
        if link.linked_by:
            linked_by[link.linked_by].append(f"{link.system}:{link.record_id}")
    entity = _entity_refs(reference.object_type, canonical, ids)

    with stores.audit_call("dynamodb:Query, dynamodb:BatchGetItem"):
        found = {e.event_id: e for e in stores.audit.events_mentioning(entity)}
        found.update((e.event_id, e) for e in stores.audit.events(linked_by))
        # Exceptions raised for a trigger that concerns the entity, even if they name no record.
        raised = [e for e in stores.audit.exceptions_caused_by(found) if e.event_id not in found]

    trace = Trace(text, reference.object_type, canonical, links, [], [], None, derived)
    for event in sorted(found.values(), key=_occurrence):  # in order: the latest name wins
        role = "changed"
        if event.event_type == SYNC_EXCEPTION:
            role = "exception"
        elif event.event_id in linked_by:
            role = "created · linked " + ", ".join(sorted(linked_by[event.event_id]))
        _names_and_relations(trace, event.detail)
        trace.events.append(_row(event, role, _mentions(event, entity)))
    trace.events += [_row(event, "exception", []) for event in raised]
    trace.events.sort(key=lambda e: (str(e.get("occurred_at") or ""), e["event_id"]))
    trace.related = sorted(set(trace.related))
    if canonical:
        with stores.registry_call("dynamodb:Query"):
            lineage = stores.registry.lineage(reference.object_type, canonical)
        trace.lineage = [entry.model_dump(mode="json") for entry in lineage]
    return trace


def canonical_of_reference(stores: StageStores, reference: EntityReference) -> tuple[str | None, bool]:
    """The canonical id a reference names (None when the registry links no such record), and
    whether it was derived from the authority's id rather than found in the registry."""
    if reference.canonical_id or not (reference.system and reference.record_id):
        return reference.canonical_id, False
    with stores.registry_call("dynamodb:GetItem"):
        canonical = stores.registry.canonical_of(reference.system, reference.object_type, reference.record_id)
    if canonical is None and reference.system == AUTHORITY:
        # Canonical ids derive from the authority's id (concord.sync.ids): known before any link.
        return canonical_id(reference.object_type, AUTHORITY, reference.record_id), True
    return canonical, False


def resolve_entity(stores: StageStores, text: str) -> tuple[str, str]:
    """(object type, canonical id) of an operator's reference (see parse_entity_reference)."""
    reference = parse_entity_reference(text)
    canonical, _ = canonical_of_reference(stores, reference)
    if canonical is None:
        raise OperationsError(f"{text}: no canonical entity links {reference.system} record {reference.record_id}")
    return reference.object_type, canonical


# --------------------------------------------------------------------------- a parked message's context


def records_named(stores: StageStores, event: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Each record the payload names, with its canonical entity and that entity's records."""
    found = []
    for object_type, system, record_id in payload_entities(event):
        with stores.registry_call("dynamodb:GetItem, dynamodb:Query"):
            canonical = stores.registry.canonical_of(system, object_type, record_id)
            links = stores.registry.links_of(object_type, canonical) if canonical else []
        found.append(
            {
                "object_type": object_type,
                "named_as": f"{system}:{record_id}",
                "canonical_id": canonical,
                "records": {link.system: link.model_dump(mode="json", exclude={"system"}) for link in links},
            }
        )
    return found


def correlated_events(stores: StageStores, event: dict[str, Any] | None) -> list[RecordedEvent]:
    """Recorded events sharing the event's correlation id, among those that name the records its
    payload names (Queries of the entity index: the audit trail has no correlation index), oldest first."""
    correlation_id = (event or {}).get("correlation_id")
    if not correlation_id:
        return []
    refs = [
        EntityRef.record(object_type, system, record_id) for object_type, system, record_id in payload_entities(event)
    ]
    with stores.audit_call("dynamodb:Query, dynamodb:BatchGetItem"):
        named = stores.audit.events_mentioning(refs)
    return [e for e in named if e.correlation_id == correlation_id]
