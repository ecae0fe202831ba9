"""A change cursor for sources polled by "modified after" (a write time and the ids at it).

Salesforce's SystemModstamp + Id and Tryton's write_date + id are such sources. The cursor is
opaque to sync logic: connectors hand out `encode()`d strings and `decode()` what comes back.

Records sharing a write time are neither skipped nor announced twice: the cursor keeps the ids
already seen at its time, and a source reads `written_at > t OR (written_at = t AND id NOT IN
ids_at)`, oldest first. A run may re-read an overlap before its checkpoint (`rewound`): the
cursors it hands out then remember the checkpoint as their `floor` until the re-read passes it,
so a saved checkpoint never moves back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict


class TimeCursor(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    written_at: dt.datetime
    ids_at: frozenset[str] = frozenset()
    floor: TimeCursor | None = None  # the checkpoint a re-read of an overlap has not passed yet

    @classmethod
    def at(cls, moment: dt.datetime) -> TimeCursor:
        return cls(written_at=moment)

    @classmethod
    def decode(cls, cursor: str) -> TimeCursor:
        return cls.model_validate_json(cursor)

    def encode(self) -> str:
        return self.model_dump_json(exclude_defaults=True)

    def checkpoint(self) -> TimeCursor:
        """The position to resume from: the floor while the cursor is behind it."""
        return self.floor if self.floor is not None else self

    def rewound(self, overlap: dt.timedelta) -> TimeCursor:
        """`overlap` before the checkpoint, remembering the checkpoint as the floor."""
        base = self.checkpoint()
        return TimeCursor(written_at=base.written_at - overlap, floor=base)

    def advanced(self, changes: Sequence[tuple[str, dt.datetime]]) -> TimeCursor:
        """The cursor after a page of (record id, write time) changes, oldest first."""
        if not changes:
            return self
        last = changes[-1][1]
        ids = {record_id for record_id, written_at in changes if written_at == last}
        if last == self.written_at:
            ids |= self.ids_at
        moved = TimeCursor(written_at=last, ids_at=frozenset(ids))
        if self.floor is not None and moved._behind(self.floor):
            return moved.model_copy(update={"floor": self.floor})
        return moved

    def _behind(self, other: TimeCursor) -> bool:
        return self.written_at < other.written_at or (
            self.written_at == other.written_at and not self.ids_at >= other.ids_at
        )
