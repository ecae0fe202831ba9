"""The system-of-record table as configuration, and the one decision every write goes through.

Each object has one authority (a system); a field may name another. A system may always
write what it owns. Writing a value into a field another system owns is allowed only to
fill it while it is empty there (creating a record is not overwriting anyone); replacing a
value the owner holds is a conflict: refused, and reported for a person.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..events.types import System

OBJECT_TYPES = frozenset(
    {
        "customer",
        "contact",
        "opportunity",
        "project",
        "task",
        "assignment",
        "contract",
        "time_entry",
        "expense",
        "invoice",
        "payment",
        "revenue_schedule",
        "service_item",
    }
)


class ObjectOwnership(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    authority: System
    fields: dict[str, System] = Field(default_factory=dict)

    @field_validator("authority")
    @classmethod
    def _a_business_system(cls, value: System) -> System:
        if value is System.CONCORD:
            raise ValueError("Concord moves records between systems; it is no object's authority")
        return value

    @field_validator("fields")
    @classmethod
    def _field_owners_are_business_systems(cls, value: dict[str, System]) -> dict[str, System]:
        if System.CONCORD in value.values():
            raise ValueError("Concord owns no field")
        return value


class SystemOfRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    comment: str | None = Field(default=None, alias="$comment")
    objects: dict[str, ObjectOwnership]

    @field_validator("objects")
    @classmethod
    def _known_objects_all_present(cls, value: dict[str, ObjectOwnership]) -> dict[str, ObjectOwnership]:
        if unknown := set(value) - OBJECT_TYPES:
            raise ValueError(f"unknown object types {sorted(unknown)}; known: {sorted(OBJECT_TYPES)}")
        if missing := OBJECT_TYPES - set(value):
            raise ValueError(f"no authority named for {sorted(missing)}")
        return value

    def owner(self, object_type: str, field: str | None = None) -> System:
        ownership = self.objects[object_type]
        return ownership.fields.get(field, ownership.authority) if field else ownership.authority

    def markdown(self) -> str:
        """The table as docs/governance.md shows it: each object, its authority, and the fields
        another system owns."""
        rows = ["| object | authority | fields another system owns |", "|---|---|---|"]
        for name, ownership in sorted(self.objects.items()):
            fields = ", ".join(f"`{field}`: {owner.value}" for field, owner in sorted(ownership.fields.items()))
            rows.append(f"| {name} | {ownership.authority.value} | {fields or 'none'} |")
        return "\n".join(rows) + "\n"


@dataclass(frozen=True)
class FieldDecision:
    write: dict[str, Any]  # field -> value to write
    conflicts: dict[str, tuple[Any, Any]]  # field -> (value held by its owner, value refused)
    unchanged: tuple[str, ...]


def decide_fields(
    rules: SystemOfRecord,
    object_type: str,
    source: System,
    incoming: Mapping[str, Any],
    current: Mapping[str, Any],
) -> FieldDecision:
    """What a change announced by `source` may write into another system's record.

    `incoming` holds the source's values, `current` the target's. A field is written when it
    differs and the source owns it, or when the target holds nothing yet. Otherwise, when
    the target itself owns the field it keeps its value and the difference is a conflict;
    when a third system owns it, neither may overwrite the other here: also a conflict.
    """
    write: dict[str, Any] = {}
    conflicts: dict[str, tuple[Any, Any]] = {}
    unchanged: list[str] = []
    for field, value in incoming.items():
        held = current.get(field)
        if value == held or value is None:
            unchanged.append(field)
        elif rules.owner(object_type, field) is source or held in (None, ""):
            write[field] = value
        else:
            conflicts[field] = (held, value)
    return FieldDecision(write=write, conflicts=conflicts, unchanged=tuple(unchanged))


def load_system_of_record(raw: str | Path | Mapping[str, Any]) -> SystemOfRecord:
    """From a JSON file path, a JSON string, or an already-parsed mapping."""
    if isinstance(raw, Path):
        raw = raw.read_text()
    data = json.loads(raw) if isinstance(raw, str) else raw
    return SystemOfRecord.model_validate(data)
