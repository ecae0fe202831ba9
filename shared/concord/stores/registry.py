"""The cross-reference registry (DynamoDB): canonical id ⇄ each system's record id, with the
relations between entities, each entity's lineage and the sync state flows keep on it.
`Registry` implements concord.ports.CrossReferences; operator commands read it too.

Items (string keys `pk` / `sk`), all under the canonical entity unless said otherwise:
  CANON#<type>#<id> / SYS#<system>          Link: record_id, linked_by (event id), linked_at;
                                            also object_type and canonical_id (index by_object_type)
  REC#<system>#<type>#<record id> / CANON   canonical_id (the reverse look-up)
  CANON#<type>#<id> / REL#<relation>        related_id: a project's customer, an invoice's project
  CANON#<type>#<id> / LINEAGE#<event>#<system>#<action>   LineageEntry (concord.domain)
  CANON#<type>#<id> / VERSION               occurred_at, event_id of the newest change applied
  CANON#<type>#<id> / APPLIED#<key>         value: what a flow last wrote to a system under `key`
                                            (a status, a snapshot), so it writes only what changed
  CANON#project#<id> / INVOICE#<erp id>     the invoice's financial state (JSON) and its version:
                                            writes are conditional on it
A link writes both directions in one transaction, so they never disagree; `link_many` (a batch's
links) writes every reverse look-up before any link instead, in batched writes.

Index `by_object_type` (GSI, sparse: only SYS# items): object_type → canonical_id, keys only:
every entity of a type linked to at least one system, for reconciliation runs, without a scan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

from ..clock import utc_now
from ..domain import InvoiceState, LineageEntry
from ..errors import TransientError
from ..ports import InvoiceChange
from .dynamo import Table

BY_OBJECT_TYPE_INDEX = "by_object_type"
# Conflicting writers of one invoice are few (its payments), so a handful of attempts suffices;
# past that the message is retried later by the queue.
INVOICE_WRITE_ATTEMPTS = 8
SYSTEM_PREFIX, RELATION_PREFIX, LINEAGE_PREFIX, INVOICE_PREFIX = "SYS#", "REL#", "LINEAGE#", "INVOICE#"
APPLIED_PREFIX = "APPLIED#"
VERSION = "VERSION"
TRANSACTION_MAX_ITEMS = (
    100  # https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html
)


@dataclass(frozen=True)
class CanonKey:
    """The partition of one canonical entity."""

    object_type: str
    canonical_id: str

    @classmethod
    def parse(cls, pk: str) -> CanonKey:
        if not pk.startswith("CANON#"):
            raise ValueError(f"{pk!r} is not a CANON#… key")
        object_type, canonical_id = pk.removeprefix("CANON#").split("#", 1)
        return cls(object_type, canonical_id)

    @property
    def pk(self) -> str:
        return f"CANON#{self.object_type}#{self.canonical_id}"


@dataclass(frozen=True)
class RecordKey:
    """The reverse look-up item of one system's record."""

    system: str
    object_type: str
    record_id: str
    SK = "CANON"

    @property
    def pk(self) -> str:
        return f"REC#{self.system}#{self.object_type}#{self.record_id}"


