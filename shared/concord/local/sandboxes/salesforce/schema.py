"""Object schemas as a Salesforce org describes them: fields with types, lengths, required and
external-id flags, picklists, references with their relationship names, child relationships.
Names are matched case-insensitively, as SOQL and the REST API do."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class FieldType(StrEnum):
    ID = "id"
    STRING = "string"
    TEXTAREA = "textarea"
    DOUBLE = "double"
    CURRENCY = "currency"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    PICKLIST = "picklist"
    REFERENCE = "reference"


TEXT_TYPES = frozenset({FieldType.ID, FieldType.STRING, FieldType.TEXTAREA, FieldType.PICKLIST, FieldType.REFERENCE})
NUMBER_TYPES = frozenset({FieldType.DOUBLE, FieldType.CURRENCY})


@dataclass(frozen=True)
class SField:
    name: str
    type: FieldType
    length: int | None = None
    required: bool = False  # on create, and cannot be emptied on update
    external_id: bool = False
    unique: bool = False
    picklist: tuple[str, ...] = ()
    restricted: bool = False  # a restricted picklist refuses values outside `picklist`
    references: str | None = None  # the parent object of a reference field
    relationship: str | None = None  # the parent's name in a path (Account, pse__Project__r)
    child_relationship: str | None = None  # the children's name on the parent
    writable: bool = True  # False for system and computed fields
    default: Any = None


@dataclass(frozen=True)
class ChildRelationship:
    name: str
    child: str  # child object name
    field: str  # the child's reference field to the parent


@dataclass
class SObjectType:
    name: str
    key_prefix: str
    fields: dict[str, SField]
    children: dict[str, ChildRelationship] = field(default_factory=dict)

    def field(self, name: str) -> SField | None:
        return self.fields.get(name.lower())

    def relationship(self, name: str) -> SField | None:
        """The reference field whose relationship name is `name` (Account, pse__Project__r)."""
        wanted = name.lower()
        return next((f for f in self.fields.values() if f.relationship and f.relationship.lower() == wanted), None)

    def child(self, name: str) -> ChildRelationship | None:
        return self.children.get(name.lower())


SYSTEM_FIELDS = (
    SField("Id", FieldType.ID, length=18, writable=False),
    SField("CreatedDate", FieldType.DATETIME, writable=False),
    SField("LastModifiedDate", FieldType.DATETIME, writable=False),
    SField("SystemModstamp", FieldType.DATETIME, writable=False),
)


class Schema:
    """The objects of one org, with each reference's child relationship wired to its parent."""

    def __init__(self, objects: Iterable[tuple[str, str, Iterable[SField]]]) -> None:
        self._objects: dict[str, SObjectType] = {}
        for name, prefix, fields in objects:
            all_fields = (*SYSTEM_FIELDS, *fields)
            self._objects[name.lower()] = SObjectType(name, prefix, {f.name.lower(): f for f in all_fields})
        for sobject in self._objects.values():
            for f in sobject.fields.values():
                if f.child_relationship and f.references and (parent := self.get(f.references)):
                    parent.children[f.child_relationship.lower()] = ChildRelationship(
                        f.child_relationship, sobject.name, f.name
                    )

    def get(self, name: str) -> SObjectType | None:
        return self._objects.get(name.lower())

    def by_prefix(self, key_prefix: str) -> SObjectType | None:
        return next((o for o in self._objects.values() if o.key_prefix == key_prefix), None)

    def names(self) -> list[str]:
        return [o.name for o in self._objects.values()]
