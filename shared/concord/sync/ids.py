"""Canonical ids: derived from the authority's own id, so every step computes the same one."""

from __future__ import annotations

import uuid

_NAMESPACE = uuid.UUID("0b9f3c5e-8a51-4b8e-9f0e-3d6b2f7a1c44")


def canonical_id(object_type: str, authority: str, authority_id: str) -> str:
    """e.g. canonical_id("customer", "crm", "42") → "customer-<uuid5>" (stable forever)."""
    return f"{object_type}-{uuid.uuid5(_NAMESPACE, f'{object_type}:{authority}:{authority_id}')}"


def derived_event_id(*parts: str) -> str:
    """Id of an event Concord emits as a consequence of others: stable, so re-emission dedupes."""
    return str(uuid.uuid5(_NAMESPACE, "event:" + ":".join(parts)))
