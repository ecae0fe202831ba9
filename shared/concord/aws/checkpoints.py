"""Polling checkpoints (DynamoDB): one item per watch, `key` → the connector's opaque cursor."""

from __future__ import annotations

import datetime as dt
from typing import Any


class DynamoCheckpoints:
    def __init__(self, table: Any) -> None:
        self._table = table

    def load(self, key: str) -> str | None:
        item = self._table.get_item(Key={"key": key}).get("Item")
        return None if item is None else str(item["cursor"])

    def save(self, key: str, cursor: str) -> None:
        self._table.put_item(Item={"key": key, "cursor": cursor, "saved_at": dt.datetime.now(dt.UTC).isoformat()})
