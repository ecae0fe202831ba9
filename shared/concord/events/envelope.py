"""The canonical event envelope and the event catalog.

Every change travels as one of these. `type` picks the payload model, `version` is the
schema version of that type, and `source_system` is fixed per type: only the system of
record for an object may announce changes to it (docs/architecture.md, "Event catalog").
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import operator
import uuid
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Discriminator, StringConstraints, Tag, TypeAdapter

from . import payloads as p
from .types import RecordId, System

LegalEntity = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]

# Event ids derived from a vendor's delivery id are stable: a redelivered webhook maps to
# the same event id, which every consumer's idempotency is keyed on.
_DELIVERY_NAMESPACE = uuid.UUID("6f1f5d2e-3c1a-4d8e-9b7a-0c6f2a1e9d41")


_NAMESPACE_BYTES = _DELIVERY_NAMESPACE.bytes


def event_id_for_delivery(source: str, delivery_id: str) -> str:
    """uuid5(_DELIVERY_NAMESPACE, "source:delivery_id") as text, computed without uuid.UUID's
    per-call overhead (this runs for every webhook record); test_events checks it against uuid5."""
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + f"{source}:{delivery_id}".encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


class Envelope(BaseModel):
    """Fields every canonical event carries; subclasses pin type, version, producer, data."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: RecordId
    type: str
    version: int
    source_system: System
    occurred_at: AwareDatetime
    correlation_id: RecordId
    causation_id: RecordId | None = None
    legal_entity: LegalEntity
    # When Concord accepted the event (set at ingest); end-to-end latency is measured from it.
    ingested_at: AwareDatetime | None = None
    data: BaseModel

    bus_source_prefix: ClassVar[str] = "concord"

    @property
    def bus_source(self) -> str:
        """EventBridge `source` for this event, e.g. `concord.crm`."""
        return f"{self.bus_source_prefix}.{self.source_system.value}"


class OpportunityClosedWonV1Event(Envelope):
    """Deprecated (concord.events.versions): parsed, then upcast to OpportunityClosedWonEvent."""

    type: Literal["OpportunityClosedWon"] = "OpportunityClosedWon"
    version: Literal[1] = 1
    source_system: Literal[System.CRM] = System.CRM
    data: p.OpportunityClosedWonV1


class OpportunityClosedWonEvent(Envelope):
    type: Literal["OpportunityClosedWon"] = "OpportunityClosedWon"
    version: Literal[2] = 2
    source_system: Literal[System.CRM] = System.CRM
    data: p.OpportunityClosedWon


class AccountChangedEvent(Envelope):
    type: Literal["AccountChanged"] = "AccountChanged"
    version: Literal[1] = 1
    source_system: Literal[System.CRM] = System.CRM
    data: p.AccountChanged


class ContactChangedEvent(Envelope):
    type: Literal["ContactChanged"] = "ContactChanged"
    version: Literal[1] = 1
    source_system: Literal[System.CRM] = System.CRM
    data: p.ContactChanged


class ProjectActivatedEvent(Envelope):
    type: Literal["ProjectActivated"] = "ProjectActivated"
    version: Literal[1] = 1
    source_system: Literal[System.PSA] = System.PSA
    data: p.ProjectActivated


class ContractChangedEvent(Envelope):
    type: Literal["ContractChanged"] = "ContractChanged"
    version: Literal[1] = 1
    source_system: Literal[System.PSA] = System.PSA
    data: p.ContractChanged


class StaffingChangedEvent(Envelope):
    type: Literal["StaffingChanged"] = "StaffingChanged"
    version: Literal[1] = 1
    source_system: Literal[System.PSA] = System.PSA
    data: p.StaffingChanged


class TimeApprovedEvent(Envelope):
    type: Literal["TimeApproved"] = "TimeApproved"
    version: Literal[1] = 1
    source_system: Literal[System.PSA] = System.PSA
    data: p.TimeApproved


class ExpenseApprovedEvent(Envelope):
    type: Literal["ExpenseApproved"] = "ExpenseApproved"
    version: Literal[1] = 1
    source_system: Literal[System.PSA] = System.PSA
    data: p.ExpenseApproved


class InvoicePostedEvent(Envelope):
    type: Literal["InvoicePosted"] = "InvoicePosted"
    version: Literal[1] = 1
    source_system: Literal[System.ERP] = System.ERP
    data: p.InvoicePosted


class PaymentReceivedEvent(Envelope):
    type: Literal["PaymentReceived"] = "PaymentReceived"
    version: Literal[1] = 1
    source_system: Literal[System.ERP] = System.ERP
    data: p.PaymentReceived


