"""Value types shared by the canonical event payloads."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


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
    """Base for every payload model: strict about unknown fields, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


RecordId = Annotated[str, StringConstraints(min_length=1, max_length=128, strip_whitespace=True)]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=255, strip_whitespace=True)]


class Money(CanonicalModel):
    """An amount in one ISO 4217 currency. Decimal, never float."""

    amount: Annotated[Decimal, Field(max_digits=18, decimal_places=4)]
    currency: CurrencyCode


class Address(CanonicalModel):
    street: Name
    city: Name
    postal_code: Annotated[str, StringConstraints(max_length=32)] = ""
    region: Annotated[str, StringConstraints(max_length=64)] = ""
    country: CountryCode


class RecordRef(CanonicalModel):
    """A record in one system, named by that system's own id."""

    system: System
    record_type: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{0,63}$")]
    record_id: RecordId
