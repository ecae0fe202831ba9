"""Value types shared by the canonical event payloads."""

from __future__ import annotations

import re
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints


class System(StrEnum):
    """The systems Concord connects, and Concord itself as a producer."""

    CRM = "crm"
    PSA = "psa"
    ERP = "erp"
    CONCORD = "concord"


class Severity(StrEnum):
    """Business severity of an exception or drift; alarms route on it."""

    CRITICAL = "critical"
    HIGH = "high"
    WARNING = "warning"
    INFO = "info"


class ErrorClass(StrEnum):
    """Why a sync step failed, which decides whether retrying can help."""

    TRANSIENT = "transient"
    PERMANENT = "permanent"
    VALIDATION = "validation"
    CONFLICT = "conflict"


class CanonicalModel(BaseModel):
    """Base for every payload model: strict about unknown fields, immutable. Each model's validator
    is built when it is first used, so a function builds only the payloads it handles."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


# C0 controls (NUL truncates strings in the systems' databases; tab and newline have no place in
# a one-line name or id), DEL, and the Unicode text-direction controls (embeddings, overrides,
# isolates and marks), which make a name display as something other than what it is.
_CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def joined_lines(text: str) -> str:
    """Multi-line vendor text (a street in a textarea) as one canonical line: its non-empty
    lines joined with ", "."""
    return ", ".join(line.strip() for line in text.splitlines() if line.strip())


def _one_line_of_text(value: str) -> str:
    found = _CONTROL_CHARACTERS.search(value)
    if found:
        raise ValueError(f"must not contain control character U+{ord(found.group()):04X}")
    return value


RecordId = Annotated[
    str, StringConstraints(min_length=1, max_length=128, strip_whitespace=True), AfterValidator(_one_line_of_text)
]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Name = Annotated[
    str, StringConstraints(min_length=1, max_length=255, strip_whitespace=True), AfterValidator(_one_line_of_text)
]
# A short free-text field of an address (postal code, region): same rule, may be empty.
ShortText = Annotated[str, AfterValidator(_one_line_of_text)]


class Money(CanonicalModel):
    """An amount in one ISO 4217 currency. Decimal, never float."""

    amount: Annotated[Decimal, Field(max_digits=18, decimal_places=4)]
    currency: CurrencyCode


class Address(CanonicalModel):
    street: Name
    city: Name
    postal_code: Annotated[ShortText, StringConstraints(max_length=32)] = ""
    region: Annotated[ShortText, StringConstraints(max_length=64)] = ""
    country: CountryCode


class RecordRef(CanonicalModel):
    """A record in one system, named by that system's own id."""

    system: System
    record_type: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{0,63}$")]
    record_id: RecordId
