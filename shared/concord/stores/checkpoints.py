"""Polling checkpoints (DynamoDB): one item per watch, key `key` (the watch) → the connector's
opaque cursor and when it was saved. A handful of items: listing them all is a Scan, and the
right one."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..clock import utc_now
from .dynamo import Table

KEY = "key"


class Checkpoint(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    # Named `watch` in code (mypy takes `alias` as the constructor's keyword), `key` in the table.
    watch: str = Field(validation_alias=KEY, serialization_alias=KEY)
    cursor: str
    saved_at: dt.datetime | None = None


class Checkpoints:
    def __init__(self, client: Any, table_name: str) -> None:
        self._table = Table(client, table_name)

    def load(self, watch: str) -> str | None:
        item = self._table.get(watch, key_name=KEY)
        return None if item is None else Checkpoint.model_validate(item).cursor

    def save(self, watch: str, cursor: str) -> None:
        checkpoint = Checkpoint(watch=watch, cursor=cursor, saved_at=utc_now())
        self._table.put(checkpoint.model_dump(mode="json", by_alias=True))

    def all(self) -> list[Checkpoint]:
        """Every watch's last checkpoint, by watch."""
        return sorted((Checkpoint.model_validate(i) for i in self._table.scan()), key=lambda c: c.watch)
