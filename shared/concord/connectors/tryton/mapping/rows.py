"""What every mapper shares: Tryton rows as the RPC reads them, and the check that what they
hold fits Concord's canonical models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from concord.errors import ValidationFailed

Row = dict[str, Any]


def validated[M: BaseModel](build: type[M], what: str, **values: Any) -> M:
    """Build a canonical model; Tryton data that does not fit it is a ValidationFailed."""
    try:
        return build(**values)
    except ValidationError as exc:
        raise ValidationFailed(f"Tryton {what} does not map to {build.__name__}: {exc}") from exc
