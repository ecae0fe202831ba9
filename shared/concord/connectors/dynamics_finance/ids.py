"""Concord's ids of Dynamics 365 Finance records: the entity key with its company in front,
"<dataAreaId>:<key>[:<key>...]" (company ids and these keys hold no colon)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .entities import COMPANY, Entity


def record_id(entity: Entity, row: Mapping[str, Any]) -> str:
    return ":".join([str(row[COMPANY]).lower(), *(str(row[key]) for key in entity.keys)])


def key_values(entity: Entity, record: str) -> dict[str, str] | None:
    """The key fields (company first) an id names, or None for an id of another shape."""
    parts = record.split(":")
    if len(parts) != len(entity.keys) + 1 or not all(parts):
        return None
    return dict(zip((COMPANY, *entity.keys), parts, strict=True))


def odata_literal(value: Any) -> str:
    """A value as an OData URL literal: strings quoted with quotes doubled, numbers and booleans bare."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def key_segment(entity: Entity, keys: Mapping[str, Any], numeric: Sequence[str] = ("LineNumber",)) -> str:
    """`CustomersV3(dataAreaId='usmf',CustomerAccount='C-1')`: the entity's address by its key."""
    parts = []
    for name in (COMPANY, *entity.keys):
        value = keys[name]
        literal = str(value) if name in numeric else odata_literal(str(value))
        parts.append(f"{name}={literal}")
    return f"{entity.name}({','.join(parts)})"


def key_filter(entity: Entity, keys: Mapping[str, Any], numeric: Sequence[str] = ("LineNumber",)) -> str:
    """The `$filter` condition matching one record by its key."""
    terms = []
    for name in (COMPANY, *entity.keys):
        value = keys[name]
        terms.append(f"{name} eq {value if name in numeric else odata_literal(str(value))}")
    return "(" + " and ".join(terms) + ")"
