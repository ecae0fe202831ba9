"""Polling checkpoints (DynamoDB): one item per watch, `key` → cursor."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..domain import ChangeCursor


class DynamoCheckpoints:
    def __init__(self, table: Any) -> None:
        self._table = table

    def load(self, key: str) -> ChangeCursor | None:
        item = self._table.get_item(Key={"key": key}).get("Item")
        if item is None:
            return None
        return ChangeCursor(
            written_at=dt.datetime.fromisoformat(item["written_at"]),
            ids_at_written_at=frozenset(item.get("ids_at_written_at", [])),
        )

    def save(self, key: str, cursor: ChangeCursor) -> None:
        self._table.put_item(
            Item={
                "key": key,
                "written_at": cursor.written_at.isoformat(),
                "ids_at_written_at": sorted(cursor.ids_at_written_at),
                "saved_at": dt.datetime.now(dt.UTC).isoformat(),
            }
        )