class ServiceItemChangedEvent(Envelope):
    type: Literal["ServiceItemChanged"] = "ServiceItemChanged"
    version: Literal[1] = 1
    source_system: Literal[System.ERP] = System.ERP
    data: p.ServiceItemChanged


class SyncExceptionRaisedEvent(Envelope):
    type: Literal["SyncExceptionRaised"] = "SyncExceptionRaised"
    version: Literal[1] = 1
    source_system: Literal[System.CONCORD] = System.CONCORD
    data: p.SyncExceptionRaised


class DriftDetectedEvent(Envelope):
    type: Literal["DriftDetected"] = "DriftDetected"
    version: Literal[1] = 1
    source_system: Literal[System.CONCORD] = System.CONCORD
    data: p.DriftDetected


class ChangeNotifiedEvent(Envelope):
    """Internal: ingress passes records a system named without their content to enrichment."""

    type: Literal["ChangeNotified"] = "ChangeNotified"
    version: Literal[1] = 1
    source_system: Literal[System.CONCORD] = System.CONCORD
    data: p.ChangeNotified


# Every version of every type (each has its schema file); concord.events.versions says which
# version of a type is current, deprecated or retired.
EVENT_MODELS: tuple[type[Envelope], ...] = (
    OpportunityClosedWonV1Event,
    OpportunityClosedWonEvent,
    AccountChangedEvent,
    ProjectActivatedEvent,
    ContractChangedEvent,
    StaffingChangedEvent,
    TimeApprovedEvent,
    ExpenseApprovedEvent,
    InvoicePostedEvent,
    PaymentReceivedEvent,
    SyncExceptionRaisedEvent,
    DriftDetectedEvent,
    ChangeNotifiedEvent,
    ServiceItemChangedEvent,
    ContactChangedEvent,
)


def type_and_version(model: type[Envelope]) -> tuple[str, int]:
    return model.model_fields["type"].default, model.model_fields["version"].default


EVENT_MODEL_BY_VERSION: dict[tuple[str, int], type[Envelope]] = {type_and_version(m): m for m in EVENT_MODELS}
# The newest version of each type: the one producers build (versions.py checks it is the current one).
EVENT_MODEL_BY_TYPE: dict[str, type[Envelope]] = {
    event_type: model for (event_type, _), model in sorted(EVENT_MODEL_BY_VERSION.items())
}


def version_tag(event_type: object, version: object) -> str:
    """The union tag of one version of a type, `OpportunityClosedWon.v2` (also a validation
    error's first location)."""
    return f"{event_type}.v{version}"


def _tag_of(raw: Any) -> str | None:
    if isinstance(raw, Envelope):
        return version_tag(raw.type, raw.version)
    if isinstance(raw, dict):
        # An event without a version predates versions: it is version 1.
        return version_tag(raw.get("type"), raw.get("version", 1))
    return None


# Built from EVENT_MODELS at import time, which a static type checker cannot follow: Any to it.
CanonicalEvent: Any = Annotated[
    functools.reduce(operator.or_, (Annotated[m, Tag(version_tag(*type_and_version(m)))] for m in EVENT_MODELS)),
    Discriminator(_tag_of),
]
_EVENT_ADAPTER: TypeAdapter[Envelope] = TypeAdapter(CanonicalEvent)


def validate_event(raw: dict[str, Any] | str | bytes) -> Envelope:
    """Validate a canonical event of any known type and version, as it is (no upcasting, no
    version policy: concord.events.versions.parse_event applies those); raises pydantic.ValidationError."""
    if isinstance(raw, (str, bytes)):
        return _EVENT_ADAPTER.validate_json(raw)
    return _EVENT_ADAPTER.validate_python(raw)


_PRODUCERS: dict[str, System] = {
    name: System(model.model_fields["source_system"].default) for name, model in EVENT_MODEL_BY_TYPE.items()
}


def producer_of(event_type: str) -> System:
    """The only system allowed to emit `event_type` (KeyError for an unknown type)."""
    return _PRODUCERS[event_type]


def new_event[E: Envelope](
    model: type[E],
    data: BaseModel | dict[str, Any],
    *,
    legal_entity: str,
    occurred_at: dt.datetime,
    event_id: str | None = None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    ingested_at: dt.datetime | None = None,
) -> E:
    """Build an event; a new event starts its own correlation unless it continues one."""
    event_id = event_id or str(uuid.uuid4())
    return model.model_validate(
        {
            "id": event_id,
            "occurred_at": occurred_at,
            "correlation_id": correlation_id or event_id,
            "causation_id": causation_id,
            "legal_entity": legal_entity,
            "ingested_at": ingested_at,
            "data": data,
        }
    )
