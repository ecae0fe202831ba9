"""The cross-reference registry (DynamoDB): canonical id ⇄ each system's record id.

Items (string keys `pk` / `sk`):
  CANON#<type>#<canonical id> / SYS#<system>   record_id, linked_by (event id), linked_at
  REC#<system>#<type>#<record id> / CANON      canonical_id
Both are written in one transaction, so the two directions never disagree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any


class DynamoCrossReferences:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def link(self, object_type: str, canonical_id: str, system: str, record_id: str, event_id: str) -> None:
        now = dt.datetime.now(dt.UTC).isoformat()
        self._client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {
                            "pk": {"S": f"CANON#{object_type}#{canonical_id}"},
                            "sk": {"S": f"SYS#{system}"},
                            "record_id": {"S": record_id},
                            "linked_by": {"S": event_id},
                            "linked_at": {"S": now},
                        },
                    }
                },
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {
                            "pk": {"S": f"REC#{system}#{object_type}#{record_id}"},
                            "sk": {"S": "CANON"},
                            "canonical_id": {"S": canonical_id},
                        },
                    }
                },
            ]
        )

    def records_of(self, object_type: str, canonical_id: str) -> dict[str, str]:
        response = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"CANON#{object_type}#{canonical_id}"}},
        )
        return {item["sk"]["S"].removeprefix("SYS#"): item["record_id"]["S"] for item in response["Items"]}

    def canonical_of(self, system: str, object_type: str, record_id: str) -> str | None:
        item = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": f"REC#{system}#{object_type}#{record_id}"}, "sk": {"S": "CANON"}}
        ).get("Item")
        return item["canonical_id"]["S"] if item else None