class Link(BaseModel):
    """One system's record of a canonical entity, and the event that linked it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    system: str
    record_id: str
    linked_by: str | None = None
    linked_at: dt.datetime | None = None


class Registry:
    def __init__(self, client: Any, table_name: str) -> None:
        self._table = Table(client, table_name)

    # -- links ---------------------------------------------------------------------------

    def link(self, object_type: str, canonical_id: str, system: str, record_id: str, event_id: str) -> None:
        self._table.transact_put(list(_link_items(object_type, canonical_id, system, record_id, event_id)))

    def link_many(self, object_type: str, links: Sequence[tuple[str, str, str, str]]) -> None:
        """link() each (canonical id, system, record id, event id) in batched writes, 25 items a
        call, without a transaction: the reverse look-ups first, then the links, so a link is
        never stored without its reverse (a crash in between leaves reverse items that the
        retry writes again, and no reader goes from an entity to a record through them)."""
        items = [_link_items(object_type, *link) for link in links]
        self._table.batch_put([reverse for _, reverse in items])
        self._table.batch_put([forward for forward, _ in items])

    def linked_records(self, object_type: str, canonical_ids: Sequence[str], system: str) -> dict[str, str]:
        """The record of each entity in `system`, by canonical id (those linked there), 100 a
        call (BatchGetItem)."""
        keys = [
            {"pk": CanonKey(object_type, ref).pk, "sk": SYSTEM_PREFIX + system} for ref in dict.fromkeys(canonical_ids)
        ]
        return {CanonKey.parse(i["pk"]).canonical_id: str(i["record_id"]) for i in self._table.batch_get(keys)}

    def links_of(self, object_type: str, canonical_id: str) -> list[Link]:
        """Each system's record of the entity, by system."""
        items = self._table.query_prefix(CanonKey(object_type, canonical_id).pk, SYSTEM_PREFIX)
        links = (Link.model_validate({**i, "system": i["sk"].removeprefix(SYSTEM_PREFIX)}) for i in items)
        return sorted(links, key=lambda link: link.system)

    def records_of(self, object_type: str, canonical_id: str) -> dict[str, str]:
        return {link.system: link.record_id for link in self.links_of(object_type, canonical_id)}

    def canonical_of(self, system: str, object_type: str, record_id: str) -> str | None:
        item = self._table.get(RecordKey(system, object_type, record_id).pk, RecordKey.SK)
        return str(item["canonical_id"]) if item else None

    def canonical_ids(self, object_type: str) -> list[str]:
        """Every entity of a type linked to at least one system (a Query on by_object_type)."""
        items = self._table.query("object_type = :t", {":t": object_type}, index=BY_OBJECT_TYPE_INDEX)
        return sorted({str(i["canonical_id"]) for i in items})

    # -- relations and lineage -----------------------------------------------------------

    def relate(self, object_type: str, canonical_id: str, relation: str, related_id: str) -> None:
        self._table.put(
            {"pk": CanonKey(object_type, canonical_id).pk, "sk": RELATION_PREFIX + relation, "related_id": related_id}
        )

    def related(self, object_type: str, canonical_id: str, relation: str) -> str | None:
        item = self._table.get(CanonKey(object_type, canonical_id).pk, RELATION_PREFIX + relation)
        return str(item["related_id"]) if item else None

    def record_change(self, object_type: str, canonical_id: str, entry: LineageEntry) -> None:
        """Append to the entity's lineage; the same event and action twice is one entry."""
        self._table.put(_lineage_item(CanonKey(object_type, canonical_id), entry))

    def record_changes(self, object_type: str, changes: Sequence[tuple[str, LineageEntry]]) -> None:
        """record_change of each (canonical id, entry), 25 a call (BatchWriteItem)."""
        self._table.batch_put([_lineage_item(CanonKey(object_type, ref), entry) for ref, entry in changes])

    def lineage(self, object_type: str, canonical_id: str) -> list[LineageEntry]:
        """What the flows did to the entity's records, oldest first."""
        items = self._table.query_prefix(CanonKey(object_type, canonical_id).pk, LINEAGE_PREFIX)
        return sorted((LineageEntry.model_validate(_without_keys(i)) for i in items), key=lambda e: e.at)

    # -- ordering ------------------------------------------------------------------------

    def applied_version(self, object_type: str, canonical_id: str) -> dt.datetime | None:
        """occurred_at of the newest change applied to the entity (None before the first)."""
        item = self._table.get(CanonKey(object_type, canonical_id).pk, VERSION)
        return dt.datetime.fromisoformat(item["occurred_at"]) if item else None

    def advance_version(self, object_type: str, canonical_id: str, occurred_at: dt.datetime, event_id: str) -> bool:
        """Record a change as applied unless a newer one already is (False then)."""
        stamp = occurred_at.astimezone(dt.UTC).isoformat()
        return self._table.put(
            {"pk": CanonKey(object_type, canonical_id).pk, "sk": VERSION, "occurred_at": stamp, "event_id": event_id},
            # ISO-8601 UTC strings of one format compare like the instants they name.
            condition="attribute_not_exists(pk) OR occurred_at <= :at",
            values={":at": stamp},
        )

    # -- what was last written ------------------------------------------------------------

    def applied_value(self, object_type: str, canonical_id: str, key: str) -> str | None:
        """What a flow last wrote under `key` for the entity (None: nothing yet)."""
        item = self._table.get(CanonKey(object_type, canonical_id).pk, APPLIED_PREFIX + key)
        return str(item["value"]) if item else None

    def set_applied_value(self, object_type: str, canonical_id: str, key: str, value: str) -> None:
        self._table.put({"pk": CanonKey(object_type, canonical_id).pk, "sk": APPLIED_PREFIX + key, "value": value})

    # -- invoice states ------------------------------------------------------------------

    def update_invoice_state(self, project_ref: str, invoice_id: str, change: InvoiceChange) -> InvoiceState | None:
        """Apply `change` to the invoice's stored state (None before the first) and write what it
        returns (None: nothing to write), unless another writer got there first: each item carries
        a `version`, and the write is conditional on the version read. On a conflict the state is
        re-read and `change` re-applied to it. Returns the state written, or None."""
        pk, sk = CanonKey("project", project_ref).pk, INVOICE_PREFIX + invoice_id
        for _ in range(INVOICE_WRITE_ATTEMPTS):
            item = self._table.get(pk, sk)
            known = InvoiceState.model_validate_json(item["state"]) if item else None
            changed = change(known)
            if changed is None or changed == known:
                return None
            if changed.invoice_id != invoice_id:
                raise ValueError(f"a change of invoice {invoice_id} returned invoice {changed.invoice_id}")
            version = int(item["version"]) if item and "version" in item else 0
            if self._put_if_version(pk, sk, changed, version):
                return changed
        raise TransientError(
            f"invoice {invoice_id} of project {project_ref}: "
            f"{INVOICE_WRITE_ATTEMPTS} concurrent writes in a row won; try later"
        )

    def _put_if_version(self, pk: str, sk: str, state: InvoiceState, version: int) -> bool:
        """Write `state` as version + 1 if the stored item is still at `version` (0: no item, or
        one written before items were versioned). False when another writer changed it."""
        item = {"pk": pk, "sk": sk, "state": state.model_dump_json(), "version": version + 1}
        if version == 0:
            return self._table.put(item, condition="attribute_not_exists(version)")
        return self._table.put(item, condition="version = :read", values={":read": version})

    def invoice_states(self, project_ref: str) -> list[InvoiceState]:
        items = self._table.query_prefix(CanonKey("project", project_ref).pk, INVOICE_PREFIX)
        return [InvoiceState.model_validate_json(i["state"]) for i in items]


def _link_items(
    object_type: str, canonical_id: str, system: str, record_id: str, event_id: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The link under the entity and its reverse look-up item."""
    link = Link(system=system, record_id=record_id, linked_by=event_id, linked_at=utc_now())
    return (
        {
            "pk": CanonKey(object_type, canonical_id).pk,
            "sk": SYSTEM_PREFIX + system,
            **link.model_dump(mode="json", exclude={"system"}),
            "object_type": object_type,
            "canonical_id": canonical_id,
        },
        {"pk": RecordKey(system, object_type, record_id).pk, "sk": RecordKey.SK, "canonical_id": canonical_id},
    )


def _lineage_item(entity: CanonKey, entry: LineageEntry) -> dict[str, Any]:
    return {
        "pk": entity.pk,
        "sk": f"{LINEAGE_PREFIX}{entry.event_id}#{entry.system}#{entry.action}",
        **entry.model_dump(mode="json"),
    }


def _without_keys(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in ("pk", "sk")}
