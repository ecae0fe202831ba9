"""The audit trail, the registry and the checkpoints as the operator commands read and write them.

`Trail` is the only part of the operator package that touches DynamoDB. It reads through the
flows' own stores (concord.aws.audit.AuditTrail, concord.aws.xref.DynamoCrossReferences) where
they have the read; the rest are the operator's own records (`REDRIVE#<run id>`, `REPLAY#<run
id>`, see concord.aws.audit for the layout) and the filtered scans that listing needs. Every call
fails as an OperationsError naming the table and the permission.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.conditions import Attr, ConditionBase, Key

from ..aws.audit import AuditTrail
from ..aws.xref import DynamoCrossReferences
from ..naming import Names
from .calls import aws_call

SYNC_EXCEPTION = "SyncExceptionRaised"


def parse_time(value: Any) -> dt.datetime | None:
    """A recorded ISO time (UTC when naive), or None when absent or unreadable."""
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class XrefLink:
    """A system's record of a canonical entity, and the event that linked it."""

    system: str
    record_id: str
    linked_by: str | None
    linked_at: str | None


def _event_record(item: dict[str, Any]) -> dict[str, Any]:
    """An EVENT item with its `detail` (the canonical event, stored as JSON) parsed."""
    detail = item.get("detail")
    try:
        parsed = json.loads(detail) if isinstance(detail, str) else (detail or {})
    except json.JSONDecodeError:
        parsed = {}
    return {**item, "detail": parsed}


def _by(key: str, items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda item: str(item.get(key, "")))


class Trail:
    """One stage's audit trail, registry and checkpoints.

    `client` and `tables`: a boto3 DynamoDB client and resource, as the stores read with each
    (the resource's own client transforms values, so it cannot stand in for the client).
    """

    def __init__(self, client: Any, tables: Any, names: Names) -> None:
        self.names = names
        self._audit_table = tables.Table(names.audit_table)
        self._audit = AuditTrail(self._audit_table)
        self._registry = DynamoCrossReferences(client, names.xref_table)
        self._xref_table = tables.Table(names.xref_table)
        self._checkpoints_table = tables.Table(names.checkpoints_table)

    # -- canonical events and failed deliveries -------------------------------------------

    def events(self, *, event_types: Iterable[str] | None = None, correlation_id: str | None = None) -> list[dict[str, Any]]:
        """Canonical events recorded in the audit trail (a filtered scan), oldest first."""
        condition = Attr("pk").begins_with("EVENT#")
        if event_types is not None:
            condition &= Attr("event_type").is_in(sorted(set(event_types)))
        if correlation_id is not None:
            condition &= Attr("correlation_id").eq(correlation_id)
        return _by("occurred_at", (_event_record(item) for item in self._scan_audit(condition)))

    def sync_exceptions(self) -> list[dict[str, Any]]:
        """Every SyncExceptionRaised recorded, oldest first."""
        return self.events(event_types=[SYNC_EXCEPTION])

    def failures_of(self, message_id: str) -> list[dict[str, Any]]:
        """The failed attempts the consumers recorded for one queue message, first first."""
        with aws_call(f"table {self.names.audit_table}", "dynamodb:Query"):
            items = self._audit.failures_of(message_id)
        return sorted(items, key=lambda i: (str(i.get("failed_at", "")), str(i["sk"])))

    # -- the operator's records ----------------------------------------------------------

    def redrives(self, *, event_id: str | None = None, message_id: str | None = None) -> list[dict[str, Any]]:
        """REDRIVE records of one event or one DLQ message (or all), oldest first."""
        condition = Attr("pk").begins_with("REDRIVE#")
        if event_id is not None and message_id is not None:
            condition &= Attr("event_id").eq(event_id) | Attr("dlq_message_id").eq(message_id)
        elif event_id is not None:
            condition &= Attr("event_id").eq(event_id)
        elif message_id is not None:
            condition &= Attr("dlq_message_id").eq(message_id)
        return _by("started_at", self._scan_audit(condition))

    def replays(self) -> list[dict[str, Any]]:
        """Every recorded replay, oldest first."""
        return _by("started_at", self._scan_audit(Attr("pk").begins_with("REPLAY#")))

    def start_record(self, item: dict[str, Any]) -> None:
        """Write a new REDRIVE or REPLAY record (never over an existing one); None values are left out."""
        with aws_call(f"table {self.names.audit_table}", "dynamodb:PutItem"):
            self._audit_table.put_item(
                Item={k: v for k, v in item.items() if v is not None}, ConditionExpression="attribute_not_exists(pk)"
            )

    def update_record(self, pk: str, sk: str, **values: Any) -> None:
        """Set attributes of a record (its status as the redrive or replay goes); None values are skipped."""
        values = {k: v for k, v in values.items() if v is not None}
        with aws_call(f"table {self.names.audit_table}", "dynamodb:UpdateItem"):
            self._audit_table.update_item(
                Key={"pk": pk, "sk": sk},
                UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in values),
                ExpressionAttributeNames={f"#{k}": k for k in values},
                ExpressionAttributeValues={f":{k}": v for k, v in values.items()},
            )

    # -- the registry --------------------------------------------------------------------

    def canonical_of(self, system: str, object_type: str, record_id: str) -> str | None:
        with aws_call(f"table {self.names.xref_table}", "dynamodb:GetItem"):
            return self._registry.canonical_of(system, object_type, record_id)

    def links_of(self, object_type: str, canonical: str) -> list[XrefLink]:
        """Each system's record of the entity, with the event that linked it."""
        # DynamoCrossReferences.records_of leaves out linked_by and linked_at, which a trace shows.
        condition = Key("pk").eq(f"CANON#{object_type}#{canonical}") & Key("sk").begins_with("SYS#")
        items = self._read(self._xref_table, "query", KeyConditionExpression=condition)
        return [
            XrefLink(str(i["sk"]).removeprefix("SYS#"), str(i.get("record_id")), i.get("linked_by"), i.get("linked_at"))
            for i in items
        ]

    def lineage(self, object_type: str, canonical: str) -> list[dict[str, Any]]:
        """What the flows did to the entity's records, oldest first: at, system, record_id, event_id,
        event_type, action."""
        with aws_call(f"table {self.names.xref_table}", "dynamodb:Query"):
            entries = self._registry.lineage(object_type, canonical)
        return [
            {"at": e.at.isoformat(), "system": e.system, "record_id": e.record_id, "event_id": e.event_id,
             "event_type": e.event_type, "action": e.action}
            for e in entries
        ]

    # -- change capture ------------------------------------------------------------------

    def checkpoints(self) -> list[dict[str, Any]]:
        """The change-capture poller's last checkpoint per watch."""
        items = self._read(self._checkpoints_table, "scan")
        return _by("watch", ({"watch": i.get("key"), "cursor": i.get("cursor"), "saved_at": i.get("saved_at")}
                             for i in items))

    # -- reads that page ------------------------------------------------------------------

    def _scan_audit(self, condition: ConditionBase) -> list[dict[str, Any]]:
        return self._read(self._audit_table, "scan", FilterExpression=condition)

    @staticmethod
    def _read(table: Any, operation: str, **kwargs: Any) -> list[dict[str, Any]]:
        """Every item a Query or Scan of `table` returns, page after page."""
        items: list[dict[str, Any]] = []
        with aws_call(f"table {table.name}", f"dynamodb:{operation.title()}"):
            while True:
                page = getattr(table, operation)(**kwargs)
                items.extend(page["Items"])
                if "LastEvaluatedKey" not in page:
                    return items
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
