"""What the ERP roles share: the environment's client and connection, reads by key, and writes
guarded by the entity's ETag."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from concord.errors import ValidationFailed

from ..kit.errors import Conflict, NotFound
from .client import FinanceClient, Row
from .connection import FinanceConnection, ServiceItem
from .entities import ETAG, Entity
from .ids import key_segment, key_values, odata_literal


class ErpSession:
    def __init__(self, client: FinanceClient, connection: FinanceConnection) -> None:
        self.client = client
        self.connection = connection

    def read(self, entity: Entity, record: str) -> Row:
        """The entity an id names (NotFound when there is none or the id is not of its shape)."""
        keys = key_values(entity, record)
        if keys is None:
            raise NotFound(f"dynamics_finance: {record!r} is not a {entity.name} id")
        return self.client.get(key_segment(entity, keys))

    def find(self, entity: Entity, record: str) -> Row | None:
        try:
            return self.read(entity, record)
        except NotFound:
            return None

    def write(self, entity: Entity, record: str, changes: Mapping[str, Any]) -> None:
        """PATCH with the ETag just read; a change made in between (412) is read again and the
        write tried once more, as the fields Concord writes are its own to set."""
        for attempt in (1, 2):
            row = self.read(entity, record)
            try:
                self.client.update(
                    key_segment(entity, key_values(entity, record) or {}), changes, etag=str(row.get(ETAG, "*"))
                )
                return
            except Conflict:
                if attempt == 2:
                    raise

    def companies(self) -> list[str]:
        """The companies Concord writes to (the default and every mapped one)."""
        return sorted(
            {self.connection.default_company.lower(), *(c.lower() for c in self.connection.companies.values())}
        )

    def in_companies(self) -> str:
        return "(" + " or ".join(f"dataAreaId eq {odata_literal(c)}" for c in self.companies()) + ")"

    def service_items(self, names: Iterable[str]) -> dict[str, ServiceItem]:
        """How each service item is billed; ValidationFailed names the ones not mapped."""
        names = list(names)
        unknown = sorted(set(names) - set(self.connection.service_items))
        if unknown:
            raise ValidationFailed(f"dynamics_finance: no main account mapped for service item {', '.join(unknown)}")
        return {name: self.connection.service_items[name] for name in names}
