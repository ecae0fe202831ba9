"""Service items (their system of record, usually the ERP) → the CRM's and PSA's catalogues.

A service item is a product sold as a service; its code is what opportunity lines, tasks and
invoice lines name (the same in every system). On ServiceItemChanged, each system that is not
the item's authority (config/system_of_record.json, object `service_item`) and keeps a
catalogue Concord writes (capabilities.service_items: a CRM's products or price book, a PSA's
products, roles or task types) gets the item created or updated by its code. A system without
one is recorded as not applicable: nothing is written there, nothing fails.

Order: a queue batch syncs each item once, for its newest change; an event older than the
newest applied is ignored (version = occurred_at). The registry keeps what was last written to
each system, so a change that alters nothing Concord syncs (an echo, a redelivery) writes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence

from pydantic import BaseModel, ConfigDict

from .. import catalog
from ..domain import ServiceItem
from ..errors import ConfigurationError, ValidationFailed
from ..events import Envelope
from ..events.envelope import ServiceItemChangedEvent
from ..events.types import System
from ..ports import ServiceItemCatalog, capability
from .ids import canonical_id
from .lineage import record_lineage
from .systems import Systems

FLOW = catalog.SERVICE_ITEMS.name
OBJECT_TYPE = "service_item"
# The registry key of what was last written to a system (concord.stores.registry APPLIED#).
WRITTEN_KEY = "written_to_{system}"


class ServiceItemSynced(BaseModel):
    model_config = ConfigDict(frozen=True)

    applied: bool
    detail: str
    written: tuple[str, ...] = ()  # the systems written
    not_applicable: tuple[str, ...] = ()  # the systems without a catalogue Concord writes


def sync_service_items(
    records: Sequence[tuple[Hashable, Envelope]], systems: Systems
) -> dict[Hashable, ServiceItemSynced | Exception]:
    """A queue batch: each item synced once, for its newest change; its older changes share that outcome."""
    outcomes: dict[Hashable, ServiceItemSynced | Exception] = {}
    by_item: dict[str, list[tuple[Hashable, ServiceItemChangedEvent]]] = defaultdict(list)
    for key, event in records:
        if isinstance(event, ServiceItemChangedEvent):
            by_item[event.data.code].append((key, event))
        else:
            outcomes[key] = ValidationFailed(f"service items takes ServiceItemChanged, not {event.type}")
    for changes in by_item.values():
        changes.sort(key=lambda change: change[1].occurred_at)
        newest_key, newest = changes[-1]
        try:
            outcome: ServiceItemSynced | Exception = sync_service_item(newest, systems)
        except Exception as error:  # noqa: BLE001 - this item's changes fail, the others go on
            outcome = error
        outcomes[newest_key] = outcome
        superseded = ServiceItemSynced(applied=False, detail=f"superseded by the newer change {newest.id}")
        for key, _ in changes[:-1]:
            outcomes[key] = outcome if isinstance(outcome, Exception) else superseded
    return outcomes


def sync_service_item(event: Envelope, systems: Systems) -> ServiceItemSynced:
    """One change, into every other system's catalogue."""
    if not isinstance(event, ServiceItemChangedEvent):
        raise ValidationFailed(f"service items takes ServiceItemChanged, not {event.type}")
    authority = systems.ownership.owner(OBJECT_TYPE)
    if authority is not event.source_system:
        raise ValidationFailed(
            f"service item {event.data.code!r} changed in the {event.source_system.value.upper()}, but the "
            f"{authority.value.upper()} is the system of record for service items: not applied"
        )
    item_ref = canonical_id(OBJECT_TYPE, authority, event.data.code)
    applied_at = systems.xref.applied_version(OBJECT_TYPE, item_ref)
    if applied_at is not None and event.occurred_at < applied_at:
        return ServiceItemSynced(
            applied=False, detail=f"stale: a change of {applied_at.isoformat()} is already applied"
        )
    systems.xref.link(OBJECT_TYPE, item_ref, authority, event.data.item_id, event.id)
    item = ServiceItem.model_validate(event.data.model_dump(exclude={"item_id"}))
    written: list[str] = []
    not_applicable: list[str] = []
    for system, port in ((System.CRM, systems.crm), (System.PSA, systems.psa)):
        if system is authority:
            continue
        if not port.capabilities.service_items:
            not_applicable.append(system.value)
        elif _write(system, port, item, item_ref, event, systems):
            written.append(system.value)
    systems.xref.advance_version(OBJECT_TYPE, item_ref, event.occurred_at, event.id)
    parts = [f"written to {', '.join(written) or 'nothing (already in sync)'}"]
    if not_applicable:
        parts.append(f"not applicable to {', '.join(not_applicable)} (no service item catalogue)")
    return ServiceItemSynced(
        applied=bool(written), detail="; ".join(parts), written=tuple(written), not_applicable=tuple(not_applicable)
    )


def _write(system: System, port: object, item: ServiceItem, item_ref: str, cause: Envelope, systems: Systems) -> bool:
    """Upsert the item into one system's catalogue unless it holds what was last written; whether it wrote."""
    catalogue = capability(port, ServiceItemCatalog)
    if catalogue is None:
        raise ConfigurationError(f"the {system.value.upper()} declares service items but cannot write them")
    key = WRITTEN_KEY.format(system=system.value)
    values = item.model_dump_json()
    if systems.xref.applied_value(OBJECT_TYPE, item_ref, key) == values:
        return False
    record_id = catalogue.upsert_service_item(item)
    systems.xref.link(OBJECT_TYPE, item_ref, system, record_id, cause.id)
    systems.xref.set_applied_value(OBJECT_TYPE, item_ref, key, values)
    record_lineage(systems, OBJECT_TYPE, item_ref, cause, system, record_id, "catalogue entry upserted")
    return True
