"""Contacts (the CRM, their authority) → the ERP customer's and the PSA client's contacts.

On ContactChanged, Concord reads the contact from the CRM (the authority, not the event's copy)
and brings its copy on the ERP customer and on the PSA client in line, field by field under the
system-of-record table's `contact`: a field another system owns (by default the role, which the
ERP owns: finance decides who gets the invoices) is filled when empty and otherwise kept; the
refused value is reported as a conflict for a person and not applied. An event older than the
newest applied is ignored (version = occurred_at).

A system whose connector keeps no contacts (capabilities.contacts false), or a PSA whose clients
are the CRM's accounts (their contacts are the CRM's own), is not applicable. A contact whose
account has no customer (client) there yet is not synced to it: the next change of the contact
syncs it once the account has become a customer at its first won deal.

Echo suppression: the registry keeps a snapshot of the CRM values last synced without conflict;
a change whose contact reads the same (Concord's own write echoed back, a redelivery, a change
to a field Concord does not sync) costs one CRM read and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Hashable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from .. import catalog
from ..domain import Contact, ContactDetails, ContactUpdate
from ..errors import ConfigurationError, ValidationFailed
from ..events import Envelope
from ..events.envelope import ContactChangedEvent
from ..events.types import ErrorClass, RecordRef, Severity, System
from ..ownership import decide_fields
from ..ports import ContactBook, CrmContacts, capability
from .ids import canonical_id
from .lineage import record_lineage
from .newest import newest_change_per_record
from .reporting import sync_exception
from .systems import Systems

FLOW = catalog.CONTACT_MASTER.name
FIELDS = tuple(ContactDetails.model_fields)
# The registry's snapshot of the CRM values last synced (concord.stores.registry APPLIED#).
SNAPSHOT_KEY = "crm_values"
TARGETS = (System.ERP, System.PSA)
WHAT = {System.ERP: "customer", System.PSA: "client"}


class ContactSynced(BaseModel):
    model_config = ConfigDict(frozen=True)

    applied: bool
    detail: str
    # What happened in each target system, e.g. {"erp": "written: email", "psa": "not applicable: ..."}.
    systems: dict[str, str] = {}
    conflicts: tuple[str, ...] = ()
    exception_event_id: str | None = None


def contact_book(systems: Systems, system: System) -> ContactBook | None:
    """The ERP's or PSA's contacts, or None where it keeps none (not applicable)."""
    port = systems.erp if system is System.ERP else systems.psa
    if not port.capabilities.contacts:
        return None
    book = capability(port, ContactBook)
    if book is None:
        raise ConfigurationError(f"the {system.value.upper()} declares contacts but its connector keeps none")
    return book


def crm_contacts(systems: Systems) -> CrmContacts:
    contacts = capability(systems.crm, CrmContacts) if systems.crm.capabilities.contacts else None
    if contacts is None:
        raise ConfigurationError("the CRM's connector keeps no contacts: ContactChanged cannot be synced")
    return contacts


def sync_contacts(
    records: Sequence[tuple[Hashable, Envelope]], systems: Systems, now: dt.datetime
) -> dict[Hashable, ContactSynced | Exception]:
    """A queue batch: each contact is synced once, for its newest change (concord.sync.newest)."""
    return newest_change_per_record(
        records,
        takes=ContactChangedEvent,
        record_of=lambda event: event.data.contact_id,
        sync_one=lambda event: sync_contact(event, systems, now),
        superseded=lambda newest: ContactSynced(applied=False, detail=f"superseded by the newer change {newest.id}"),
        flow="the contact master",
    )


def sync_contact(event: Envelope, systems: Systems, now: dt.datetime) -> ContactSynced:
    """One change: the CRM's contact is read; when its values are those last synced (the
    registry's snapshot), nothing else is read or written."""
    if not isinstance(event, ContactChangedEvent):
        raise ValidationFailed(f"the contact master takes ContactChanged, not {event.type}")
    contact_ref = canonical_id("contact", System.CRM, event.data.contact_id)
    applied_at = systems.xref.applied_version("contact", contact_ref)
    if applied_at is not None and event.occurred_at < applied_at:
        return ContactSynced(applied=False, detail=f"stale: a change of {applied_at.isoformat()} is already applied")

    contact = crm_contacts(systems).get_contact(event.data.contact_id)
    snapshot = json.dumps(_values(contact), sort_keys=True)
    if systems.xref.applied_value("contact", contact_ref, SNAPSHOT_KEY) == snapshot:
        synced = ContactSynced(applied=False, detail="written: nothing (unchanged since last synced)")
    else:
        synced = _sync_targets(contact, contact_ref, event, systems, now)
        if not synced.conflicts:  # a conflict is read again and reported at each change
            systems.xref.set_applied_value("contact", contact_ref, SNAPSHOT_KEY, snapshot)
    systems.xref.advance_version("contact", contact_ref, event.occurred_at, event.id)
    return synced


