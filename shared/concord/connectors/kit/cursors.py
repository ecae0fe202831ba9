"""A change cursor for sources polled by "modified after" (Salesforce SystemModstamp + Id, Tryton write_date + id).

The position is a timestamp plus the ids already read at exactly that timestamp, so a page that ends
in the middle of several changes sharing one timestamp neither skips nor repeats them. `rewound`
moves the position back by an overlap (to catch changes committed late with earlier timestamps)
while `floor` remembers where reading had got to: `checkpoint` never goes back behind it.

The cursor also remembers the changes it has read within that overlap (`read`: id -> stamp), so a
rewound re-read passes over what was already announced: the same version of a record comes once,
a newer one (or a late commit stamped inside the overlap) comes as new. Only the newest
MAX_REMEMBERED are kept; one dropped is read and announced again (same event ids), never lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, field_serializer, field_validator

from concord.domain import ChangePage, RecordChange

# About 50 bytes each when encoded: 1,000 keep a checkpoint far below DynamoDB's 400 KB item size.
MAX_REMEMBERED = 1000


class TimeCursor(BaseModel):
    model_config = ConfigDict(frozen=True)

    written_at: datetime
    ids_at: frozenset[str] = frozenset()
    floor: TimeCursor | None = None
    read: dict[str, datetime] = {}  # changes read within `window` of the furthest position, by id
    window: timedelta = timedelta(0)  # the overlap a rewound re-read covers

    @field_validator("written_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("written_at must carry a time zone")
        return value

    @field_serializer("ids_at")
    def _sorted_ids(self, ids: frozenset[str]) -> list[str]:
        return sorted(ids)  # a stable encoding for equal cursors

    @field_serializer("read")
    def _sorted_read(self, read: dict[str, datetime]) -> dict[str, datetime]:
        return dict(sorted(read.items()))

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
        """Whether this position is already past the change (id, written_at), or has read it."""
        return (
            written_at < self.written_at
            or (written_at == self.written_at and record_id in self.ids_at)
            or self.read.get(record_id) == written_at
        )

    def advanced(self, changes: Iterable[tuple[str, datetime]]) -> TimeCursor:
        """The position after reading `changes` (id, written_at), oldest first."""
        changes = list(changes)
        written_at, ids_at = self.written_at, set(self.ids_at)
        for record_id, changed_at in changes:
            if changed_at > written_at:
                written_at, ids_at = changed_at, {record_id}
            elif changed_at == written_at:
                ids_at.add(record_id)
        furthest = max(written_at, self.floor.written_at) if self.floor else written_at
        read = remembered({**self.read, **dict(changes)}, since=furthest - self.window)
        position = TimeCursor(written_at=written_at, ids_at=frozenset(ids_at), read=read, window=self.window)
        if self.floor is None:
            return position
        if position.written_at == self.floor.written_at:
            position = position.model_copy(update={"ids_at": position.ids_at | self.floor.ids_at})
        if position.written_at >= self.floor.written_at:
            return position  # the re-read has caught up: the floor is no longer needed
        return position.model_copy(update={"floor": self.floor})

    def rewound(self, overlap: timedelta) -> TimeCursor:
        """A position `overlap` earlier whose floor remembers this one (the furthest floor is kept)
        and which still knows the changes it has read since then."""
        start = self.written_at - overlap
        read = remembered(self.read, since=start)
        return TimeCursor(written_at=start, floor=self.checkpoint, read=read, window=overlap)

    @property
    def checkpoint(self) -> TimeCursor:
        """The position to report as saved progress (never behind the floor), without the memory."""
        furthest = self.floor or self
        return TimeCursor(written_at=furthest.written_at, ids_at=furthest.ids_at)

    def page(self, changes: Sequence[RecordChange], more: bool, limit: int | None = None) -> ChangePage:
        """The page of `changes` read after this position (oldest first): the first `limit` it has
        not read already (a re-read overlap passes over the rest), and the cursor after them and
        every change before them. `more`: the source may hold more (also when a page is cut here)."""
        new: list[RecordChange] = []
        passed = len(changes)
        for index, change in enumerate(changes):
            if self.seen(change.record_id, change.written_at):
                continue
            if limit is not None and len(new) == limit:
                passed, more = index, True
                break
            new.append(change)
        moved = self.advanced((change.record_id, change.written_at) for change in changes[:passed])
        return ChangePage(changes=new, cursor=moved.encode(), more=more)


def remembered(read: Mapping[str, datetime], since: datetime) -> dict[str, datetime]:
    """The changes read at or after `since`, at most MAX_REMEMBERED of them (the newest)."""
    kept = sorted(((at, record_id) for record_id, at in read.items() if at >= since), reverse=True)
    return {record_id: at for at, record_id in kept[:MAX_REMEMBERED]}
