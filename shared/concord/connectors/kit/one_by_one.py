"""Batched port writes for a vendor with no batch operation: one call per record, each
record's failure kept apart so one bad record does not fail the others."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from concord.errors import ConcordError


def write_each[V](values: Mapping[str, V], write: Callable[[str, V], None]) -> dict[str, ConcordError]:
    """Write each (record id, value); the failures by record id (empty: all written)."""
    failed: dict[str, ConcordError] = {}
    for record_id, value in values.items():
        try:
            write(record_id, value)
        except ConcordError as error:
            failed[record_id] = error
    return failed
