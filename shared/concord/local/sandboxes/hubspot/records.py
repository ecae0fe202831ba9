"""A portal's objects over the kit's record store: property checks, the portal's required-property
rule (enforced from API version 2026-09), associations, and the object shape answers carry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..kit import RecordStore
from .errors import ApiError, bad_request, invalid_properties, not_found
from .schema import ASSOCIATION_TYPES, READ_ONLY, WON_STAGE, ObjectSchema

ASSOCIATIONS = "_associations"  # stored beside the properties: object type -> ids
ENFORCED_FROM = "2026-09"  # https://developers.hubspot.com/changelog/crm-api-write-validation-enforcement


@dataclass
class Objects:
    schema: Mapping[str, ObjectSchema]
    store: RecordStore
    required: Mapping[str, tuple[str, ...]]  # the portal's rule: object type -> properties
    version: str  # the API version of the request

    def object_schema(self, object_type: str) -> ObjectSchema:
        found = self.schema.get(object_type)
        if found is None:
            raise ApiError(400, "VALIDATION_ERROR", f"Unable to infer object type from: {object_type}")
        return found

    def stored(self, object_type: str, object_id: str) -> dict[str, Any] | None:
        self.object_schema(object_type)
        return self.store.get(object_type, object_id)

    def create(
        self, object_type: str, properties: Mapping[str, Any], associations: Iterable[tuple[int, str]] = ()
    ) -> dict[str, Any]:
        values = self.checked(object_type, properties, {})
        links = list(associations)
        for type_id, target in links:
            self._check_association(object_type, type_id, target)
        record = self.store.insert(object_type, {**values, ASSOCIATIONS: {}})
        for type_id, target in links:
            self.associate(object_type, record["id"], ASSOCIATION_TYPES[type_id][1], target)
        return self.store.get(object_type, record["id"]) or record

    def update(self, object_type: str, object_id: str, properties: Mapping[str, Any]) -> dict[str, Any]:
        current = self.stored(object_type, object_id)
        if current is None:
            raise not_found(object_id)
        return self.store.update(object_type, object_id, self.checked(object_type, properties, current))

    def checked(self, object_type: str, properties: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
        """The write's values as HubSpot stores them (strings), or the 400 naming each bad property."""
        schema = self.object_schema(object_type)
        if not isinstance(properties, Mapping):
            raise bad_request("properties must be an object")
        problems: list[tuple[str, str, str]] = []
        values: dict[str, Any] = {}
        for name, value in properties.items():
            if name not in schema.properties:
                problems.append(("PROPERTY_DOESNT_EXIST", name, f'Property "{name}" does not exist'))
            elif name in READ_ONLY:
                problems.append(
                    ("READ_ONLY_VALUE", name, f'"{name}" is a read only property; its value cannot be set.')
                )
            elif value not in (None, "") and name in schema.options and str(value) not in schema.options[name]:
                problems.append(
                    (
                        "INVALID_OPTION",
                        name,
                        f"{value} was not one of the allowed options: {list(schema.options[name])}",
                    )
                )
            else:
                values[name] = (
                    None if value is None else (str(value).lower() if isinstance(value, bool) else str(value))
                )
        if self.version >= ENFORCED_FROM:
            merged = {**current, **values}
            problems += [
                ("REQUIRED_PROPERTY", name, f'Property "{name}" is required by this portal')
                for name in self.required.get(object_type, ())
                if merged.get(name) in (None, "")
            ]
        if problems:
            raise invalid_properties(problems)
        if object_type == "deals" and "dealstage" in values:
            values["hs_is_closed_won"] = "true" if values["dealstage"] == WON_STAGE else "false"
        return values

    def associate(self, object_type: str, object_id: str, to_type: str, to_id: str) -> None:
        """Both sides of an association (HubSpot's default labels are paired)."""
        for one_type, one_id, other_type, other_id in (
            (object_type, object_id, to_type, to_id),
            (to_type, to_id, object_type, object_id),
        ):
            record = self.store.get(one_type, one_id)
            if record is None:
                raise not_found(one_id)
            links = dict(record.get(ASSOCIATIONS) or {})
            links[other_type] = sorted(set(links.get(other_type, [])) | {other_id}, key=int)
            self.store.update(one_type, one_id, {ASSOCIATIONS: links})

    def _check_association(self, object_type: str, type_id: int, target: str) -> None:
        pair = ASSOCIATION_TYPES.get(type_id)
        if pair is None or pair[0] != object_type:
            raise bad_request(f"association type {type_id} does not go from {object_type}")
        if self.store.get(pair[1], target) is None:
            raise ApiError(400, "VALIDATION_ERROR", f"No {pair[1]} with id {target}", context={"ids": [target]})


def rendered(record: Mapping[str, Any], wanted: Iterable[str], associations: Iterable[str] = ()) -> dict[str, Any]:
    """The object as the API answers it: the asked-for properties (null when unset) plus the
    defaults every answer carries, and `associations` when asked for."""
    properties = {name: record.get(name) for name in wanted}
    properties.update(
        hs_object_id=record["id"], createdate=record["createdAt"], hs_lastmodifieddate=record["updatedAt"]
    )
    answer: dict[str, Any] = {
        "id": record["id"],
        "properties": properties,
        "createdAt": record["createdAt"],
        "updatedAt": record["updatedAt"],
        "archived": False,
    }
    links = record.get(ASSOCIATIONS) or {}
    chosen = {kind: links[kind] for kind in associations if links.get(kind)}
    if chosen:
        answer["associations"] = {kind: {"results": [{"id": i} for i in ids]} for kind, ids in chosen.items()}
    return answer


def property_value(record: Mapping[str, Any], name: str) -> Any:
    return {
        "hs_object_id": record["id"],
        "createdate": record["createdAt"],
        "hs_lastmodifieddate": record["updatedAt"],
    }.get(name, record.get(name))


def format_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
