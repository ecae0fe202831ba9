"""The cross-reference registry (DynamoDB): canonical id ⇄ each system's record id, with lineage.

Items (string keys `pk` / `sk`), all under the canonical entity unless said otherwise:
  CANON#<type>#<id> / SYS#<system>        record_id, linked_by (event id), linked_at
  REC#<system>#<type>#<record id> / CANON canonical_id (the reverse look-up)
  CANON#<type>#<id> / REL#<relation>      related_id: e.g. a project's customer, an invoice's project
  CANON#<type>#<id> / LINEAGE#<at>#<event> system, record_id, event_id, event_type, action
  CANON#<type>#<id> / VERSION             occurred_at, event_id of the newest change applied
  CANON#project#<id> / INVOICE#<erp id>   the invoice's financial state (see sync.financials), and
                                          its version: writes are conditional on it
A link writes both directions in one transaction, so they never disagree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from botocore.exceptions import ClientError

from ..domain import InvoiceState, LineageEntry
from ..errors import TransientError
from ..ports import InvoiceChange

# Conflicting writers of one invoice are few (its payments), so a handful of attempts suffices;
# past that the message is retried later by the queue.
INVOICE_WRITE_ATTEMPTS = 8


def _s(value: str) -> dict[str, str]:
    return {"S": value}


class DynamoCrossReferences:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    # -- links ---------------------------------------------------------------------------

    def link(self, object_type: str, canonical_id: str, system: str, record_id: str, event_id: str) -> None:
        now = dt.datetime.now(dt.UTC).isoformat()
        self._client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {
                            "pk": _s(f"CANON#{object_type}#{canonical_id}"),
                            "sk": _s(f"SYS#{system}"),
                            "record_id": _s(record_id),
                            "linked_by": _s(event_id),
                            "linked_at": _s(now),
                        },
                    }
                },
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {
                            "pk": _s(f"REC#{system}#{object_type}#{record_id}"),
                            "sk": _s("CANON"),
                            "canonical_id": _s(canonical_id),
                        },
                    }
                },
            ]
        )

    def records_of(self, object_type: str, canonical_id: str) -> dict[str, str]:
        items = self._query(f"CANON#{object_type}#{canonical_id}", "SYS#")
        return {item["sk"]["S"].removeprefix("SYS#"): item["record_id"]["S"] for item in items}

    def canonical_of(self, system: str, object_type: str, record_id: str) -> str | None:
        item = self._get(f"REC#{system}#{object_type}#{record_id}", "CANON")
        return item["canonical_id"]["S"] if item else None

    def canonical_ids(self, object_type: str) -> list[str]:
        """Every entity of a type linked to at least one system (a scan: for reconciliation runs,
        not request paths; at volume it wants a GSI on the entity type)."""
        prefix = f"CANON#{object_type}#"
        ids: set[str] = set()
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "FilterExpression": "begins_with(pk, :pk) AND begins_with(sk, :sk)",
            "ExpressionAttributeValues": {":pk": _s(prefix), ":sk": _s("SYS#")},
            "ProjectionExpression": "pk",
        }
        while True:
            response = self._client.scan(**kwargs)
            ids.update(item["pk"]["S"].removeprefix(prefix) for item in response["Items"])
            if "LastEvaluatedKey" not in response:
                return sorted(ids)
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    # -- relations and lineage -----------------------------------------------------------

    def relate(self, object_type: str, canonical_id: str, relation: str, related_id: str) -> None:
        self._put(f"CANON#{object_type}#{canonical_id}", f"REL#{relation}", {"related_id": _s(related_id)})

    def related(self, object_type: str, canonical_id: str, relation: str) -> str | None:
        item = self._get(f"CANON#{object_type}#{canonical_id}", f"REL#{relation}")
        return item["related_id"]["S"] if item else None

    def record_change(self, object_type: str, canonical_id: str, entry: LineageEntry) -> None:
        """Append to the entity's lineage; the same event and action twice is one entry."""
        self._put(
            f"CANON#{object_type}#{canonical_id}",
            f"LINEAGE#{entry.event_id}#{entry.system}#{entry.action}",
            {
                "at": _s(entry.at.isoformat()),
                "system": _s(entry.system),
                "record_id": _s(entry.record_id),
                "event_id": _s(entry.event_id),
                "event_type": _s(entry.event_type),
                "action": _s(entry.action),
            },
        )

    def lineage(self, object_type: str, canonical_id: str) -> list[LineageEntry]:
        items = self._query(f"CANON#{object_type}#{canonical_id}", "LINEAGE#")
        entries = [
            LineageEntry(
                at=dt.datetime.fromisoformat(item["at"]["S"]),
                system=item["system"]["S"],
                record_id=item["record_id"]["S"],
                event_id=item["event_id"]["S"],
                event_type=item["event_type"]["S"],
                action=item["action"]["S"],
            )
            for item in items
        ]
        return sorted(entries, key=lambda e: e.at)

    # -- ordering ------------------------------------------------------------------------

    def applied_version(self, object_type: str, canonical_id: str) -> dt.datetime | None:
        """occurred_at of the newest change applied to the entity (None before the first)."""
        item = self._get(f"CANON#{object_type}#{canonical_id}", "VERSION")
        return dt.datetime.fromisoformat(item["occurred_at"]["S"]) if item else None

    def advance_version(self, object_type: str, canonical_id: str, occurred_at: dt.datetime, event_id: str) -> bool:
        """Record a change as applied unless a newer one already is (False then)."""
        stamp = occurred_at.astimezone(dt.UTC).isoformat()
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    "pk": _s(f"CANON#{object_type}#{canonical_id}"),
                    "sk": _s("VERSION"),
                    "occurred_at": _s(stamp),
                    "event_id": _s(event_id),
                },
                # ISO-8601 UTC strings of one format compare like the instants they name.
                ConditionExpression="attribute_not_exists(pk) OR occurred_at <= :at",
                ExpressionAttributeValues={":at": _s(stamp)},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    # -- invoice states ------------------------------------------------------------------

    def update_invoice_state(self, project_ref: str, invoice_id: str, change: InvoiceChange) -> InvoiceState | None:
        """Apply `change` to the invoice's stored state (None before the first) and write what it
        returns (None: nothing to write), unless another writer got there first: each item carries
        a `version`, and the write is conditional on the version read. On a conflict the state is
        re-read and `change` re-applied to it. Returns the state written, or None."""
        pk, sk = f"CANON#project#{project_ref}", f"INVOICE#{invoice_id}"
        for _ in range(INVOICE_WRITE_ATTEMPTS):
            item = self._get(pk, sk)
            known = InvoiceState.model_validate_json(item["state"]["S"]) if item else None
            changed = change(known)
            if changed is None or changed == known:
                return None
            if changed.invoice_id != invoice_id:
                raise ValueError(f"a change of invoice {invoice_id} returned invoice {changed.invoice_id}")
            version = int(item["version"]["N"]) if item and "version" in item else 0
            if self._put_if_version(pk, sk, changed, version):
                return changed
        raise TransientError(f"invoice {invoice_id} of project {project_ref}: "
                             f"{INVOICE_WRITE_ATTEMPTS} concurrent writes in a row won; try later")

    def _put_if_version(self, pk: str, sk: str, state: InvoiceState, version: int) -> bool:
        """Write `state` as version + 1 if the stored item is still at `version` (0: no item, or
        one written before items were versioned). False when another writer changed it."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item={"pk": _s(pk), "sk": _s(sk), "state": _s(state.model_dump_json()), "version": {"N": str(version + 1)}},
                ConditionExpression="attribute_not_exists(version)" if version == 0 else "version = :read",
                **({} if version == 0 else {"ExpressionAttributeValues": {":read": {"N": str(version)}}}),
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def invoice_states(self, project_ref: str) -> list[InvoiceState]:
        items = self._query(f"CANON#project#{project_ref}", "INVOICE#")
        return [InvoiceState.model_validate_json(item["state"]["S"]) for item in items]

    # -- helpers -------------------------------------------------------------------------

    def _put(self, pk: str, sk: str, attributes: dict[str, Any]) -> None:
        self._client.put_item(TableName=self._table, Item={"pk": _s(pk), "sk": _s(sk), **attributes})

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        return self._client.get_item(TableName=self._table, Key={"pk": _s(pk), "sk": _s(sk)}).get("Item")

    def _query(self, pk: str, sk_prefix: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :sk)",
            "ExpressionAttributeValues": {":pk": _s(pk), ":sk": _s(sk_prefix)},
        }
        while True:
            response = self._client.query(**kwargs)
            items.extend(response["Items"])
            if "LastEvaluatedKey" not in response:
                return items
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