def _values(contact: ContactDetails) -> dict[str, Any]:
    """The synced fields as JSON values (what the snapshot keeps and the rules compare)."""
    return contact.model_dump(mode="json", include=set(FIELDS))


def _sync_targets(
    contact: Contact, contact_ref: str, cause: Envelope, systems: Systems, now: dt.datetime
) -> ContactSynced:
    customer_ref = canonical_id("customer", System.CRM, contact.organization_id)
    organizations = systems.xref.records_of("customer", customer_ref)
    done: dict[str, str] = {}
    conflicts: dict[System, tuple[str, dict[str, tuple[Any, Any]]]] = {}
    applied = False
    for system in TARGETS:
        book = contact_book(systems, system)
        organization_id = organizations.get(system)
        if book is None or (system is System.PSA and systems.psa.capabilities.clients_are_crm_accounts):
            done[system.value] = f"not applicable: the {system.value.upper()} keeps no contacts of its own"
        elif organization_id is None:
            done[system.value] = f"not a {WHAT[system]} there yet: it becomes one at the account's first won deal"
        else:
            record_id, written, refused = _sync_one(book, system, organization_id, contact, contact_ref, cause, systems)
            applied = applied or bool(written)
            done[system.value] = "written: " + (", ".join(written) or "nothing (already in sync)")
            if refused:
                conflicts[system] = (record_id, refused)
    exception_id = _report_conflicts(contact, conflicts, cause, systems, now) if conflicts else None
    return ContactSynced(
        applied=applied,
        detail="; ".join(f"{system}: {what}" for system, what in done.items()),
        systems=done,
        conflicts=tuple(sorted({f"{system.value}.{field}" for system, (_, c) in conflicts.items() for field in c})),
        exception_event_id=exception_id,
    )


def _sync_one(
    book: ContactBook,
    system: System,
    organization_id: str,
    contact: Contact,
    contact_ref: str,
    cause: Envelope,
    systems: Systems,
) -> tuple[str, list[str], dict[str, tuple[Any, Any]]]:
    """(the contact's id there, the fields written, the conflicts: field -> (held, refused))."""
    record_id = systems.xref.records_of("contact", contact_ref).get(system)
    if record_id is None:
        # Creating is filling empty fields: nobody's value is overwritten.
        record_id = book.create_contact(organization_id, ContactDetails.model_validate(_values(contact)))
        systems.xref.link("contact", contact_ref, system, record_id, cause.id)
        record_lineage(systems, "contact", contact_ref, cause, system, record_id, "created")
        return record_id, sorted(FIELDS), {}
    current = book.get_contact(record_id)
    decision = decide_fields(systems.ownership, "contact", System.CRM, _values(contact), _values(current))
    if decision.write:
        book.update_contact(record_id, ContactUpdate(**decision.write))
        record_lineage(
            systems, "contact", contact_ref, cause, system, record_id, "updated " + ", ".join(sorted(decision.write))
        )
    return record_id, sorted(decision.write), decision.conflicts


def _report_conflicts(
    contact: Contact,
    conflicts: dict[System, tuple[str, dict[str, tuple[Any, Any]]]],
    cause: Envelope,
    systems: Systems,
    now: dt.datetime,
) -> str:
    """One SyncExceptionRaised for the values a target's owner kept; returns its event id."""
    reasons = [
        f"{system.value.upper()} contact {record_id}: {field} is owned by the "
        f"{systems.ownership.owner('contact', field).value.upper()}: it holds {held!r}, "
        f"the CRM's {refused!r} was not applied"
        for system, (record_id, fields) in conflicts.items()
        for field, (held, refused) in sorted(fields.items())
    ]
    exception = sync_exception(
        cause,
        flow=FLOW,
        step="UpdateContacts",
        error_class=ErrorClass.CONFLICT,
        severity=Severity.HIGH,
        reason="; ".join(reasons),
        records=[
            RecordRef(system=System.CRM, record_type="contact", record_id=contact.contact_id),
            *(
                RecordRef(system=system, record_type="contact", record_id=record_id)
                for system, (record_id, _) in conflicts.items()
            ),
        ],
        now=now,
    )
    systems.bus.publish([exception])
    return exception.id
