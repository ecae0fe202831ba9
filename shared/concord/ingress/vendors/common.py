"""Bits the vendor payload models and mappers share."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from ..canonical import validation_details
from ..errors import InvalidEvent

__all__ = ["Text", "VendorModel", "canonical_json", "parse_vendor", "parse_vendor_datetime"]

# A short vendor string (ids, type names, references), printable and bounded.
Text = Annotated[str, StringConstraints(min_length=1, max_length=512)]


class VendorModel(BaseModel):
    """Base of raw vendor payload models: unknown fields are ignored, the ones used are checked."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


def parse_vendor(model: type[BaseModel], payload: Any, what: str) -> Any:
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        raise InvalidEvent(f"body is not a {what}", validation_details(error)) from error


# Built once: json.dumps with options builds a new encoder on every call.
_CANONICAL_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def canonical_json(value: Any) -> bytes:
    """A stable serialization (sorted keys, no spaces) for hashing parsed content."""
    return _CANONICAL_ENCODER.encode(value).encode()


def parse_vendor_datetime(raw: str | None, default: dt.datetime) -> dt.datetime:
    """A vendor timestamp as an aware datetime (UTC when the vendor omits the zone)."""
    if not raw:
        return default
    try:
        moment = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return default
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
