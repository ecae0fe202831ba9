"""A change cursor for sources polled by "modified after" (Salesforce SystemModstamp + Id, Tryton write_date + id).

The position is a timestamp plus the ids already read at exactly that timestamp, so a page that ends
in the middle of several changes sharing one timestamp neither skips nor repeats them. `rewound`
moves the position back by an overlap (to catch changes committed late with earlier timestamps)
while `floor` remembers where reading had got to: `checkpoint` never goes back behind it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, field_serializer, field_validator


class TimeCursor(BaseModel):
    model_config = ConfigDict(frozen=True)

    written_at: datetime
    ids_at: frozenset[str] = frozenset()
    floor: TimeCursor | None = None

    @field_validator("written_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("written_at must carry a time zone")
        return value

    @field_serializer("ids_at")
    def _sorted_ids(self, ids: frozenset[str]) -> list[str]:
        return sorted(ids)  # a stable encoding for equal cursors

    @classmethod
    def at(cls, moment: datetime) -> TimeCursor:
        """A position at `moment`, before any change written after it."""
        return cls(written_at=moment)

    def encode(self) -> str:
        return self.model_dump_json(exclude_defaults=True)

    @classmethod
    def decode(cls, encoded: str) -> TimeCursor:
        return cls.model_validate_json(encoded)

    def seen(self, record_id: str, written_at: datetime) -> bool:
        """Whether this position is already past the change (id, written_at)."""
        return written_at < self.written_at or (written_at == self.written_at and record_id in self.ids_at)

    def advanced(self, changes: Iterable[tuple[str, datetime]]) -> TimeCursor:
        """The position after reading `changes` (id, written_at), oldest first."""
        written_at, ids_at = self.written_at, set(self.ids_at)
        for record_id, changed_at in changes:
            if changed_at > written_at:
                written_at, ids_at = changed_at, {record_id}
            elif changed_at == written_at:
                ids_at.add(record_id)
        position = TimeCursor(written_at=written_at, ids_at=frozenset(ids_at))
        if self.floor is None:
            return position
        if position.written_at == self.floor.written_at:
            position = TimeCursor(written_at=written_at, ids_at=position.ids_at | self.floor.ids_at)
        if position.written_at >= self.floor.written_at:
            return position  # the re-read has caught up: the floor is no longer needed
        return position.model_copy(update={"floor": self.floor})

    def rewound(self, overlap: timedelta) -> TimeCursor:
        """A position `overlap` earlier whose floor remembers this one (the furthest floor is kept)."""
        return TimeCursor(written_at=self.written_at - overlap, floor=self.checkpoint)

    @property
    def checkpoint(self) -> TimeCursor:
        """The position to report as saved progress: never behind the floor."""
        return self.floor or self.model_copy(update={"floor": None})
