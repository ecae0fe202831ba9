"""A rendered vendor request and the stable text golden files and diffs are made of."""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict


def placeholder(what: str) -> str:
    """Stands for a value Concord learns at run time only (a vendor id from the cross-reference
    registry or a lookup, a record read from the CRM): stable, and plainly no real value."""
    return f"<{what}>"


class VendorRequest(BaseModel):
    """One request a connector sends: `path` relative to the vendor account's base URL (or, for
    Tryton's JSON-RPC, the RPC method), `body` as the mapper made it."""

    model_config = ConfigDict(frozen=True)

    operation: str
    method: str
    path: str
    body: Any


def _plain(value: Any) -> Any:
    """JSON-ready and order-independent: decimals as text, sets sorted."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(_plain(v) for v in value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def stable_text(value: Any) -> str:
    """Indented JSON with sorted keys and a final newline: the same value always gives the same
    text, and a changed field shows as its own line in a diff."""
    return json.dumps(_plain(value), indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def unified_diff(before: str, after: str, before_label: str, after_label: str) -> str:
    """A unified diff of two texts ("" when equal)."""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), before_label, after_label
    )
    return "".join(lines)
