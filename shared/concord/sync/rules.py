"""Per-legal-entity business rules, from configuration (nothing tied to one business unit)."""

from __future__ import annotations

import json
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from ..events.types import CurrencyCode, Name


class LegalEntityRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    currencies: Annotated[list[CurrencyCode], Field(min_length=1)]
    tax_id_required: bool = True
    default_payment_term: Name


_RULES = TypeAdapter(dict[str, LegalEntityRules])


def parse_rules(raw: str | dict) -> dict[str, LegalEntityRules]:
    return _RULES.validate_python(json.loads(raw) if isinstance(raw, str) else raw)
