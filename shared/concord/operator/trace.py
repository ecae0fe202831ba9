"""`concord trace`: everything Concord knows about one entity (customer or project).

Its records in each system (the registry's links), the canonical events that name any of them
(the audit trail), the exceptions raised for those, and the lineage the flows wrote.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ..sync.ids import canonical_id
from .calls import OperationsError
from .trail import Trail, XrefLink


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


def _json_default(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


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


# Which payload field names each system's record of an object, per event type.
_MENTIONS: dict[str, dict[str, list[tuple[str, str]]]] = {
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


@dataclass
class Trace:
    reference: str
    object_type: str
    canonical_id: str | None
    links: list[XrefLink]
    events: list[dict[str, Any]]
    related: list[str]
    name: str | None
    derived: bool = False  # canonical id computed from the CRM id; the registry has no link yet
    # what the flows did to the entity's records, from the registry: at, system, record_id,
    # event_id, event_type, action
    lineage: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return json.loads(json.dumps({
            "reference": self.reference, "object_type": self.object_type, "canonical_id": self.canonical_id,
            "canonical_id_derived": self.derived, "name": self.name,
            "records": {link.system: {"record_id": link.record_id, "linked_by": link.linked_by,
                                      "linked_at": link.linked_at} for link in self.links},
            "events": self.events, "related": self.related, "lineage": self.lineage,
        }, default=_json_default))


def _mentions(record: dict[str, Any], object_type: str, ids: dict[str, str], canonical: str | None) -> list[str]:
    """How an audit-trail event concerns the entity: which of its records it names."""
    detail = record.get("detail") or {}
    data = detail.get("data") or {}
    event_type = detail.get("type") or record.get("event_type")
    found = []
    for system, fields in _MENTIONS.get(object_type, {}).items():
        for mentioned_type, field_name in fields:
            if event_type == mentioned_type and system in ids and str(data.get(field_name)) == ids[system]:
                found.append(f"{system}:{ids[system]}")
    if event_type == "SyncExceptionRaised":
        for ref in data.get("records", []):
            system = str(ref.get("system"))
            if ids.get(system) == str(ref.get("record_id")) and ref.get("record_type") in (object_type, "party", "work"):
                found.append(f"{system}:{ids[system]}")
    if event_type == "DriftDetected" and canonical and data.get("canonical_id") == canonical:
        found.append(canonical)
    return sorted(set(found))


def _summary(detail: dict[str, Any]) -> str:
    data = detail.get("data") or {}
    event_type = detail.get("type")
    if event_type == "SyncExceptionRaised":
        return f"{data.get('step')} {data.get('error_class')}/{data.get('severity')}: {str(data.get('reason', ''))[:160]}"
    if event_type == "DriftDetected":
        return f"{data.get('field')} differs (authority {data.get('authority')})"
    amount = data.get("amount") or data.get("budget") or data.get("total")
    parts = [str(data[k]) for k in ("name", "number") if data.get(k)]
    if isinstance(amount, dict):
        parts.append(f"{amount.get('amount')} {amount.get('currency')}")
    if data.get("changed_fields"):
        parts.append("changed " + ", ".join(map(str, data["changed_fields"])))
    return " · ".join(parts)


def _event_id(record: dict[str, Any]) -> str:
    return str((record.get("detail") or {}).get("id") or record["pk"].removeprefix("EVENT#"))


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


def trace_entity(trail: Trail, reference: EntityReference, text: str) -> Trace:
    canonical, derived = canonical_of_reference(trail, reference)
    links = trail.links_of(reference.object_type, canonical) if canonical else []
    ids = {link.system: link.record_id for link in links}
    if reference.system and reference.record_id:
        ids.setdefault(reference.system, reference.record_id)
    linked_by: dict[str, list[str]] = defaultdict(list)
    for link in links:
        if link.linked_by:
            linked_by[link.linked_by].append(f"{link.system}:{link.record_id}")

    trace = Trace(text, reference.object_type, canonical, links, [], [], None, derived)
    matched: set[str] = set()
    records = trail.events()
    for record in records:
        detail = record.get("detail") or {}
        event_id = _event_id(record)
        mentions = _mentions(record, reference.object_type, ids, canonical)
        if not mentions and event_id not in linked_by:
            continue
        matched.add(event_id)
        role = "created · linked " + ", ".join(sorted(linked_by[event_id])) if event_id in linked_by else "changed"
        if detail.get("type") == "SyncExceptionRaised":
            role = "exception"
        _names_and_relations(trace, detail)
        trace.events.append({
            "occurred_at": detail.get("occurred_at") or record.get("occurred_at"),
            "type": detail.get("type") or record.get("event_type"),
            "source_system": detail.get("source_system") or record.get("source_system"),
            "event_id": event_id, "role": role, "records": mentions, "summary": _summary(detail),
            "correlation_id": detail.get("correlation_id"),
        })
    # Exceptions raised for a trigger that concerns the entity, even if they name no record.
    for record in records:
        detail = record.get("detail") or {}
        caused_by = (detail.get("data") or {}).get("caused_by_event_id")
        if detail.get("type") == "SyncExceptionRaised" and str(detail.get("id")) not in matched and caused_by in matched:
            trace.events.append({
                "occurred_at": detail.get("occurred_at"), "type": "SyncExceptionRaised",
                "source_system": detail.get("source_system"), "event_id": str(detail.get("id")), "role": "exception",
                "records": [], "summary": _summary(detail), "correlation_id": detail.get("correlation_id"),
            })
    trace.events.sort(key=lambda e: str(e.get("occurred_at") or ""))
    trace.related = sorted(set(trace.related))
    trace.lineage = trail.lineage(reference.object_type, canonical) if canonical else []
    return trace


def canonical_of_reference(trail: Trail, reference: EntityReference) -> tuple[str | None, bool]:
    """The canonical id a reference names (None when the registry links no such record), and
    whether it was derived from the authority's id rather than found in the registry."""
    if reference.canonical_id or not (reference.system and reference.record_id):
        return reference.canonical_id, False
    canonical = trail.canonical_of(reference.system, reference.object_type, reference.record_id)
    if canonical is None and reference.system == AUTHORITY:
        # Canonical ids derive from the authority's id (concord.sync.ids): known before any link.
        return canonical_id(reference.object_type, AUTHORITY, reference.record_id), True
    return canonical, False


def resolve_entity(trail: Trail, text: str) -> tuple[str, str]:
    """(object type, canonical id) of an operator's reference (see parse_entity_reference)."""
    reference = parse_entity_reference(text)
    canonical, _ = canonical_of_reference(trail, reference)
    if canonical is None:
        raise OperationsError(f"{text}: no canonical entity links {reference.system} record {reference.record_id}")
    return reference.object_type, canonical
